import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import type { RulesEventListener } from './events/rules-events';
import type { MembershipStore, ResourceHierarchy, RuleStore } from './store/rules-store.interface';

/** A role: what it includes (inherits from) and the permissions granted to it directly. */
export interface RoleDefinition {
  /**
   * Roles whose permissions this role inherits (`admin: { includes: ['member'] }`). Transitive; cycles are
   * refused at start-up. Default: none.
   */
  readonly includes?: readonly string[];
  /** Permissions granted to holders of the role: `'invoice:read'`, `'invoice:*'` or `'*'`. Default: none. */
  readonly permissions?: readonly string[];
}

/** What a rule is bound to: every principal, one tenant, holders of one role, or one principal. */
export type RuleBinding =
  | { readonly type: 'global' }
  | { readonly type: 'tenant'; readonly tenantId: string }
  | { readonly type: 'role'; readonly role: string }
  | { readonly type: 'principal'; readonly principalId: string };

/** Effect of a rule. Deny always wins over allow, whatever the order or priority. */
export type RuleEffect = 'allow' | 'deny';

/**
 * A policy rule. It matches a decision when one of its `actions` matches the action, its binding applies to
 * the principal in the tenant, and every condition holds.
 *
 * ```ts
 * { id: 'no-big-approvals', effect: 'deny', actions: ['invoice:approve'],
 *   conditions: 'resource.amount > 1000000', bind: { type: 'role', role: 'member' } }
 * ```
 */
export interface RuleDefinition {
  /** Unique id, reported by `explain()` as a deciding rule id. Must not start with `role:`. */
  readonly id: string;
  readonly effect: RuleEffect;
  /**
   * Actions matched: `'invoice:approve'`, `'invoice:*'`, `'*'`, or bare verbs (`'approve'`) when
   * `resourceType` is set.
   */
  readonly actions: readonly string[];
  /** Resource type the rule is about; prefixes bare verbs in `actions`. Default: taken from the actions. */
  readonly resourceType?: string;
  /**
   * Condition(s) in the rules condition language, all of which must hold (see the README): e.g.
   * `'resource.amount > 1000000'`, `'resource.createdBy == principal.id'`. Default: none (always holds).
   */
  readonly conditions?: string | readonly string[];
  /**
   * Orders rules of the same effect in `explain()` (highest first). It never lets an allow beat a deny.
   * Default: `0`.
   */
  readonly priority?: number;
  /** What the rule is bound to. Default: `{ type: 'global' }` (stored rules: their tenant). */
  readonly bind?: RuleBinding;
}

/** A resource type of the hierarchy (`organization > project > document`). */
export interface ResourceDefinition {
  /** The parent resource type; roles granted on a parent flow to its children. Default: none (a root). */
  readonly parent?: string;
  /** Property of a loaded resource holding its parent's id (`'projectId'`). Needed with `parent`. */
  readonly parentField?: string;
  /** Property holding the resource id. Default: `'id'`. */
  readonly idField?: string;
  /**
   * The TypeORM entity of this resource type. With it the default `ResourceHierarchy` loads parents that are
   * not in hand, and `scope()` can follow the hierarchy in SQL. Default: none.
   */
  readonly entity?: EntityTarget<ObjectLiteral>;
}

/** Options of `RulesModule.forRoot()` / `forRootAsync()`. */
export interface RulesModuleOptions {
  /** The roles, by name (`owner`, `admin`, `member`, `viewer`...). */
  readonly roles: Readonly<Record<string, RoleDefinition>>;
  /**
   * The permission catalogue (`'invoice:read'`...). Role permissions, rule actions and `@RequirePermission()`
   * must name permissions of it (wildcards must match at least one). Default: every exact permission granted
   * to a role.
   */
  readonly permissions?: readonly string[];
  /** Static rules, compiled and validated at start-up. Rules per tenant live in the store. Default: none. */
  readonly rules?: readonly RuleDefinition[];
  /** The resource hierarchy, by resource type. Default: none (memberships on resources do not flow). */
  readonly resources?: Readonly<Record<string, ResourceDefinition>>;
  /** Deny routes that carry no `@RequireRole`, `@RequirePermission` or `@Public` decorator. Default: `false`. */
  readonly denyWithoutDecorator?: boolean;
  /** Emit an event for every allow too (denies are always emitted). Default: `false`. */
  readonly emitAllows?: boolean;
  /** Decision and change listeners. More can subscribe with `RulesService.subscribe()`. Default: none. */
  readonly listeners?: readonly RulesEventListener[];
  /** Register the rules guard globally (APP_GUARD). Default: `true`. */
  readonly registerGuard?: boolean;
  /** Register the filter mapping rules errors to 401/403 (APP_FILTER). Default: `true`. */
  readonly registerExceptionFilter?: boolean;
  /**
   * Cache memberships and stored rules per tenant, invalidated across processes by PostgreSQL
   * LISTEN/NOTIFY. Faster, but another process may serve a request in the moment between a change and its
   * handling of the notification (a stale allow after a revocation). Default: `false`: every decision reads
   * the store, so a revocation is enforced on the very next request in every process.
   */
  readonly cache?: boolean;
  /** DataSource of the default TypeORM store, by @nestjs/typeorm name or instance. Default: `'default'`. */
  readonly dataSource?: string | DataSource;
  /** NOTIFY channel used for cache invalidation. Default: `'bulkhead_rules'`. */
  readonly notifyChannel?: string;
  /** Your membership store (see {@link MembershipStore}). Default: the TypeORM store over `RulesMembership`. */
  readonly membershipStore?: MembershipStore;
  /** Your rule store (see {@link RuleStore}). Default: the TypeORM store over `RulesRule`. */
  readonly ruleStore?: RuleStore;
  /** Your parent lookup (see {@link ResourceHierarchy}). Default: through `resources[type].entity`. */
  readonly resourceHierarchy?: ResourceHierarchy;
}
