import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { NoTenant } from '../decorators/no-tenant.decorator';
import { TenancyError } from '../errors/tenancy.errors';
import { TenancyService } from '../tenancy.service';
import { TenantResolver, toTenancyRequest } from './tenant-resolver';

/**
 * Resolves the tenant of each HTTP request and fills it into the request's frame, before any other guard,
 * interceptor or handler of the app runs. Routes marked `@NoTenant()` get none.
 */
@Injectable()
export class TenancyGuard implements CanActivate {
  constructor(
    protected readonly tenancy: TenancyService,
    protected readonly resolver: TenantResolver,
    protected readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    if (!this.tenancy.requestPending()) return true;
    if (this.reflector.getAllAndOverride(NoTenant, [context.getHandler(), context.getClass()])) {
      this.tenancy.releaseWithoutTenant();
      return true;
    }
    const request = toTenancyRequest(context.switchToHttp().getRequest());
    try {
      const { tenantIds, actor } = await this.resolver.resolve(request);
      this.tenancy.resolveRequest(tenantIds, actor);
    } catch (err) {
      if (err instanceof TenancyError) {
        this.tenancy.emit({ type: 'resolution.failed', error: err.name, message: err.message });
      }
      throw err;
    }
    return true;
  }
}
