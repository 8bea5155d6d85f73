/** Connection setting the capture triggers read the actor id from. */
export const ACTOR_ID_SETTING = 'bulkhead.actor_id';
/** Connection setting the capture triggers read the actor type from. */
export const ACTOR_TYPE_SETTING = 'bulkhead.actor_type';
/** Connection setting the capture triggers read the correlation id from. */
export const CORRELATION_ID_SETTING = 'bulkhead.correlation_id';
/** Transaction-local setting that marks the writes of a revert and links them to the entry they revert. */
export const REVERTS_SETTING = 'bulkhead.audit_reverts';
/** The audit's own tables (never audited themselves). */
export const AUDIT_TABLES = [
  'bulkhead_audit_entry',
  'bulkhead_audit_chain',
  'bulkhead_audit_head',
  'bulkhead_audit_checkpoint',
  'bulkhead_audit_state',
  'bulkhead_audit_sink_cursor',
];
