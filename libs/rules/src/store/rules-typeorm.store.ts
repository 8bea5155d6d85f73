import type { DataSource } from 'typeorm';
import { IsNull } from 'typeorm';
import type { TenancyService } from '@bulkhead/tenancy';
import type { ResourceRef } from '../engine/rules.engine';
import type { CompiledResource } from '../engine/rules-policy.compiler';
import type { RuleBinding, RuleDefinition } from '../rules-options.interface';
import { RulesMembership, RulesRule } from './rules.entities';
import type {
  MembershipStore,
  ResourceHierarchy,
  RuleStore,
  RulesWriteHook,
  StoredMembership,
} from './rules-store.interface';

const SERVICE_ACTOR = { id: 'bulkhead-rules', type: 'service' } as const;

/**
 * The default store: memberships and rules in the `rules_membership` and `rules_rule` tables (tenant-scoped
 * entities), every read and write bound to the tenant it is about. @internal
 */
export class TypeOrmRulesStore implements MembershipStore, RuleStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tenancy: TenancyService,
  ) {}

  private inTenant<T>(tenantId: string, fn: () => Promise<T>): Promise<T> {
    const actor = this.tenancy.current()?.actor ?? SERVICE_ACTOR;
    return this.tenancy.run({ tenant: tenantId, actor }, fn);
  }

  membershipsOf(tenantId: string, principalId: string): Promise<readonly StoredMembership[]> {
    return this.inTenant(tenantId, async () => {
      const rows = await this.dataSource.getRepository(RulesMembership).find({
        where: { tenantId, principalId },
        select: { role: true, resourceType: true, resourceId: true },
      });
      return rows.map((r) => ({
        tenantId,
        principalId,
        role: r.role,
        resource:
          r.resourceType !== null && r.resourceId !== null
            ? { type: r.resourceType, id: r.resourceId }
            : undefined,
      }));
    });
  }

  grant(m: StoredMembership, afterWrite: RulesWriteHook): Promise<boolean> {
    return this.inTenant(m.tenantId, () =>
      this.dataSource.transaction(async (manager) => {
        const repo = manager.getRepository(RulesMembership);
        const where = this.where(m);
        if (await repo.exists({ where })) return false;
        await repo.insert({
          tenantId: m.tenantId,
          principalId: m.principalId,
          role: m.role,
          resourceType: m.resource?.type ?? null,
          resourceId: m.resource?.id ?? null,
        });
        await afterWrite(manager);
        return true;
      }),
    );
  }

  revoke(m: StoredMembership, afterWrite: RulesWriteHook): Promise<boolean> {
    return this.inTenant(m.tenantId, () =>
      this.dataSource.transaction(async (manager) => {
        const result = await manager.getRepository(RulesMembership).delete(this.where(m));
        if (!result.affected) return false;
        await afterWrite(manager);
        return true;
      }),
    );
  }

  rulesOf(tenantId: string): Promise<readonly RuleDefinition[]> {
    return this.inTenant(tenantId, async () => {
      const rows = await this.dataSource
        .getRepository(RulesRule)
        .find({ where: { tenantId }, order: { id: 'ASC' } });
      return rows.map(toDefinition);
    });
  }

  saveRule(
    tenantId: string,
    rule: RuleDefinition,
    afterWrite: RulesWriteHook,
  ): Promise<'created' | 'updated'> {
    return this.inTenant(tenantId, () =>
      this.dataSource.transaction(async (manager) => {
        const repo = manager.getRepository(RulesRule);
        const existed = await repo.exists({ where: { tenantId, id: rule.id } });
        const bind = rule.bind ?? { type: 'tenant', tenantId };
        await repo.save(
          repo.create({
            tenantId,
            id: rule.id,
            effect: rule.effect,
            actions: [...rule.actions],
            resourceType: rule.resourceType ?? null,
            conditions:
              rule.conditions === undefined
                ? null
                : typeof rule.conditions === 'string'
                  ? [rule.conditions]
                  : [...rule.conditions],
            priority: rule.priority ?? 0,
            bindType: bind.type === 'global' ? 'tenant' : bind.type,
            bindValue: bind.type === 'role' ? bind.role : bind.type === 'principal' ? bind.principalId : null,
          }),
        );
        await afterWrite(manager);
        return existed ? 'updated' : 'created';
      }),
    );
  }

  removeRule(
    tenantId: string,
    ruleId: string,
    afterWrite: RulesWriteHook,
  ): Promise<RuleDefinition | undefined> {
    return this.inTenant(tenantId, () =>
      this.dataSource.transaction(async (manager) => {
        const repo = manager.getRepository(RulesRule);
        const row = await repo.findOne({ where: { tenantId, id: ruleId } });
        if (!row) return undefined;
        await repo.delete({ tenantId, id: ruleId });
        await afterWrite(manager);
        return toDefinition(row);
      }),
    );
  }

  private where(m: StoredMembership) {
    return {
      tenantId: m.tenantId,
      principalId: m.principalId,
      role: m.role,
      resourceType: m.resource ? m.resource.type : IsNull(),
      resourceId: m.resource ? m.resource.id : IsNull(),
    };
  }
}

function toDefinition(row: RulesRule): RuleDefinition {
  const bind: RuleBinding =
    row.bindType === 'role'
      ? { type: 'role', role: row.bindValue ?? '' }
      : row.bindType === 'principal'
        ? { type: 'principal', principalId: row.bindValue ?? '' }
        : { type: 'tenant', tenantId: row.tenantId };
  return {
    id: row.id,
    effect: row.effect,
    actions: row.actions,
    resourceType: row.resourceType ?? undefined,
    conditions: row.conditions ?? undefined,
    priority: row.priority,
    bind,
  };
}

/**
 * The default resource hierarchy: loads a resource's parent id through the entity and `parentField` declared
 * in option `resources`, inside the resource's tenant. Without an entity, a resource's parent is unknown. @internal
 */
export class EntityResourceHierarchy implements ResourceHierarchy {
  constructor(
    private readonly resources: ReadonlyMap<string, CompiledResource>,
    private readonly dataSource: () => DataSource | undefined,
    private readonly tenancy: TenancyService,
  ) {}

  async parentOf(resource: ResourceRef, tenantId: string): Promise<ResourceRef | undefined> {
    const def = this.resources.get(resource.type);
    const dataSource = this.dataSource();
    if (!def?.parent || !def.parentField || !def.entity || !dataSource) return undefined;
    const parentType = def.parent;
    const parentField = def.parentField;
    const actor = this.tenancy.current()?.actor ?? SERVICE_ACTOR;
    return this.tenancy.run({ tenant: tenantId, actor }, async () => {
      const row = await dataSource.getRepository(def.entity!).findOne({
        where: { [def.idField]: resource.id },
        select: { [def.idField]: true, [parentField]: true },
      });
      const parentId = row?.[parentField] as unknown;
      return parentId === null || parentId === undefined
        ? undefined
        : { type: parentType, id: String(parentId) };
    });
  }
}
