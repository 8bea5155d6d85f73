/** Who is acting. Every audit entry and security event is attributed to one. */
export interface Actor {
  /** Stable id of the actor (user id, service name, API key id...). */
  readonly id: string;
  /** What kind of actor it is. */
  readonly type: ActorType;
}

/** Kinds of actors Bulkhead records. */
export type ActorType = 'user' | 'service' | 'agent' | 'api_key' | 'system';

/** A read-only view of the tenancy context bound to the current async call chain. */
export interface TenancyContext {
  /** The tenant(s) in context; empty when none is bound. Reads see all of them; writes must name one. */
  readonly tenantIds: readonly string[];
  /** The single tenant in context, or `undefined` when there are none or several. */
  readonly tenantId: string | undefined;
  /** The actor, when known. */
  readonly actor: Actor | undefined;
  /** Request or correlation id, propagated to logs, events and audit entries. */
  readonly correlationId: string;
  /** Set inside `runUnscoped(reason, fn)`: scoping is off and the reason is recorded. */
  readonly unscopedReason: string | undefined;
  /** Set inside `runWithRawSql(reason, fn)`: raw SQL is allowed with the RLS backstop off. */
  readonly rawSqlReason: string | undefined;
  /** Where the context came from. */
  readonly source: ContextSource;
}

/** Where a context was bound. */
export type ContextSource = 'http' | 'job' | 'unscoped';

/** What `TenancyService.run(context, fn)` takes. */
export interface RunContextInput {
  /** One tenant, or several for read-only fan-out. */
  readonly tenant: string | readonly string[];
  /** The actor; defaults to the surrounding context's, else `{ type: 'system', id: 'system' }`. */
  readonly actor?: Actor;
  /** Correlation id; defaults to the surrounding context's, else a new UUID. */
  readonly correlationId?: string;
}
