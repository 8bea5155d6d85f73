import type { EntityMetadata, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { RulesScopeError } from '../errors/rules.errors';
import { evaluateConstant, type ConditionNode } from '../engine/rules-condition.compiler';
import type { ResourceRef, RoleGrant, RoleSet } from '../engine/rules.engine';
import {
  patternCovers,
  type CompiledPolicy,
  type CompiledRule,
  type RuleIndex,
} from '../engine/rules-policy.compiler';

/** A SQL fragment that is never NULL, or a constant. */
type Sql = { readonly sql: string } | { readonly constant: boolean };

const TRUE: Sql = { constant: true };
const FALSE: Sql = { constant: false };

function and(parts: Sql[]): Sql {
  const out: string[] = [];
  for (const p of parts) {
    if ('constant' in p) {
      if (!p.constant) return FALSE;
    } else out.push(p.sql);
  }
  return out.length === 0
    ? TRUE
    : { sql: out.length === 1 ? out[0] : out.map((s) => `(${s})`).join(' AND ') };
}

function or(parts: Sql[]): Sql {
  const out: string[] = [];
  for (const p of parts) {
    if ('constant' in p) {
      if (p.constant) return TRUE;
    } else out.push(p.sql);
  }
  return out.length === 0
    ? FALSE
    : { sql: out.length === 1 ? out[0] : out.map((s) => `(${s})`).join(' OR ') };
}

function not(p: Sql): Sql {
  return 'constant' in p ? { constant: !p.constant } : { sql: `NOT (${p.sql})` };
}

/** What `scope()` needs to know. @internal */
export interface ScopeInput<T extends ObjectLiteral> {
  readonly qb: SelectQueryBuilder<T>;
  readonly metadata: EntityMetadata;
  readonly metadataOf: (type: string) => EntityMetadata | undefined;
  readonly policy: CompiledPolicy;
  readonly stored: RuleIndex;
  readonly tenantId: string;
  readonly principal: { readonly id: string };
  readonly action: string;
  readonly type: string;
  readonly context: unknown;
  /** Tenant-wide roles. */
  readonly tenantRoles: RoleSet;
  /** Roles granted on single resources. */
  readonly resourceGrants: readonly RoleGrant[];
}

/**
 * Builds the WHERE clause holding exactly the rows the deny-overrides decision allows, with every value bound
 * as a parameter. @internal
 */
export function buildScope<T extends ObjectLiteral>(
  input: ScopeInput<T>,
): { sql: string; params: Record<string, unknown> } {
  const { qb, policy } = input;
  const alias = qb.alias;
  const params: Record<string, unknown> = {};
  let n = 0;
  const prefix = `rules_${Math.random().toString(36).slice(2, 8)}_`;
  const param = (value: unknown): string => {
    const name = `${prefix}${n++}`;
    params[name] = value;
    return name;
  };
  const column = (metadata: EntityMetadata, a: string, property: string): string => {
    const col = metadata.findColumnWithPropertyPath(property);
    if (!col) throw new RulesScopeError(`entity ${metadata.name} has no column for "${property}"`);
    return `${qb.escape(a)}.${qb.escape(col.databaseName)}`;
  };
  const resourceDef = policy.resources.get(input.type);

  /** SQL for "the row is the resource `ref` or one of its descendants". */
  const under = (ref: ResourceRef): Sql => {
    if (ref.type === input.type) {
      return { sql: `${column(input.metadata, alias, resourceDef?.idField ?? 'id')} = :${param(ref.id)}` };
    }
    const ancestors = resourceDef?.ancestors ?? [];
    const depth = ancestors.indexOf(ref.type);
    if (depth < 0) return FALSE;
    // row.parentField IN (SELECT id FROM parent WHERE parent.parentField IN (... = :id))
    let inner = `:${param(ref.id)}`;
    for (let i = depth; i >= 1; i--) {
      const t = ancestors[i - 1];
      const def = policy.resources.get(t)!;
      const meta = input.metadataOf(t);
      if (!meta)
        throw new RulesScopeError(`resource type "${t}" has no entity to follow the hierarchy through`);
      const a = `${prefix}h${i}`;
      inner = `(SELECT ${column(meta, a, def.idField)} FROM ${qb.escape(meta.tablePath)} ${qb.escape(a)} WHERE ${column(meta, a, def.parentField!)} ${i === depth ? '=' : 'IN'} ${inner})`;
    }
    const own = column(input.metadata, alias, resourceDef!.parentField!);
    return { sql: depth === 0 ? `${own} = ${inner}` : `${own} IN ${inner}` };
  };

  const closureHas = (grant: RoleGrant, role: string) =>
    policy.roles.get(grant.role)?.closure.includes(role) ?? false;

  const binding = (rule: CompiledRule): Sql => {
    switch (rule.bindType) {
      case 'global':
        return TRUE;
      case 'tenant':
        return rule.bindValue === '' || rule.bindValue === input.tenantId ? TRUE : FALSE;
      case 'principal':
        return rule.bindValue === input.principal.id ? TRUE : FALSE;
      default:
        if (input.tenantRoles.roles.has(rule.bindValue)) return TRUE;
        return or(
          input.resourceGrants
            .filter((g) => closureHas(g, rule.bindValue))
            .map((g) => under(g.grantedOn as ResourceRef)),
        );
    }
  };

  const constant = (node: ConditionNode) => evaluateConstant(node, input.principal, input.context);
  const isResource = (node: ConditionNode) => node.kind === 'path' && node.root === 'resource';
  const usesResource = (node: ConditionNode): boolean =>
    node.kind === 'path'
      ? node.root === 'resource'
      : node.kind === 'literal'
        ? false
        : node.kind === 'not'
          ? usesResource(node.operand)
          : usesResource(node.left) || usesResource(node.right);
  const col = (node: ConditionNode): string => {
    const path = (node as { path: readonly string[] }).path;
    if (path.length !== 1) throw new RulesScopeError(`nested path resource.${path.join('.')} has no column`);
    return column(input.metadata, alias, path[0]);
  };

  const condition = (node: ConditionNode): Sql => {
    if (!usesResource(node)) return constant(node) === true ? TRUE : FALSE;
    switch (node.kind) {
      case 'path':
        return { sql: `${col(node)} IS TRUE` };
      case 'not':
        return not(condition(node.operand));
      case 'and':
        return and([condition(node.left), condition(node.right)]);
      case 'or':
        return or([condition(node.left), condition(node.right)]);
      case 'literal':
        return FALSE;
      case 'compare': {
        const { op, left, right } = node;
        for (const side of [left, right]) {
          if (usesResource(side) && !isResource(side)) {
            throw new RulesScopeError(`a comparison operand mixes resource attributes into an expression`);
          }
        }
        if (op === 'in') {
          if (isResource(left) && !usesResource(right)) {
            const list = constant(right);
            const values = Array.isArray(list) ? list.filter((v) => v !== null && v !== undefined) : [];
            if (values.length === 0) return FALSE;
            return { sql: `COALESCE(${col(left)} IN (:...${param(values)}), FALSE)` };
          }
          if (!usesResource(left) && isResource(right)) {
            const v = constant(left);
            if (v === null || v === undefined) return FALSE;
            return { sql: `COALESCE(:${param(v)} = ANY(${col(right)}), FALSE)` };
          }
          throw new RulesScopeError('"in" between two resource attributes');
        }
        const bothColumns = isResource(left) && isResource(right);
        if (bothColumns) {
          const l = col(left);
          const r = col(right);
          if (op === '==') return { sql: `${l} IS NOT DISTINCT FROM ${r}` };
          if (op === '!=') return { sql: `${l} IS DISTINCT FROM ${r}` };
          return { sql: `COALESCE(${l} ${op} ${r}, FALSE)` };
        }
        const columnOnLeft = isResource(left);
        const c = col(columnOnLeft ? left : right);
        const v = constant(columnOnLeft ? right : left);
        if (v === null || v === undefined) {
          if (op === '==') return { sql: `${c} IS NULL` };
          if (op === '!=') return { sql: `${c} IS NOT NULL` };
          return FALSE;
        }
        if (typeof v === 'object' && !(v instanceof Date)) {
          throw new RulesScopeError(`a ${op} comparison with a list or object value`);
        }
        const p = `:${param(v)}`;
        if (op === '==') return { sql: `COALESCE(${c} = ${p}, FALSE)` };
        if (op === '!=') return { sql: `${c} IS DISTINCT FROM ${p}` };
        return { sql: `COALESCE(${columnOnLeft ? `${c} ${op} ${p}` : `${p} ${op} ${c}`}, FALSE)` };
      }
    }
  };

  const ruleSql = (rule: CompiledRule): Sql =>
    and([binding(rule), ...rule.conditions.map((c) => condition(c.node))]);

  const candidates: CompiledRule[] = [];
  for (const index of [policy.staticRules, input.stored]) {
    for (const key of [input.action, `${input.type}:*`, '*']) {
      const bucket = index.byAction.get(key);
      if (bucket) candidates.push(...bucket.deny, ...bucket.allow);
    }
  }
  const denies = or(candidates.filter((r) => r.effect === 'deny').map(ruleSql));
  const roleGrants: Sql[] = [];
  if (input.tenantRoles.grantingRoles(input.action).length > 0) roleGrants.push(TRUE);
  else {
    for (const grant of input.resourceGrants) {
      const closure = policy.roles.get(grant.role)?.closure ?? [];
      const grants = closure.some((r) =>
        policy.roles.get(r)!.permissions.some((p) => patternCovers(p, input.action)),
      );
      if (grants) roleGrants.push(under(grant.grantedOn as ResourceRef));
    }
  }
  const allows = or([...roleGrants, ...candidates.filter((r) => r.effect === 'allow').map(ruleSql)]);
  const where = and([not(denies), allows]);
  return { sql: 'constant' in where ? (where.constant ? 'TRUE' : 'FALSE') : where.sql, params };
}
