import type { EntityTarget, ObjectLiteral } from 'typeorm';
import { RulesConditionSyntaxError, RulesConfigurationError } from '../errors/rules.errors';
import type { RuleDefinition, RuleEffect, RulesModuleOptions } from '../rules-options.interface';
import {
  compileCondition,
  type CompiledCondition,
  type ConditionPredicate,
} from './rules-condition.compiler';

/** A role with its transitive inclusions. @internal */
export interface CompiledRole {
  readonly name: string;
  /** Itself and every role it includes, transitively (breadth-first). */
  readonly closure: readonly string[];
  /** For each role of the closure, the inclusion chain from this role to it (`['owner', 'admin', 'member']`). */
  readonly chains: ReadonlyMap<string, readonly string[]>;
  /** Permission patterns granted to this role directly. */
  readonly permissions: readonly string[];
}

/** A compiled rule. @internal */
export interface CompiledRule {
  readonly id: string;
  readonly effect: RuleEffect;
  /** Normalised action patterns (`invoice:approve`, `invoice:*`, `*`). */
  readonly actions: readonly string[];
  readonly resourceType: string | undefined;
  readonly conditions: readonly CompiledCondition[];
  /** All conditions at once; `undefined` when there are none. */
  readonly test: ConditionPredicate | undefined;
  readonly priority: number;
  readonly bindType: 'global' | 'tenant' | 'role' | 'principal';
  readonly bindValue: string;
  readonly definition: RuleDefinition;
}

/** Rules of one action pattern, split by effect. @internal */
export interface RuleBucket {
  readonly deny: CompiledRule[];
  readonly allow: CompiledRule[];
}

/** Rules indexed by action pattern. @internal */
export class RuleIndex {
  static readonly EMPTY = new RuleIndex([]);
  readonly byAction = new Map<string, RuleBucket>();

  constructor(readonly rules: readonly CompiledRule[]) {
    for (const rule of rules) {
      for (const action of rule.actions) {
        let bucket = this.byAction.get(action);
        if (!bucket) this.byAction.set(action, (bucket = { deny: [], allow: [] }));
        bucket[rule.effect].push(rule);
      }
    }
  }
}

/** A resource type of the hierarchy. @internal */
export interface CompiledResource {
  readonly type: string;
  readonly parent: string | undefined;
  readonly parentField: string | undefined;
  readonly idField: string;
  readonly entity: EntityTarget<ObjectLiteral> | undefined;
  /** Ancestor types, nearest first. */
  readonly ancestors: readonly string[];
}

/** Whether a permission or action pattern covers an action. @internal */
export function patternCovers(pattern: string, action: string): boolean {
  if (pattern === '*' || pattern === action) return true;
  return pattern.endsWith(':*') && action.startsWith(pattern.slice(0, -1));
}

/** The resource type named by an action (`invoice:approve` -> `invoice`). @internal */
export function actionType(action: string): string {
  const i = action.indexOf(':');
  return i < 0 ? action : action.slice(0, i);
}

const ID_PATTERN = /^[A-Za-z0-9_.\-:/]{1,128}$/;

/**
 * The validated, compiled form of `RulesModule` options: roles with their closures, the permission catalogue,
 * the static rules and the resource hierarchy. Throws `RulesConfigurationError` naming the culprit. @internal
 */
export class CompiledPolicy {
  readonly roles = new Map<string, CompiledRole>();
  readonly resources = new Map<string, CompiledResource>();
  readonly staticRules: RuleIndex;
  private readonly catalogue = new Set<string>();
  private readonly catalogueTypes = new Set<string>();

  constructor(options: RulesModuleOptions) {
    if (!options || typeof options.roles !== 'object' || options.roles === null) {
      throw new RulesConfigurationError('RulesModule.forRoot() needs a "roles" object (it may be empty).');
    }
    this.compileResources(options);
    this.compileRoles(options);
    this.staticRules = this.compileRules(options.rules ?? [], 'static');
  }

  /** Whether an action or permission pattern names the catalogue. */
  knowsPermission(pattern: string): boolean {
    if (pattern === '*') return true;
    if (pattern.endsWith(':*')) return this.catalogueTypes.has(pattern.slice(0, -2));
    return this.catalogue.has(pattern);
  }

  /** Validates and compiles rules; `origin` names where they come from in messages. */
  compileRules(definitions: readonly RuleDefinition[], origin: 'static' | 'stored'): RuleIndex {
    const seen = new Set<string>();
    const compiled = definitions.map((def) => {
      const rule = this.compileRule(def, origin);
      if (seen.has(rule.id)) throw new RulesConfigurationError(`Rule id "${rule.id}" is used twice.`);
      seen.add(rule.id);
      return rule;
    });
    return new RuleIndex(compiled);
  }

  /** Validates and compiles one rule. */
  compileRule(def: RuleDefinition, origin: 'static' | 'stored'): CompiledRule {
    const id = def?.id;
    if (typeof id !== 'string' || !ID_PATTERN.test(id) || id.startsWith('role:')) {
      throw new RulesConfigurationError(
        `Rule id ${JSON.stringify(id)} is invalid: use 1-128 letters, digits, "_-.:/", not starting with "role:".`,
      );
    }
    if (def.effect !== 'allow' && def.effect !== 'deny') {
      throw new RulesConfigurationError(
        `Rule "${id}" has effect ${JSON.stringify(def.effect)}; use "allow" or "deny".`,
      );
    }
    if (!Array.isArray(def.actions) || def.actions.length === 0) {
      throw new RulesConfigurationError(`Rule "${id}" names no actions; list at least one ("invoice:read").`);
    }
    const actions = def.actions.map((a) => {
      if (typeof a !== 'string' || a === '') {
        throw new RulesConfigurationError(`Rule "${id}" has an empty action.`);
      }
      const action = a.includes(':') || a === '*' ? a : def.resourceType ? `${def.resourceType}:${a}` : a;
      if (!action.includes(':') && action !== '*') {
        throw new RulesConfigurationError(
          `Rule "${id}" action "${a}" names no resource type: write "invoice:${a}" or set resourceType.`,
        );
      }
      if (def.resourceType && action !== '*' && actionType(action) !== def.resourceType) {
        throw new RulesConfigurationError(
          `Rule "${id}" action "${a}" is not about its resourceType "${def.resourceType}".`,
        );
      }
      if (!this.knowsPermission(action)) {
        throw new RulesConfigurationError(
          `Rule "${id}" names unknown permission "${action}". Declare it in RulesModule option permissions.`,
        );
      }
      return action;
    });
    const sources =
      def.conditions === undefined
        ? []
        : typeof def.conditions === 'string'
          ? [def.conditions]
          : [...def.conditions];
    const conditions = sources.map((source) => {
      try {
        return compileCondition(source);
      } catch (err) {
        if (err instanceof RulesConditionSyntaxError) {
          throw new RulesConfigurationError(`Rule "${id}" has a malformed condition: ${err.message}`);
        }
        throw err;
      }
    });
    const tests = conditions.map((c) => c.test);
    const test: ConditionPredicate | undefined =
      tests.length === 0
        ? undefined
        : tests.length === 1
          ? tests[0]
          : (p, r, c) => {
              for (const t of tests) if (!t(p, r, c)) return false;
              return true;
            };
    const bind = def.bind ?? { type: origin === 'static' ? 'global' : 'tenant' };
    let bindValue = '';
    switch (bind.type) {
      case 'global':
        if (origin === 'stored') {
          throw new RulesConfigurationError(
            `Stored rule "${id}" cannot be global: stored rules belong to their tenant. Declare global rules in RulesModule.forRoot({ rules }).`,
          );
        }
        break;
      case 'tenant':
        bindValue = origin === 'stored' || !('tenantId' in bind) ? '' : bind.tenantId;
        if (origin === 'static' && bindValue === '') {
          throw new RulesConfigurationError(`Rule "${id}" is bound to a tenant but names no tenantId.`);
        }
        break;
      case 'role':
        if (!this.roles.has(bind.role)) {
          throw new RulesConfigurationError(`Rule "${id}" is bound to unknown role "${bind.role}".`);
        }
        bindValue = bind.role;
        break;
      case 'principal':
        if (typeof bind.principalId !== 'string' || bind.principalId === '') {
          throw new RulesConfigurationError(`Rule "${id}" is bound to a principal but names no principalId.`);
        }
        bindValue = bind.principalId;
        break;
      default:
        throw new RulesConfigurationError(
          `Rule "${id}" has binding ${JSON.stringify(bind)}; bind it to global, tenant, role or principal.`,
        );
    }
    const priority = def.priority ?? 0;
    if (typeof priority !== 'number' || !Number.isFinite(priority)) {
      throw new RulesConfigurationError(`Rule "${id}" has a priority that is not a finite number.`);
    }
    return {
      id,
      effect: def.effect,
      actions,
      resourceType: def.resourceType,
      conditions,
      test,
      priority,
      bindType: bind.type,
      bindValue,
      definition: def,
    };
  }

  private compileResources(options: RulesModuleOptions): void {
    const defs = options.resources ?? {};
    for (const [type, def] of Object.entries(defs)) {
      if (def.parent !== undefined && !(def.parent in defs)) {
        throw new RulesConfigurationError(`Resource type "${type}" has unknown parent "${def.parent}".`);
      }
      if (def.parent !== undefined && !def.parentField) {
        throw new RulesConfigurationError(
          `Resource type "${type}" has parent "${def.parent}" but no parentField (the property holding the parent's id).`,
        );
      }
    }
    for (const [type, def] of Object.entries(defs)) {
      const ancestors: string[] = [];
      let parent = def.parent;
      while (parent !== undefined) {
        if (parent === type || ancestors.includes(parent)) {
          throw new RulesConfigurationError(
            `Resource hierarchy has a cycle: ${[type, ...ancestors, parent].join(' > ')}.`,
          );
        }
        ancestors.push(parent);
        parent = defs[parent].parent;
      }
      this.resources.set(type, {
        type,
        parent: def.parent,
        parentField: def.parentField,
        idField: def.idField ?? 'id',
        entity: def.entity,
        ancestors,
      });
    }
  }

  private compileRoles(options: RulesModuleOptions): void {
    const defs = options.roles;
    for (const [name, def] of Object.entries(defs)) {
      for (const inc of def.includes ?? []) {
        if (!(inc in defs))
          throw new RulesConfigurationError(`Role "${name}" includes unknown role "${inc}".`);
      }
    }
    // cycle detection (depth-first, reports the cycle)
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, stack: string[]): void => {
      if (state.get(name) === 'done') return;
      if (state.get(name) === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(name)), name];
        throw new RulesConfigurationError(`Roles include each other in a cycle: ${cycle.join(' -> ')}.`);
      }
      state.set(name, 'visiting');
      for (const inc of defs[name].includes ?? []) visit(inc, [...stack, name]);
      state.set(name, 'done');
    };
    for (const name of Object.keys(defs)) visit(name, []);

    const declared = options.permissions;
    const all = declared ?? [
      ...Object.values(defs).flatMap((d) => d.permissions ?? []),
      ...(options.rules ?? []).flatMap((r) =>
        (r.actions ?? []).map((a) => (a.includes(':') || !r.resourceType ? a : `${r.resourceType}:${a}`)),
      ),
    ];
    for (const p of all) {
      if (typeof p !== 'string' || (declared && !/^[^:*\s]+:[^:*\s]+$/.test(p))) {
        throw new RulesConfigurationError(
          `Permission ${JSON.stringify(p)} is malformed: declare permissions as "<resource type>:<action>".`,
        );
      }
      if (p.includes('*')) continue;
      this.catalogue.add(p);
      this.catalogueTypes.add(actionType(p));
    }
    for (const [name, def] of Object.entries(defs)) {
      for (const p of def.permissions ?? []) {
        if (!this.knowsPermission(p)) {
          throw new RulesConfigurationError(`Role "${name}" is granted unknown permission "${p}".`);
        }
      }
    }
    for (const name of Object.keys(defs)) {
      const chains = new Map<string, string[]>([[name, [name]]]);
      const queue = [name];
      while (queue.length) {
        const current = queue.shift()!;
        for (const inc of defs[current].includes ?? []) {
          if (chains.has(inc)) continue;
          chains.set(inc, [...chains.get(current)!, inc]);
          queue.push(inc);
        }
      }
      this.roles.set(name, {
        name,
        closure: [...chains.keys()],
        chains,
        permissions: [...(defs[name].permissions ?? [])],
      });
    }
  }
}
