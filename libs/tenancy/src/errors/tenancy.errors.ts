/**
 * Every failure of the tenancy layer is one of these named classes. Library errors are not HTTP errors:
 * {@link TenancyExceptionFilter} maps them to status codes at the edge.
 */
export abstract class TenancyError extends Error {
  protected constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A tenant-aware entity was read or written with no tenant in context. Raised before any SQL runs. */
export class MissingTenantContextError extends TenancyError {
  constructor(readonly entity: string) {
    super(
      `No tenant in context for an operation on tenant-aware entity "${entity}". ` +
        'Run it inside a request that resolves a tenant, inside TenancyService.run({ tenant }, fn) for jobs and scripts, ' +
        'or, if it must see every tenant, inside TenancyService.runUnscoped(reason, fn).',
    );
  }
}

/** A write names a tenant other than the one(s) in context, or tries to change a row's tenant. */
export class CrossTenantAccessError extends TenancyError {
  constructor(
    readonly entity: string,
    detail: string,
  ) {
    super(
      `Cross-tenant write refused on "${entity}": ${detail}. ` +
        'Leave the tenant column unset (it is filled from the context) or run the write inside ' +
        'TenancyService.run({ tenant }, fn) for the tenant it belongs to. The tenant of an existing row never changes.',
    );
  }
}

/** A write ran with several tenants in context and did not say which one it is for. */
export class AmbiguousTenantWriteError extends TenancyError {
  constructor(
    readonly entity: string,
    readonly tenants: readonly string[],
  ) {
    super(
      `A write to "${entity}" ran with ${tenants.length} tenants in context; writes must name one. ` +
        'Set the tenant column to one of the tenants in context, or narrow the context with ' +
        'TenancyService.run({ tenant }, fn) around the write.',
    );
  }
}

/** A tenant-aware entity was used on a DataSource that TenancyModule was not attached to. */
export class TenancyNotAttachedError extends TenancyError {
  constructor(readonly entity: string) {
    super(
      `Entity "${entity}" is @TenantAware() but its DataSource is not attached to Bulkhead. ` +
        'Import TenancyModule.forRoot() in the module that owns the DataSource (option dataSources names extra ones), ' +
        'or call TenancyService.attach(dataSource) in scripts.',
    );
  }
}

/** Raw SQL on a tenant-aware table ran inside a tenant context while the RLS backstop is off. */
export class RawSqlRefusedError extends TenancyError {
  constructor(readonly tables: readonly string[]) {
    super(
      `Raw SQL touching tenant-aware table(s) ${tables.map((t) => `"${t}"`).join(', ')} was refused: ` +
        'with the row-level-security backstop off nothing scopes it. Use the repository or a query builder, ' +
        'turn the backstop on (TenancyModule.forRoot({ rls: true })), or, after checking the statement filters by tenant ' +
        'itself, wrap the call in TenancyService.runWithRawSql(reason, fn).',
    );
  }
}

/** Binding the tenant on a pooled connection failed; the statement that needed it did not run. */
export class TenantBindingError extends TenancyError {
  constructor(override readonly cause: unknown) {
    super(
      `Binding the tenant on the database connection failed (${String((cause as Error)?.message ?? cause)}); ` +
        'the statement was not sent. Check that the database is reachable and the role may call set_config().',
    );
  }
}

/** Row-level security is on but the database is not set up for it. Raised at start-up. */
export class RlsMisconfiguredError extends TenancyError {
  constructor(
    readonly problems: readonly string[],
    readonly fix: string,
  ) {
    super(
      `Row-level security backstop is on but the database is not ready:\n- ${problems.join('\n- ')}\n${fix}`,
    );
  }
}

/** TenancyModule options are contradictory or incomplete. Raised at start-up. */
export class TenancyConfigurationError extends TenancyError {
  constructor(message: string) {
    super(message);
  }
}

/** Base of the errors raised while resolving the tenant of a request. */
export abstract class TenantResolutionError extends TenancyError {}

/** No strategy found a tenant for a request that needs one. HTTP 400, or 401 when unauthenticated. */
export class TenantNotResolvedError extends TenantResolutionError {
  constructor(
    readonly strategies: readonly string[],
    /** true when the API authenticates callers and this one presented no valid credentials (HTTP 401) */
    readonly unauthenticated: boolean,
  ) {
    super(
      `No tenant could be resolved for this request (tried: ${strategies.join(', ') || 'no strategy'}). ` +
        'Send the tenant as the API expects (for example the X-Tenant-ID header or a token with a tenant claim), ' +
        'or mark the route @NoTenant() if it needs none.',
    );
  }
}

/** The tenant value is not a well-formed tenant id (empty, too long, bad characters or encoding). HTTP 400. */
export class InvalidTenantIdError extends TenantResolutionError {
  constructor(readonly source: string) {
    super(
      `The tenant id from ${source} is not well-formed. Tenant ids are 1-64 characters of letters, digits, ` +
        "'_', '-' and '.' (TenancyModule option tenantIdPattern changes this).",
    );
  }
}

/** The tenant id is well-formed but no such tenant exists. HTTP 400. */
export class UnknownTenantError extends TenantResolutionError {
  constructor() {
    super('The requested tenant does not exist. Check the tenant id the client sends.');
  }
}

/** The caller may not act in the requested tenant (not a member). HTTP 403. */
export class TenantAccessDeniedError extends TenantResolutionError {
  constructor() {
    super('You are not a member of the requested tenant. Ask an owner of that tenant for access.');
  }
}

/** The request asked for several tenants but multi-tenant requests are off. HTTP 400. */
export class MultipleTenantsNotAllowedError extends TenantResolutionError {
  constructor() {
    super(
      'This request names several tenants, which this API does not accept. Send one tenant ' +
        '(TenancyModule option allowMultipleTenants enables several).',
    );
  }
}

/** A bearer token could not be verified (bad signature, expired, unsecured, wrong issuer or audience). HTTP 401. */
export class InvalidTenantTokenError extends TenantResolutionError {
  constructor(readonly reason: string) {
    super(`The bearer token could not be verified (${reason}). Sign in again to get a valid token.`);
  }
}

/** A tenant context was needed but no request context was bound (middleware missing for the route). */
export class TenancyContextNotBoundError extends TenancyError {
  constructor() {
    super(
      'No tenancy context is bound for this request: TenancyMiddleware did not run for the route. ' +
        'Do not exclude routes from TenancyModule middleware; mark them @NoTenant() instead.',
    );
  }
}
