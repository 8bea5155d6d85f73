import type { EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * What an entry records. `revert` marks the writes of `AuditService.revert()` / `revertTo()`; `event:<name>`
 * marks an application event recorded with `AuditService.record()` (a denied decision, for example).
 */
export type AuditAction =
  'insert' | 'update' | 'delete' | 'soft-delete' | 'restore' | 'revert' | `event:${string}`;

/** One audited change of one row. */
export interface AuditEntry {
  readonly id: string;
  /** Tenant of the row (`null` for tables that are not tenant-aware). */
  readonly tenantId: string | null;
  /** Position in the tenant's hash chain; `null` until the sealer has chained it (normally within a second). */
  readonly position: number | null;
  readonly occurredAt: Date;
  /** Who: the context's actor, or `{ type: 'database_role', id: <role> }` for SQL without a Bulkhead context. */
  readonly actor: { readonly type: string; readonly id: string };
  readonly action: AuditAction;
  /** Entity name and primary key (an object: composite keys have several fields). */
  readonly entity: string;
  readonly entityId: Record<string, unknown>;
  /** Update: the old values of the changed columns. Delete: the whole row. Insert: null. */
  readonly before: Record<string, unknown> | null;
  /** Insert and update: the whole row after the change. Delete: null. */
  readonly after: Record<string, unknown> | null;
  /** Columns that changed (redacted ones included, by name only). */
  readonly changed: readonly string[];
  /** Redacted columns that changed: their values are never stored. */
  readonly redacted: readonly string[];
  readonly correlationId: string | null;
  /** PostgreSQL transaction id of the write. */
  readonly transactionId: string;
  /**
   * How the write came: an entity `save/remove`, a query builder (bulk), SQL the app or another client ran, or
   * `application` for events recorded with `AuditService.record()`.
   */
  readonly path: 'entity' | 'query-builder' | 'raw-sql' | 'application';
  /** For `revert` entries: the entry whose change this reverts. */
  readonly reverts: string | null;
}

/** Filters of `AuditService.find()`; all optional, combined with AND. */
export interface AuditQuery {
  readonly entity?: string | EntityTarget<ObjectLiteral>;
  /** Primary key value, or an object for composite keys (needs `entity`). */
  readonly entityId?: unknown;
  readonly actorId?: string;
  readonly action?: AuditAction;
  readonly correlationId?: string;
  /** Inclusive start of the time range. */
  readonly from?: Date;
  /** Exclusive end of the time range. */
  readonly to?: Date;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
  /** Page size, 1-1000. Default: 100. */
  readonly limit?: number;
}

/** An application event for `AuditService.record()`. */
export interface AuditEventInput {
  /** Event name; stored as action `event:<name>` (e.g. `access-denied`). */
  readonly name: string;
  /** What it is about: an entity or resource type... */
  readonly entity: string;
  /** ...and its id, when there is one. */
  readonly entityId?: Record<string, unknown>;
  /** Details (stored as the entry's `after`). Keep secrets out. */
  readonly details?: Record<string, unknown>;
}

/** A page of entries. */
export interface AuditPage {
  readonly items: AuditEntry[];
  /** Pass as `cursor` to get the next page; `null` on the last page. */
  readonly nextCursor: string | null;
}

/** The head of a tenant's chain. */
export interface AuditDigest {
  readonly tenantId: string | null;
  readonly position: number;
  /** SHA-256, hex. */
  readonly hash: string;
}

/** Options of `AuditService.verify()`. */
export interface VerifyOptions {
  /** Tenant whose chain to check. Default: the single tenant in context. */
  readonly tenant?: string;
  /** A digest stored elsewhere earlier: the chain must still lead to it. */
  readonly expected?: AuditDigest;
}

/** Outcome of `AuditService.verify()`. */
export interface VerifyResult {
  readonly valid: boolean;
  /** Entries whose hash was checked. */
  readonly checked: number;
  /** Position of the first entry where the chain breaks. */
  readonly firstBrokenAt?: number;
  readonly reason?: string;
}

/**
 * Receives every committed, chained entry at least once, in chain order per tenant. A sink that throws is
 * retried from the same position on the next round; nothing is lost while it is down.
 */
export interface AuditSink {
  /** Stable name: delivery progress is kept per sink name. */
  readonly name: string;
  deliver(entries: readonly AuditEntry[]): Promise<void>;
}
