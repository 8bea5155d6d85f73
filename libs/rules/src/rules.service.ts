import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import type {
  DataSource,
  EntityManager,
  EntityMetadata,
  EntityTarget,
  ObjectLiteral,
  SelectQueryBuilder,
} from 'typeorm';
import { TenancyService } from '@bulkhead/tenancy';
import { AuditHook } from './audit/rules-audit-hook.interface';
import {
  AccessDeniedError,
  PrincipalMissingError,
  RulesConfigurationError,
  RulesStoreReadOnlyError,
  RulesTenantMissingError,
} from './errors/rules.errors';
import {
  decide,
  explainDecision,
  RoleSet,
  type DecisionInput,
  type Explanation,
  type ResourceRef,
  type RoleGrant,
} from './engine/rules.engine';
import { actionType, CompiledPolicy, RuleIndex } from './engine/rules-policy.compiler';
import type {
  RulesChangeEvent,
  RulesDecisionEvent,
  RulesEvent,
  RulesEventListener,
} from './events/rules-events';
import { DEFAULT_RULES_NOTIFY_CHANNEL } from './rules.constants';
import { RULES_MODULE_OPTIONS } from './rules.module-definition';
import type { RuleDefinition, RulesModuleOptions } from './rules-options.interface';
import { buildScope } from './scope/rules-scope.util';
import { RulesCache } from './store/rules-cache';
import type {
  MembershipStore,
  ResourceHierarchy,
  RuleStore,
  StoredMembership,
} from './store/rules-store.interface';
import { EntityResourceHierarchy, TypeOrmRulesStore } from './store/rules-typeorm.store';

/** Who a decision is about: `TenancyService.current().actor`, or any object with an `id`. */
export interface RulesPrincipal {
  /** Stable id; memberships and principal-bound rules name it. */
  readonly id: string;
  /** Kind of principal (user, service...). Conditions read it, like any other property, as `principal.type`. */
  readonly type?: string;
}

/** A resource to decide on: a loaded entity (or any object with the resource type's id field). */
export type RulesResource = object;

/** Options of one check. */
export interface CheckOptions {
  /** Tenant to decide in. Default: the single tenant in the tenancy context. */
  readonly tenantId?: string;
  /** Request context, read by conditions as `context.*`. Default: `{}`. */
  readonly context?: Readonly<Record<string, unknown>>;
}

/** Options of a membership change. */
export interface MembershipOptions {
  /** Hold the role on this resource only (and its children). Default: the whole tenant. */
  readonly resource?: ResourceRef;
  /** Tenant of the membership. Default: the single tenant in context. */
  readonly tenantId?: string;
}

/** A principal's memberships in one tenant, compiled. @internal */
interface PrincipalGrants {
  readonly tenantWide: RoleSet;
  readonly onResources: readonly RoleGrant[];
  readonly resourceTypes: ReadonlySet<string>;
}

type CheckArgs =
  | [action: string, resource?: RulesResource, options?: CheckOptions]
  | [principal: RulesPrincipal, action: string, resource?: RulesResource, options?: CheckOptions];

const EMPTY_CONTEXT = Object.freeze({});

/**
 * Decisions (`can`, `authorize`, `explain`), query scoping (`scope`) and run-time changes to memberships and
 * rules. Decisions are deny-overrides: a matching deny rule always wins; then a matching allow rule or a role
 * permission allows; nothing matching denies. Roles are looked up in the decision's tenant only.
 *
 * ```ts
 * await rules.authorize('invoice:approve', invoice);          // principal and tenant from the context
 * const list = await rules.scope(repo.createQueryBuilder('i'), 'invoice:read', Invoice).getMany();
 * ```
 */
@Injectable()
export class RulesService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Bulkhead:Rules');
  /** @internal */
  readonly policy: CompiledPolicy;
  private readonly cache: RulesCache<RuleIndex, PrincipalGrants>;
  private listeners: RulesEventListener[] = [];
  private dataSource: DataSource | undefined;
  private memberships!: MembershipStore;
  private ruleStore!: RuleStore;
  private hierarchy!: ResourceHierarchy;

  constructor(
    @Inject(RULES_MODULE_OPTIONS) private readonly options: RulesModuleOptions,
    private readonly tenancy: TenancyService,
    @Optional() private readonly moduleRef?: ModuleRef,
    @Optional() @Inject(AuditHook) private readonly audit?: AuditHook,
  ) {
    this.policy = new CompiledPolicy(options);
    this.cache = new RulesCache(
      options.cache ?? false,
      options.notifyChannel ?? DEFAULT_RULES_NOTIFY_CHANNEL,
    );
    this.listeners = [...(options.listeners ?? [])];
  }

  /** @internal */
  async onModuleInit(): Promise<void> {
    const ref = this.options.dataSource ?? 'default';
    if (typeof ref !== 'string') this.dataSource = ref;
    else {
      try {
        this.dataSource = this.moduleRef?.get<DataSource>(
          getDataSourceToken(ref === 'default' ? undefined : ref),
          {
            strict: false,
          },
        );
      } catch {
        this.dataSource = undefined;
      }
    }
    const needsDefault = !this.options.membershipStore || !this.options.ruleStore;
    if (needsDefault && !this.dataSource) {
      throw new RulesConfigurationError(
        `RulesModule found no DataSource "${String(ref)}" for its default store. Import TypeOrmModule.forRoot() with ` +
          'RULES_ENTITIES in its entities, set option dataSource, or provide membershipStore and ruleStore.',
      );
    }
    if (needsDefault) {
      for (const entity of ['RulesMembership', 'RulesRule']) {
        if (!this.dataSource!.entityMetadatas.some((m) => m.name === entity)) {
          throw new RulesConfigurationError(
            `Entity ${entity} is not in the DataSource: add RULES_ENTITIES to its entities (entities: [...RULES_ENTITIES, ...]).`,
          );
        }
      }
    }
    const fallback = needsDefault ? new TypeOrmRulesStore(this.dataSource!, this.tenancy) : undefined;
    this.memberships = this.options.membershipStore ?? fallback!;
    this.ruleStore = this.options.ruleStore ?? fallback!;
    this.hierarchy =
      this.options.resourceHierarchy ??
      new EntityResourceHierarchy(this.policy.resources, () => this.dataSource, this.tenancy);
    if (this.dataSource && (this.options.cache ?? false)) {
      await this.cache.listen(this.dataSource).catch((err: Error) => {
        this.logger.warn(
          `Rules cache off: LISTEN failed (${err.message}); decisions read the store every time.`,
        );
      });
    }
  }

  /** @internal */
  async onApplicationShutdown(): Promise<void> {
    await this.cache.close();
  }

  /** The membership store in use. */
  get membershipStore(): MembershipStore {
    return this.memberships;
  }

  /** The rule store in use. */
  get rulesStore(): RuleStore {
    return this.ruleStore;
  }

  /** The resource hierarchy in use. */
  get resourceHierarchy(): ResourceHierarchy {
    return this.hierarchy;
  }

  /** Whether the principal may perform the action (on the resource). Emits a `decision.denied` event on deny. */
  can(action: string, resource?: RulesResource, options?: CheckOptions): Promise<boolean>;
  can(
    principal: RulesPrincipal,
    action: string,
    resource?: RulesResource,
    options?: CheckOptions,
  ): Promise<boolean>;
  can(...args: CheckArgs): Promise<boolean> {
    try {
      const warm = this.warmInput(args);
      if (warm) return Promise.resolve(this.decideAndReport(warm));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.input(args).then((input) => this.decideAndReport(input));
  }

  private decideAndReport(input: DecisionInput & { stored: RuleIndex }): boolean {
    const allowed = decide(this.policy, input.stored, input);
    if (!allowed || this.options.emitAllows) this.report(input, allowed);
    return allowed;
  }

  /** Like {@link can}, but throws `AccessDeniedError` on deny. */
  authorize(action: string, resource?: RulesResource, options?: CheckOptions): Promise<void>;
  authorize(
    principal: RulesPrincipal,
    action: string,
    resource?: RulesResource,
    options?: CheckOptions,
  ): Promise<void>;
  async authorize(...args: CheckArgs): Promise<void> {
    const input = await this.input(args);
    if (decide(this.policy, input.stored, input)) {
      if (this.options.emitAllows) this.report(input, true);
      return;
    }
    const explanation = this.report(input, false) ?? explainDecision(this.policy, input.stored, input);
    throw new AccessDeniedError(input.action, explanation.decidingRuleIds, explanation.reason);
  }

  /** The decision with its deciding rule ids and role path (see {@link Explanation}). Emits no event. */
  explain(action: string, resource?: RulesResource, options?: CheckOptions): Promise<Explanation>;
  explain(
    principal: RulesPrincipal,
    action: string,
    resource?: RulesResource,
    options?: CheckOptions,
  ): Promise<Explanation>;
  async explain(...args: CheckArgs): Promise<Explanation> {
    const input = await this.input(args);
    return explainDecision(this.policy, input.stored, input);
  }

  /**
   * Whether the principal holds the role (directly or through a role that includes it) in the tenant, or on the
   * given resource (held on it or on one of its ancestors).
   */
  async hasRole(
    principal: RulesPrincipal,
    role: string,
    options: { readonly tenantId?: string; readonly resource?: ResourceRef } = {},
  ): Promise<boolean> {
    if (!this.policy.roles.has(role)) throw new RulesConfigurationError(`Unknown role "${role}".`);
    const tenantId = this.tenantOf(options);
    const grants = await this.grantsOf(tenantId, principal.id);
    if (grants.tenantWide.roles.has(role)) return true;
    const ref = options.resource;
    if (!ref || grants.onResources.length === 0) return false;
    const idField = this.policy.resources.get(ref.type)?.idField ?? 'id';
    return (await this.roleSetFor(tenantId, grants, ref.type, { [idField]: ref.id })).roles.has(role);
  }

  /**
   * Narrows a query to the rows the principal in context may perform `action` on: applicable rules' conditions
   * and role grants become a WHERE clause (values bound as parameters). Returns the same query builder.
   */
  async scope<T extends ObjectLiteral>(
    qb: SelectQueryBuilder<T>,
    action: string,
    entity: EntityTarget<T>,
    options: CheckOptions & { readonly principal?: RulesPrincipal } = {},
  ): Promise<SelectQueryBuilder<T>> {
    const principal = options.principal ?? this.currentPrincipal();
    this.checkAction(action);
    const tenantId = this.tenantOf(options);
    const type = actionType(action);
    const [grants, stored] = await Promise.all([
      this.grantsOf(tenantId, principal.id),
      this.storedRules(tenantId),
    ]);
    const dataSource = qb.connection;
    const metadata = dataSource.getMetadata(entity);
    const metadataOf = (t: string): EntityMetadata | undefined => {
      const def = this.policy.resources.get(t);
      return def?.entity && dataSource.hasMetadata(def.entity)
        ? dataSource.getMetadata(def.entity)
        : undefined;
    };
    const { sql, params } = buildScope({
      qb,
      metadata,
      metadataOf,
      policy: this.policy,
      stored,
      tenantId,
      principal,
      action,
      type,
      context: options.context ?? EMPTY_CONTEXT,
      tenantRoles: grants.tenantWide,
      resourceGrants: grants.onResources,
    });
    return qb.andWhere(`(${sql})`, params);
  }

  /** Grants a role to a principal in a tenant (or on a resource in it). Enforced on the next decision everywhere. */
  async grant(principalId: string, role: string, options: MembershipOptions = {}): Promise<boolean> {
    const membership = this.membership(principalId, role, options);
    const store = this.memberships;
    if (!store.grant) throw new RulesStoreReadOnlyError('grant()');
    const event = this.changeEvent('membership.granted', membership.tenantId, toSubject(membership));
    const { hook, delivered } = this.writeHook(event);
    const changed = await store.grant(membership, hook);
    return this.changed(event, changed, delivered);
  }

  /** Revokes a membership. Enforced on the next decision, in every process. */
  async revoke(principalId: string, role: string, options: MembershipOptions = {}): Promise<boolean> {
    const membership = this.membership(principalId, role, options);
    const store = this.memberships;
    if (!store.revoke) throw new RulesStoreReadOnlyError('revoke()');
    const event = this.changeEvent('membership.revoked', membership.tenantId, toSubject(membership));
    const { hook, delivered } = this.writeHook(event);
    const changed = await store.revoke(membership, hook);
    return this.changed(event, changed, delivered);
  }

  /** The principal's memberships in the tenant. */
  async membershipsOf(
    principalId: string,
    options: { readonly tenantId?: string } = {},
  ): Promise<readonly StoredMembership[]> {
    return this.memberships.membershipsOf(this.tenantOf(options), principalId);
  }

  /**
   * Creates or replaces a stored rule of the tenant (validated first: unknown permission or role, malformed
   * condition throw `RulesConfigurationError`). Enforced on the next decision, in every process.
   */
  async saveRule(
    rule: RuleDefinition,
    options: { readonly tenantId?: string } = {},
  ): Promise<'created' | 'updated'> {
    const tenantId = this.tenantOf(options);
    this.policy.compileRule(rule, 'stored');
    if (this.policy.staticRules.rules.some((r) => r.id === rule.id)) {
      throw new RulesConfigurationError(`Rule id "${rule.id}" is taken by a static rule.`);
    }
    const store = this.ruleStore;
    if (!store.saveRule) throw new RulesStoreReadOnlyError('saveRule()');
    const subject = { ...rule } as Record<string, unknown>;
    const event = this.changeEvent('rule.created', tenantId, subject);
    const { hook, delivered } = this.writeHook(event);
    const outcome = await store.saveRule(tenantId, rule, hook);
    const final = outcome === 'updated' ? { ...event, type: 'rule.updated' as const } : event;
    await this.changed(final, true, delivered);
    return outcome;
  }

  /** Removes a stored rule of the tenant. Resolves to whether it existed. */
  async removeRule(ruleId: string, options: { readonly tenantId?: string } = {}): Promise<boolean> {
    const tenantId = this.tenantOf(options);
    const store = this.ruleStore;
    if (!store.removeRule) throw new RulesStoreReadOnlyError('removeRule()');
    const event = this.changeEvent('rule.removed', tenantId, { id: ruleId });
    const { hook, delivered } = this.writeHook(event);
    const removed = await store.removeRule(tenantId, ruleId, hook);
    return this.changed(
      removed ? { ...event, subject: { ...removed } } : event,
      removed !== undefined,
      delivered,
    );
  }

  /** The tenant's stored rules. */
  async rulesOf(options: { readonly tenantId?: string } = {}): Promise<readonly RuleDefinition[]> {
    return this.ruleStore.rulesOf(this.tenantOf(options));
  }

  /**
   * Drops cached memberships and rules of a tenant in this process and, when `manager` is given, notifies every
   * process in the transaction of `manager`. Custom stores call this after their own writes.
   */
  async invalidate(tenantId: string, manager?: EntityManager): Promise<void> {
    if (manager) await this.notify(tenantId, manager);
    this.cache.invalidate(tenantId);
  }

  /** Subscribes a listener to rules events; returns the function that unsubscribes it. */
  subscribe(listener: RulesEventListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Whether a permission or action pattern is in the catalogue. @internal */
  knowsPermission(action: string): boolean {
    return this.policy.knowsPermission(action);
  }

  /** The principal of the tenancy context. Throws `PrincipalMissingError` without one. @internal */
  currentPrincipal(): RulesPrincipal {
    const actor = this.tenancy.current()?.actor;
    if (!actor) throw new PrincipalMissingError();
    return actor;
  }

  /** Reports a decision the guard made. @internal */
  async guardDecision(
    principal: RulesPrincipal,
    tenantId: string,
    check: { readonly roles?: readonly string[]; readonly permissions?: readonly string[] },
    context: Readonly<Record<string, unknown>>,
  ): Promise<boolean> {
    if (check.roles) {
      const grants = await this.grantsOf(tenantId, principal.id);
      if (!check.roles.some((r) => grants.tenantWide.roles.has(r))) {
        this.emitRoleDenied(principal, tenantId, check.roles, grants.tenantWide);
        return false;
      }
    }
    for (const action of check.permissions ?? []) {
      if (!(await this.can(principal, action, undefined, { tenantId, context }))) return false;
    }
    return true;
  }

  // -- internals --------------------------------------------------------------------------------------------

  /** The decision input from cache alone, for tenant-wide decisions (no resource grants to resolve). */
  private warmInput(args: CheckArgs): (DecisionInput & { stored: RuleIndex }) | undefined {
    if (typeof args[0] === 'string') return undefined;
    const [principal, action, resource, options] = args as [
      RulesPrincipal,
      string,
      RulesResource?,
      CheckOptions?,
    ];
    const tenantId = options?.tenantId;
    if (tenantId === undefined || !principal || typeof principal.id !== 'string') return undefined;
    const hit = this.cache.peek(tenantId, principal.id);
    if (!hit || (hit.members.onResources.length > 0 && resource !== undefined && resource !== null))
      return undefined;
    this.checkAction(action);
    return {
      tenantId,
      principal,
      roles: hit.members.tenantWide,
      action,
      type: actionType(action),
      resource,
      context: options?.context ?? EMPTY_CONTEXT,
      stored: hit.rules,
    };
  }

  private async input(args: CheckArgs): Promise<DecisionInput & { stored: RuleIndex }> {
    let principal: RulesPrincipal;
    let action: string;
    let resource: RulesResource | undefined;
    let options: CheckOptions | undefined;
    if (typeof args[0] === 'string') {
      principal = this.currentPrincipal();
      [action, resource, options] = args as [string, RulesResource?, CheckOptions?];
    } else {
      [principal, action, resource, options] = args as [
        RulesPrincipal,
        string,
        RulesResource?,
        CheckOptions?,
      ];
      if (!principal || typeof principal.id !== 'string') throw new PrincipalMissingError();
    }
    this.checkAction(action);
    const tenantId = this.tenantOf(options);
    const type = actionType(action);
    const grants = await this.grantsOf(tenantId, principal.id);
    const stored = await this.storedRules(tenantId);
    const roles =
      resource === undefined || resource === null || grants.onResources.length === 0
        ? grants.tenantWide
        : await this.roleSetFor(tenantId, grants, type, resource);
    return {
      tenantId,
      principal,
      roles,
      action,
      type,
      resource,
      context: options?.context ?? EMPTY_CONTEXT,
      stored,
    };
  }

  private checkAction(action: string): void {
    if (typeof action !== 'string' || !this.policy.knowsPermission(action)) {
      throw new RulesConfigurationError(
        `Unknown permission ${JSON.stringify(action)}: declare it in RulesModule option permissions.`,
      );
    }
  }

  private tenantOf(options?: { readonly tenantId?: string }): string {
    const tenantId = options?.tenantId ?? this.tenancy.current()?.tenantId;
    if (typeof tenantId !== 'string' || tenantId === '') throw new RulesTenantMissingError();
    return tenantId;
  }

  private grantsOf(tenantId: string, principalId: string): Promise<PrincipalGrants> {
    return this.cache.members(tenantId, principalId, async () => {
      const rows = await this.memberships.membershipsOf(tenantId, principalId);
      const tenantWide: RoleGrant[] = [];
      const onResources: RoleGrant[] = [];
      for (const m of rows) {
        if (m.tenantId !== tenantId || m.principalId !== principalId) continue; // never another tenant's role
        if (m.resource)
          onResources.push({ role: m.role, grantedOn: { type: m.resource.type, id: m.resource.id } });
        else tenantWide.push({ role: m.role, grantedOn: 'tenant' });
      }
      return {
        tenantWide: new RoleSet(this.policy, tenantWide),
        onResources,
        resourceTypes: new Set(onResources.map((g) => (g.grantedOn as ResourceRef).type)),
      };
    });
  }

  private storedRules(tenantId: string): Promise<RuleIndex> {
    return this.cache.rules(tenantId, async () => {
      const defs = await this.ruleStore.rulesOf(tenantId);
      const valid: RuleDefinition[] = [];
      for (const def of defs) {
        try {
          this.policy.compileRule(def, 'stored');
          valid.push(def);
        } catch (err) {
          if (def.effect === 'deny') throw err; // an unreadable deny rule must not fail open
          this.logger.error(
            `Stored rule "${def.id}" of tenant ${tenantId} is ignored: ${(err as Error).message}`,
          );
        }
      }
      return valid.length ? this.policy.compileRules(valid, 'stored') : RuleIndex.EMPTY;
    });
  }

  /** The resource and its ancestors, as far up as the principal holds roles on resources. */
  private async roleSetFor(
    tenantId: string,
    grants: PrincipalGrants,
    type: string,
    resource: RulesResource,
  ): Promise<RoleSet> {
    const def = this.policy.resources.get(type);
    const wanted = grants.resourceTypes;
    const relevant = [type, ...(def?.ancestors ?? [])];
    if (!relevant.some((t) => wanted.has(t))) return grants.tenantWide;
    const chain: ResourceRef[] = [];
    const record = resource as Record<string, unknown>;
    const id = record[def?.idField ?? 'id'];
    let current: ResourceRef | undefined =
      id === undefined || id === null ? undefined : { type, id: String(id) };
    if (current) chain.push(current);
    let depth = 0;
    while (current || depth === 0) {
      const currentDef = this.policy.resources.get(current?.type ?? type);
      const remaining = currentDef?.ancestors ?? [];
      if (!currentDef?.parent || !remaining.some((t) => wanted.has(t))) break;
      let parent: ResourceRef | undefined;
      if (depth === 0 && currentDef.parentField && record[currentDef.parentField] != null) {
        parent = { type: currentDef.parent, id: String(record[currentDef.parentField]) };
      } else if (current) {
        parent = await this.hierarchy.parentOf(current, tenantId);
      }
      if (!parent) break;
      chain.push(parent);
      current = parent;
      depth++;
    }
    const applicable = grants.onResources.filter((g) => {
      const on = g.grantedOn as ResourceRef;
      return chain.some((ref) => ref.type === on.type && ref.id === on.id);
    });
    return applicable.length
      ? new RoleSet(this.policy, [...grants.tenantWide.grants, ...applicable])
      : grants.tenantWide;
  }

  private membership(principalId: string, role: string, options: MembershipOptions): StoredMembership {
    if (typeof principalId !== 'string' || principalId === '') {
      throw new RulesConfigurationError('A membership needs a principal id.');
    }
    if (!this.policy.roles.has(role)) throw new RulesConfigurationError(`Unknown role "${role}".`);
    if (options.resource) {
      if (!this.policy.resources.has(options.resource.type)) {
        throw new RulesConfigurationError(
          `Unknown resource type "${options.resource.type}": declare it in RulesModule option resources.`,
        );
      }
      if (typeof options.resource.id !== 'string' || options.resource.id === '') {
        throw new RulesConfigurationError('A membership on a resource needs the resource id.');
      }
    }
    return { tenantId: this.tenantOf(options), principalId, role, resource: options.resource };
  }

  private changeEvent(
    type: RulesChangeEvent['type'],
    tenantId: string,
    subject: Record<string, unknown>,
  ): RulesChangeEvent {
    return { type, tenantId, at: new Date(), changedBy: this.tenancy.current()?.actor?.id, subject };
  }

  /** The hook a store runs inside its writing transaction, and a wait for the change's NOTIFY to come back. */
  private writeHook(event: RulesChangeEvent): {
    hook: (manager: EntityManager) => Promise<void>;
    delivered: () => Promise<void>;
  } {
    const nonce = randomUUID();
    let delivered: () => Promise<void> = () => Promise.resolve();
    const hook = async (manager: EntityManager) => {
      delivered = this.cache.expect(nonce);
      await this.notify(event.tenantId, manager, nonce);
      if (this.audit?.recordChange) await this.audit.recordChange(event, manager);
    };
    return { hook, delivered: () => delivered() };
  }

  private async notify(tenantId: string, manager: EntityManager, nonce?: string): Promise<void> {
    await manager.query('SELECT pg_notify($1, $2)', [
      this.cache.channel,
      JSON.stringify({ t: tenantId, n: nonce }),
    ]);
  }

  /**
   * After a committed change: drops this process's cache of the tenant and waits until the change's NOTIFY
   * came back on this process's LISTEN connection, so every listening process has been signalled before the
   * changing call returns.
   */
  private async changed(
    event: RulesChangeEvent,
    changed: boolean,
    delivered: () => Promise<void>,
  ): Promise<boolean> {
    this.cache.invalidate(event.tenantId);
    if (changed) {
      await delivered();
      this.emit(event);
    }
    return changed;
  }

  private report(input: DecisionInput, allowed: boolean): Explanation | undefined {
    if (this.listeners.length === 0 && !(this.audit?.recordDenied && !allowed)) return undefined;
    const explanation = explainDecision(
      this.policy,
      (input as DecisionInput & { stored: RuleIndex }).stored,
      input,
    );
    const resource = input.resource as Record<string, unknown> | undefined;
    const idField = this.policy.resources.get(input.type)?.idField ?? 'id';
    const event: RulesDecisionEvent = {
      type: allowed ? 'decision.allowed' : 'decision.denied',
      at: new Date(),
      tenantId: input.tenantId,
      principalId: input.principal.id,
      action: input.action,
      resource: resource
        ? { type: input.type, id: resource[idField] == null ? undefined : String(resource[idField]) }
        : undefined,
      decidingRuleIds: explanation.decidingRuleIds,
      rolePath: explanation.rolePath,
      reason: explanation.reason,
    };
    this.emit(event);
    if (!allowed) this.recordDenied(event);
    return explanation;
  }

  private emitRoleDenied(
    principal: RulesPrincipal,
    tenantId: string,
    roles: readonly string[],
    held: RoleSet,
  ): void {
    if (this.listeners.length === 0 && !this.audit?.recordDenied) return;
    const event: RulesDecisionEvent = {
      type: 'decision.denied',
      at: new Date(),
      tenantId,
      principalId: principal.id,
      action: `role:${roles.join('|')}`,
      decidingRuleIds: [],
      rolePath: held.path(),
      reason: `the principal holds none of the roles ${roles.map((r) => `"${r}"`).join(', ')}`,
    };
    this.emit(event);
    this.recordDenied(event);
  }

  private recordDenied(event: RulesDecisionEvent): void {
    if (!this.audit?.recordDenied) return;
    try {
      const result = this.audit.recordDenied(event);
      if (result instanceof Promise) {
        result.catch((err: Error) => this.logger.error(`Audit hook failed to record a deny: ${err.message}`));
      }
    } catch (err) {
      this.logger.error(`Audit hook failed to record a deny: ${(err as Error).message}`);
    }
  }

  private emit(event: RulesEvent): void {
    for (const listener of this.listeners) {
      try {
        listener.onRulesEvent(event);
      } catch (err) {
        this.logger.error(`A rules event listener failed on ${event.type}: ${(err as Error).message}`);
      }
    }
  }
}

function toSubject(m: StoredMembership): Record<string, unknown> {
  return { tenantId: m.tenantId, principalId: m.principalId, role: m.role, resource: m.resource };
}
