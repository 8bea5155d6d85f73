import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { NoTenant } from '../decorators/no-tenant.decorator';
import { TenancyError } from '../errors/tenancy.errors';
import { TenancyRequestBinder } from './tenancy-request.binder';
import { TenantResolver, toTenancyRequest } from './tenant-resolver';

/**
 * Resolves the tenant of each HTTP request and fills it into the request's frame. Registered globally by
 * TenancyModule and exported: another guard that needs the tenant (RulesModule's) injects it and awaits
 * `canActivate()` first, which resolves at most once per request, whatever order global guards run in.
 * Routes marked `@NoTenant()` get none.
 */
@Injectable()
export class TenancyGuard implements CanActivate {
  constructor(
    protected readonly binder: TenancyRequestBinder,
    protected readonly resolver: TenantResolver,
    protected readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    if (!this.binder.pending()) return true;
    if (this.reflector.getAllAndOverride(NoTenant, [context.getHandler(), context.getClass()])) {
      this.binder.release();
      return true;
    }
    const request = toTenancyRequest(context.switchToHttp().getRequest());
    try {
      const { tenantIds, actor } = await this.resolver.resolve(request);
      this.binder.resolve(tenantIds, actor);
    } catch (err) {
      if (err instanceof TenancyError) {
        this.binder.events.report(
          { type: 'resolution.failed', error: err.name, message: err.message },
          this.binder.frame(),
        );
      }
      throw err;
    }
    return true;
  }
}
