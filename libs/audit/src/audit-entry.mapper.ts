import type { AuditAction, AuditEntry } from './audit-entry.interface';

/** An audit entry as PostgreSQL returns it. @internal */
export interface EntryRow {
  id: string;
  tenant_id: string;
  position: string | null;
  occurred_at: Date;
  actor_type: string;
  actor_id: string;
  action: AuditAction;
  entity: string;
  entity_id: Record<string, unknown>;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  changed: string[];
  redacted: string[];
  correlation_id: string | null;
  txid: string;
  path: AuditEntry['path'];
  reverts: string | null;
}

/** Maps a row of `bulkhead_audit_entry` (with its chain position) to the public entry. @internal */
export function toEntry(r: EntryRow): AuditEntry {
  return {
    id: String(r.id),
    tenantId: r.tenant_id === '' ? null : r.tenant_id,
    position: r.position === null ? null : Number(r.position),
    occurredAt: r.occurred_at,
    actor: { type: r.actor_type, id: r.actor_id },
    action: r.action,
    entity: r.entity,
    entityId: r.entity_id,
    before: r.before,
    after: r.after,
    changed: [...r.changed].sort(),
    redacted: [...r.redacted].sort(),
    correlationId: r.correlation_id,
    transactionId: r.txid,
    path: r.path,
    reverts: r.reverts === null ? null : String(r.reverts),
  };
}
