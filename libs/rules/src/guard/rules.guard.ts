import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { TenancyGuard, TenancyService } from '@bulkhead/tenancy';
import { Public, RequirePermission, RequireRole } from '../decorators/rules.decorators';
import { AccessDeniedError, PrincipalMissingError } from '../errors/rules.errors';
import { RULES_MODULE_OPTIONS } from '../rules.module-definition';
import type { RulesModuleOptions } from '../rules-options.interface';
import { RulesService } from '../rules.service';

/** What a route requires, from its decorators (handler over class). */
export interface RouteRequirement {
  readonly roles?: readonly string[];
  readonly permissions?: readonly string[];
  readonly isPublic: boolean;
}

/**
 * The global rules guard: reads `@Public()`, `@RequireRole()` and `@RequirePermission()` with
 * `getAllAndOverride(handler, class)` and decides for the principal of the tenancy context
 * (`TenancyService.current().actor`) in its tenant. It makes sure the tenancy guard has resolved the request's
 * tenant and actor first, whatever order the global guards run in. No principal: `PrincipalMissingError`
 * (401); deny: `AccessDeniedError` (403). Subclass it and override the protected hooks to change a step.
 */
@Injectable()
export class RulesGuard implements CanActivate {
  constructor(
    protected readonly rules: RulesService,
    protected readonly tenancy: TenancyService,
    protected readonly reflector: Reflector,
    protected readonly tenancyGuard: TenancyGuard,
    @Inject(RULES_MODULE_OPTIONS) protected readonly options: RulesModuleOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const requirement = this.requirement(context);
    if (requirement.isPublic) return true;
    if (!requirement.roles && !requirement.permissions) {
      if (!this.options.denyWithoutDecorator) return true;
      throw new AccessDeniedError(
        '(route)',
        [],
        'the route carries no rules decorator and denyWithoutDecorator is on',
      );
    }
    // the tenancy guard is idempotent: when it already ran this returns at once
    await this.tenancyGuard.canActivate(context);
    const current = this.tenancy.current();
    const principal = current?.actor;
    if (!principal) throw new PrincipalMissingError();
    const tenantId = current?.tenantId;
    if (tenantId === undefined) {
      throw new AccessDeniedError(
        '(route)',
        [],
        'roles are held per tenant and the request has no single tenant',
      );
    }
    const allowed = await this.rules.guardDecision(
      principal,
      tenantId,
      requirement,
      this.requestContext(context),
    );
    if (!allowed) {
      throw new AccessDeniedError(
        [...(requirement.roles ?? []).map((r) => `role:${r}`), ...(requirement.permissions ?? [])].join(', '),
        [],
        'the route requirement is not met',
      );
    }
    return true;
  }

  /** The route's requirement, handler decorators overriding class ones. */
  protected requirement(context: ExecutionContext): RouteRequirement {
    const targets = [context.getHandler(), context.getClass()];
    return {
      isPublic: this.reflector.getAllAndOverride(Public, targets) === true,
      roles: this.reflector.getAllAndOverride(RequireRole, targets),
      permissions: this.reflector.getAllAndOverride(RequirePermission, targets),
    };
  }

  /** The `context.*` conditions see for route-level checks: method, path and client address. */
  protected requestContext(context: ExecutionContext): Readonly<Record<string, unknown>> {
    const req = context.switchToHttp().getRequest<{ method?: string; url?: string; ip?: string }>();
    return { method: req.method, path: req.url?.split('?')[0], ip: req.ip };
  }
}
