export { RulesModule } from './rules.module';
export { RULES_MODULE_OPTIONS } from './rules.module-definition';
export type {
  ResourceDefinition,
  RoleDefinition,
  RuleBinding,
  RuleDefinition,
  RuleEffect,
  RulesModuleOptions,
} from './rules-options.interface';
export {
  RulesService,
  type CheckOptions,
  type MembershipOptions,
  type RulesPrincipal,
  type RulesResource,
} from './rules.service';
export type { Explanation, GrantedOn, ResourceRef, RolePathEntry } from './engine/rules.engine';
export type { ConditionOperator, ConditionRoot } from './engine/rules-condition.compiler';
export { Public, RequirePermission, RequireRole } from './decorators/rules.decorators';
export { RulesGuard, type RouteRequirement } from './guard/rules.guard';
export { RulesExceptionFilter, type RulesErrorBody } from './filters/rules-exception.filter';
export * from './errors/rules.errors';
export type {
  RulesChangeEvent,
  RulesDecisionEvent,
  RulesEvent,
  RulesEventListener,
} from './events/rules-events';
export { AuditHook } from './audit/rules-audit-hook.interface';
export {
  MembershipStore,
  ResourceHierarchy,
  RuleStore,
  type RulesWriteHook,
  type StoredMembership,
} from './store/rules-store.interface';
export { RULES_ENTITIES, RulesMembership, RulesRule } from './store/rules.entities';
export {
  ACCESS_DENIED_MESSAGE,
  DEFAULT_RULES_NOTIFY_CHANNEL,
  PRINCIPAL_MISSING_MESSAGE,
} from './rules.constants';
