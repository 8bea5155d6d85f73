import { Inject, Injectable } from '@nestjs/common';
import type { Actor } from '../context/tenancy-context.interface';
import {
  InvalidTenantIdError,
  MultipleTenantsNotAllowedError,
  TenancyConfigurationError,
  TenantAccessDeniedError,
  TenantNotResolvedError,
  UnknownTenantError,
} from '../errors/tenancy.errors';
import { DEFAULT_TENANT_ID_PATTERN } from '../tenancy.constants';
import { TENANCY_MODULE_OPTIONS } from '../tenancy.module-definition';
import type { TenancyModuleOptions } from '../tenancy-options.interface';
import type { TenancyRequest, TenantResolutionStrategy } from './tenant-resolution.interface';
import { fromHeader } from './tenant-resolution.strategies';

/** A request's resolved tenancy. */
export interface ResolvedTenancy {
  readonly tenantIds: readonly string[];
  readonly actor: Actor | undefined;
}

/**
 * Runs the configured strategies over a request, checks the tenant ids' syntax and asks the validator.
 * Subclass it and override the protected hooks to change a step.
 */
@Injectable()
export class TenantResolver {
  protected readonly strategies: TenantResolutionStrategy[];
  protected readonly pattern: RegExp;

  constructor(@Inject(TENANCY_MODULE_OPTIONS) protected readonly options: TenancyModuleOptions) {
    if (!options.validateTenant && !options.acceptAnyTenant) {
      throw new TenancyConfigurationError(
        'TenancyModule.forRoot() needs validateTenant (does the tenant exist, may the caller act in it?) ' +
          'or acceptAnyTenant: true to accept any well-formed tenant id.',
      );
    }
    this.strategies = options.strategies?.length ? options.strategies : [fromHeader()];
    this.pattern = options.tenantIdPattern ?? DEFAULT_TENANT_ID_PATTERN;
  }

  /** Resolves, checks and validates the tenant(s) of a request. Throws a `TenantResolutionError` to refuse it. */
  async resolve(request: TenancyRequest): Promise<ResolvedTenancy> {
    let tenant: { value: string | readonly string[]; source: string } | undefined;
    let actor: Actor | undefined;
    for (const strategy of this.strategies) {
      const result = await strategy.resolve(request);
      if (!result) continue;
      if (!tenant && result.tenant !== undefined) tenant = { value: result.tenant, source: strategy.name };
      if (!actor && result.actor) actor = result.actor;
    }
    actor ??= this.options.resolveActor?.(request);
    if (!tenant) {
      const unauthenticated = !actor && this.strategies.some((s) => s.authenticates);
      throw new TenantNotResolvedError(
        this.strategies.map((s) => s.name),
        unauthenticated,
      );
    }
    const tenantIds = this.checkSyntax(tenant.value, tenant.source);
    for (const tenantId of tenantIds) await this.validate(tenantId, actor, request);
    return { tenantIds, actor };
  }

  /** Checks the tenant ids' syntax; rejects several unless allowed. */
  protected checkSyntax(value: string | readonly string[], source: string): string[] {
    const ids = typeof value === 'string' ? [value] : [...value];
    if (ids.length === 0) throw new InvalidTenantIdError(source);
    for (const id of ids) {
      if (typeof id !== 'string' || !this.pattern.test(id)) throw new InvalidTenantIdError(source);
    }
    const unique = [...new Set(ids)];
    if (unique.length > 1 && !this.options.allowMultipleTenants) throw new MultipleTenantsNotAllowedError();
    return unique;
  }

  /** Asks the configured validator about one tenant. */
  protected async validate(
    tenantId: string,
    actor: Actor | undefined,
    request: TenancyRequest,
  ): Promise<void> {
    if (!this.options.validateTenant) return;
    const verdict = await this.options.validateTenant({ tenantId, actor, request });
    if (verdict === 'allow') return;
    if (verdict === 'unknown-tenant') throw new UnknownTenantError();
    throw new TenantAccessDeniedError();
  }
}

/** Reads the strategy-facing view of an Express or Fastify request. @internal */
export function toTenancyRequest(raw: unknown): TenancyRequest {
  const req = raw as {
    headers?: Record<string, string | string[] | undefined>;
    params?: Record<string, string | undefined>;
    user?: unknown;
  };
  const headers = req.headers ?? {};
  const hostHeader = headers['host'];
  const host = (Array.isArray(hostHeader) ? hostHeader[0] : hostHeader) ?? '';
  return {
    headers,
    hostname: host.replace(/:\d+$/, ''),
    params: req.params ?? {},
    user: req.user,
    raw,
  };
}
