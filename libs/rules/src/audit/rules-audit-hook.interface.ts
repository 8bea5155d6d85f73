import type { EntityManager } from 'typeorm';
import type { RulesChangeEvent, RulesDecisionEvent } from '../events/rules-events';

/**
 * Where an audit module records denies and changes to memberships and rules. Provide it under the
 * `AuditHook` token (`{ provide: AuditHook, useExisting: MyAuditRecorder }`); RulesModule uses it when present.
 *
 * `recordChange` runs inside the transaction that makes the change, with its EntityManager, so the audit row
 * commits or rolls back with it; a throw aborts the change.
 */
export interface AuditHook {
  /** Records a denied decision. Called after the decision; must not throw (errors are logged). */
  recordDenied?(event: RulesDecisionEvent): void | Promise<void>;
  /** Records a change to a membership or rule, in the changing transaction. */
  recordChange?(event: RulesChangeEvent, manager: EntityManager): Promise<void>;
}
/** Injection token of the optional {@link AuditHook}. */
export const AuditHook = Symbol('AuditHook');
