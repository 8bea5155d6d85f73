import type { DataSource } from 'typeorm';
import type { Actor } from './context/tenancy-context.interface';
import type { TenancyEventListener } from './events/tenancy-events';
import type {
  TenancyRequest,
  TenantResolutionStrategy,
  TenantValidator,
} from './resolution/tenant-resolution.interface';

/** Options of `TenancyModule.forRoot()` / `forRootAsync()`. */
export interface TenancyModuleOptions {
  /**
   * How a request's tenant is found, in order: the first strategy that finds a tenant wins, the first that
   * finds an actor supplies it. Default: `[fromHeader('X-Tenant-ID')]`.
   */
  strategies?: TenantResolutionStrategy[];
  /**
   * Decides whether a resolved tenant exists and the caller may act in it. Required unless
   * `acceptAnyTenant` is true: without it an unknown tenant cannot be refused.
   */
  validateTenant?: TenantValidator;
  /** Accept any well-formed tenant id without validation (tests, single-trust setups). Default: `false`. */
  acceptAnyTenant?: boolean;
  /** Finds the actor when no strategy supplies one (for example from `request.user`). Default: none. */
  resolveActor?: (request: TenancyRequest) => Actor | undefined;
  /** Syntax a tenant id must match, checked before validation. Default: `DEFAULT_TENANT_ID_PATTERN`. */
  tenantIdPattern?: RegExp;
  /** Accept requests that name several tenants (read fan-out; writes must name one). Default: `false`. */
  allowMultipleTenants?: boolean;
  /**
   * Turn on the PostgreSQL row-level-security backstop: the tenant is bound on every connection for every
   * statement (raw SQL included) and start-up refuses a role that bypasses RLS or a tenant-aware table
   * without its policy. Default: `false` (then raw SQL on tenant-aware tables inside a tenant context is
   * refused unless run in `runWithRawSql()`).
   */
  rls?: boolean;
  /**
   * DataSources to scope, by @nestjs/typeorm name or instance. Default: `['default']`. Tenant-aware entities
   * on any other DataSource refuse every query with `TenancyNotAttachedError`.
   */
  dataSources?: (string | DataSource)[];
  /** Security event listeners. More can subscribe at run time with `TenancyService.subscribe()`. */
  listeners?: TenancyEventListener[];
  /** Header carrying an incoming correlation id (kept when well-formed, else a UUID). Default: `'x-request-id'`. */
  correlationIdHeader?: string;
  /** Register the tenant-resolving guard globally (APP_GUARD). Default: `true`. */
  registerGuard?: boolean;
  /** Register the exception filter that maps tenancy errors to HTTP statuses (APP_FILTER). Default: `true`. */
  registerExceptionFilter?: boolean;
}
