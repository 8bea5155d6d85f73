import type { RolePathEntry } from '../engine/rules.engine';

interface RulesEventBase {
  /** When it happened. */
  readonly at: Date;
  /** Tenant the decision or change belongs to. */
  readonly tenantId: string;
}

/** A decision was made (`decision.denied` always; `decision.allowed` with option `emitAllows`). */
export interface RulesDecisionEvent extends RulesEventBase {
  readonly type: 'decision.denied' | 'decision.allowed';
  /** Id of the principal the decision was about. */
  readonly principalId: string;
  readonly action: string;
  /** Resource type and id, when the decision was about a resource. */
  readonly resource?: { readonly type: string; readonly id: string | undefined };
  /** The deciding rule ids (`role:<name>` for role-granted permissions). */
  readonly decidingRuleIds: readonly string[];
  readonly rolePath: readonly RolePathEntry[];
  readonly reason: string;
}

/** A membership or stored rule changed. Emitted after the change committed. */
export interface RulesChangeEvent extends RulesEventBase {
  readonly type:
    'membership.granted' | 'membership.revoked' | 'rule.created' | 'rule.updated' | 'rule.removed';
  /** Id of the principal who made the change, when known. */
  readonly changedBy: string | undefined;
  /** The membership or rule, after the change (before it, for removals). */
  readonly subject: Readonly<Record<string, unknown>>;
}

/** Every event the rules layer emits. */
export type RulesEvent = RulesDecisionEvent | RulesChangeEvent;

/**
 * Receives rules events: register with the `listeners` option of `RulesModule.forRoot()` or
 * `RulesService.subscribe()`. Listeners run synchronously on the hot path; one that throws is logged and never
 * changes a decision.
 */
export interface RulesEventListener {
  onRulesEvent(event: RulesEvent): void;
}
