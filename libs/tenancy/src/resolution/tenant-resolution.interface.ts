import type { Actor } from '../context/tenancy-context.interface';

/** The parts of an HTTP request (Express or Fastify) that strategies read. */
export interface TenancyRequest {
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Host name without the port. */
  readonly hostname: string;
  /** Route parameters. */
  readonly params: Readonly<Record<string, string | undefined>>;
  /** What an authentication guard or middleware set as `request.user`, if anything. */
  readonly user: unknown;
  /** The framework's own request object. */
  readonly raw: unknown;
}

/** What one strategy found. Both parts are optional: a JWT strategy may supply only the actor. */
export interface StrategyResult {
  /** The tenant(s) the request names. */
  readonly tenant?: string | readonly string[];
  /** The authenticated actor. */
  readonly actor?: Actor;
  /** Verified claims, when the strategy verified a token. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/**
 * One way of finding a request's tenant. Strategies run in the order given; the first tenant found wins and
 * the first actor found wins (so a header can pick the tenant while a token supplies the actor). Throw a
 * `TenantResolutionError` to refuse the request (for example an invalid token).
 */
export interface TenantResolutionStrategy {
  /** Name used in error messages and events. */
  readonly name: string;
  /** true when this strategy authenticates the caller: no actor then means 401 rather than 400. */
  readonly authenticates?: boolean;
  resolve(request: TenancyRequest): StrategyResult | undefined | Promise<StrategyResult | undefined>;
}

/** Outcome of {@link TenantValidator}. */
export type TenantValidation = 'allow' | 'unknown-tenant' | 'not-member';

/** What the validator is asked about. */
export interface TenantValidationInput {
  readonly tenantId: string;
  readonly actor: Actor | undefined;
  readonly request: TenancyRequest;
}

/**
 * Decides whether a resolved tenant exists and the caller may act in it. `'unknown-tenant'` answers 400,
 * `'not-member'` answers 403. Called once per tenant per request.
 */
export type TenantValidator = (input: TenantValidationInput) => TenantValidation | Promise<TenantValidation>;
