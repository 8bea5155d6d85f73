import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { Actor, ActorType } from '../context/tenancy-context.interface';
import { InvalidTenantTokenError } from '../errors/tenancy.errors';
import { DEFAULT_TENANT_HEADER } from '../tenancy.constants';
import type { StrategyResult, TenancyRequest, TenantResolutionStrategy } from './tenant-resolution.interface';

function splitList(value: string): string[] {
  return value.split(',').map((v) => v.trim());
}

function headerValue(request: TenancyRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * The tenant from a header (default `X-Tenant-ID`). A comma-separated list names several tenants.
 */
export function fromHeader(header: string = DEFAULT_TENANT_HEADER): TenantResolutionStrategy {
  return {
    name: `header ${header}`,
    resolve: (request) => {
      const value = headerValue(request, header);
      return value === undefined ? undefined : { tenant: splitList(value) };
    },
  };
}

/** Options of {@link fromHost}. */
export interface HostStrategyOptions {
  /** Base domain: `acme.app.example.com` with base `app.example.com` gives `acme`. */
  readonly baseDomain?: string;
  /** Or a pattern whose first capture group is the tenant. */
  readonly pattern?: RegExp;
}

/** The tenant from the host name: a sub-domain of `baseDomain`, or the first group of `pattern`. */
export function fromHost(options: HostStrategyOptions): TenantResolutionStrategy {
  const base = options.baseDomain?.toLowerCase().replace(/^\./, '');
  return {
    name: 'host',
    resolve: (request) => {
      const host = request.hostname.toLowerCase();
      if (options.pattern) {
        const match = options.pattern.exec(host);
        return match?.[1] ? { tenant: match[1] } : undefined;
      }
      if (base && host.endsWith(`.${base}`)) {
        const sub = host.slice(0, -(base.length + 1));
        return sub && !sub.includes('.') ? { tenant: sub } : undefined;
      }
      return undefined;
    },
  };
}

/** The tenant from a route parameter (default `tenantId`, as in `/tenants/:tenantId/...`). */
export function fromRouteParam(param = 'tenantId'): TenantResolutionStrategy {
  return {
    name: `route parameter ${param}`,
    resolve: (request) => {
      const value = request.params[param];
      return value === undefined ? undefined : { tenant: value };
    },
  };
}

/** The tenant from your own function. Return `undefined` when the request does not name one. */
export function fromCustom(
  name: string,
  resolve: (request: TenancyRequest) => StrategyResult | undefined | Promise<StrategyResult | undefined>,
): TenantResolutionStrategy {
  return { name, resolve };
}

/** Options of {@link fromJwt}. */
export interface JwtStrategyOptions {
  /** Claim holding the tenant (a string or an array of strings). Default: `'tid'`. */
  readonly claim?: string;
  /** Claim holding the actor id. Default: `'sub'`. */
  readonly actorClaim?: string;
  /** Actor type recorded for token holders. Default: `'user'`. */
  readonly actorType?: ActorType;
  /** HMAC secret for HS256/384/512 tokens. */
  readonly secret?: string | Uint8Array;
  /** JWKS endpoint for asymmetric tokens. */
  readonly jwksUrl?: string;
  /** Or any key resolver `jose` accepts. */
  readonly key?: JWTVerifyGetKey;
  /** Accepted algorithms. Default: HS256 with a secret, RS256/ES256/EdDSA with JWKS. `none` is never accepted. */
  readonly algorithms?: string[];
  /** Required issuer. */
  readonly issuer?: string;
  /** Required audience. */
  readonly audience?: string | string[];
  /** Allowed clock skew in seconds. Default: 0. */
  readonly clockToleranceSeconds?: number;
}

/**
 * The tenant and actor from a bearer token verified with `jose` (HMAC secret or JWKS). A request without a
 * bearer token is left to the next strategy; a token that fails verification (bad signature, expired,
 * `alg: none`, wrong issuer or audience) is refused with `InvalidTenantTokenError` (401).
 */
export function fromJwt(options: JwtStrategyOptions): TenantResolutionStrategy {
  const claim = options.claim ?? 'tid';
  const actorClaim = options.actorClaim ?? 'sub';
  const actorType = options.actorType ?? 'user';
  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[];
  if (options.secret !== undefined) {
    key = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
    algorithms = options.algorithms ?? ['HS256'];
  } else if (options.jwksUrl || options.key) {
    key = options.key ?? createRemoteJWKSet(new URL(options.jwksUrl!));
    algorithms = options.algorithms ?? ['RS256', 'ES256', 'EdDSA'];
  } else {
    throw new Error('fromJwt() needs a secret, a jwksUrl or a key resolver.');
  }
  if (algorithms.some((a) => a.toLowerCase() === 'none'))
    throw new Error('fromJwt() never accepts alg "none".');
  return {
    name: 'bearer token',
    authenticates: true,
    resolve: async (request) => {
      const header = headerValue(request, 'authorization');
      if (!header) return undefined;
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new InvalidTenantTokenError('the Authorization header is not "Bearer <token>"');
      let payload: JWTPayload;
      try {
        const verified = await jwtVerify(match[1], key as Uint8Array, {
          algorithms,
          issuer: options.issuer,
          audience: options.audience,
          clockTolerance: options.clockToleranceSeconds ?? 0,
        });
        payload = verified.payload;
      } catch (err) {
        throw new InvalidTenantTokenError(describeJoseError(err));
      }
      const subject = payload[actorClaim];
      const actor: Actor | undefined =
        typeof subject === 'string' && subject ? { id: subject, type: actorType } : undefined;
      const value = payload[claim];
      const tenant =
        typeof value === 'string'
          ? value
          : Array.isArray(value) && value.every((v) => typeof v === 'string')
            ? (value as string[])
            : undefined;
      return { tenant, actor, claims: payload };
    },
  };
}

function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad signature';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `claim "${err.claim}" invalid`;
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'malformed token';
  return 'verification failed';
}
