import type { EntityManager } from 'typeorm';
import type { ResourceRef } from '../engine/rules.engine';
import type { RuleDefinition } from '../rules-options.interface';

/** A role held by a principal in a tenant, optionally on one resource inside it. */
export interface StoredMembership {
  readonly tenantId: string;
  readonly principalId: string;
  readonly role: string;
  /** Set when the role is held on one resource only (it then flows to that resource's children). */
  readonly resource?: ResourceRef;
}

/**
 * Runs inside the store's writing transaction, after the write: sends the cross-process cache invalidation
 * (NOTIFY) and lets the audit hook record the change, so both commit or roll back with it.
 */
export type RulesWriteHook = (manager: EntityManager) => Promise<void>;

/**
 * Where memberships live. The default is the TypeORM store over {@link RulesMembership}; provide your own with
 * the `membershipStore` option. `grant`/`revoke` are optional (a read-only store refuses them), and must call
 * `afterWrite` inside the transaction that writes.
 */
export interface MembershipStore {
  /** Every membership of the principal in the tenant (tenant-wide and on resources). */
  membershipsOf(tenantId: string, principalId: string): Promise<readonly StoredMembership[]>;
  /** Adds a membership; resolves to false when it already existed. */
  grant?(membership: StoredMembership, afterWrite: RulesWriteHook): Promise<boolean>;
  /** Removes a membership; resolves to whether one existed. */
  revoke?(membership: StoredMembership, afterWrite: RulesWriteHook): Promise<boolean>;
}
/** Injection token of the {@link MembershipStore} in use. */
export const MembershipStore = Symbol('MembershipStore');

/**
 * Where the rules of each tenant live (created, changed and removed at run time). Stored rules are bound to
 * their tenant, or to a role or principal inside it. The default is the TypeORM store over {@link RulesRule}.
 */
export interface RuleStore {
  /** The tenant's rules. */
  rulesOf(tenantId: string): Promise<readonly RuleDefinition[]>;
  /** Creates or replaces a rule by id; resolves to `'created'` or `'updated'`. */
  saveRule?(
    tenantId: string,
    rule: RuleDefinition,
    afterWrite: RulesWriteHook,
  ): Promise<'created' | 'updated'>;
  /** Removes a rule; resolves to the removed rule, if it existed. */
  removeRule?(
    tenantId: string,
    ruleId: string,
    afterWrite: RulesWriteHook,
  ): Promise<RuleDefinition | undefined>;
}
/** Injection token of the {@link RuleStore} in use. */
export const RuleStore = Symbol('RuleStore');

/**
 * Finds the parent of a resource the caller does not hold loaded (roles granted on a parent flow to its
 * children). The default loads it through the `entity` and `parentField` declared in option `resources`.
 */
export interface ResourceHierarchy {
  /** The parent of a resource, or `undefined` for a root or an unknown resource. */
  parentOf(resource: ResourceRef, tenantId: string): Promise<ResourceRef | undefined>;
}
/** Injection token of the {@link ResourceHierarchy} in use. */
export const ResourceHierarchy = Symbol('ResourceHierarchy');
