import {
  patternCovers,
  type CompiledPolicy,
  type CompiledRule,
  type RuleBucket,
  type RuleIndex,
} from './rules-policy.compiler';

/** A resource by type and id. */
export interface ResourceRef {
  readonly type: string;
  readonly id: string;
}

/** Where a role was granted: on the whole tenant, or on one resource inside it. */
export type GrantedOn = 'tenant' | ResourceRef;

/** A role the principal holds for the decision at hand, and how it got it. */
export interface RolePathEntry {
  /** The effective role. */
  readonly role: string;
  /** Where the membership that yields it was granted. */
  readonly grantedOn: GrantedOn;
  /** The role actually granted, when `role` is inherited through `includes`. */
  readonly inheritedFrom?: string;
  /** The inclusion chain from the granted role to `role`, when inherited (`['owner', 'admin', 'member']`). */
  readonly via?: readonly string[];
}

/** The outcome of `explain()`. */
export interface Explanation {
  readonly decision: 'allow' | 'deny';
  /**
   * Ids of the deciding rules, highest priority first: for a deny, every matching deny rule; for an allow,
   * every matching allow rule and `role:<name>` for each role holding a permission that covers the action.
   * Empty when nothing matched (deny by default).
   */
  readonly decidingRuleIds: readonly string[];
  /** The roles that took part in the decision (for a default deny: every role the principal holds). */
  readonly rolePath: readonly RolePathEntry[];
  /** A sentence for logs and admin screens (never sent to the client by the guard). */
  readonly reason: string;
}

/** A role granted to a principal (a membership), as the engine sees it. @internal */
export interface RoleGrant {
  readonly role: string;
  readonly grantedOn: GrantedOn;
}

/**
 * The effective roles of a principal for one decision: the granted roles and all they include. Caches which of
 * its roles grant an action. @internal
 */
export class RoleSet {
  readonly roles = new Set<string>();
  private entries: RolePathEntry[] | undefined;
  private readonly granting = new Map<string, readonly string[]>();

  constructor(
    private readonly policy: CompiledPolicy,
    readonly grants: readonly RoleGrant[],
  ) {
    for (const grant of grants) {
      const role = policy.roles.get(grant.role);
      if (!role) continue; // a stored membership of a role no longer configured grants nothing
      for (const r of role.closure) this.roles.add(r);
    }
  }

  /** Effective roles whose own permissions cover the action. */
  grantingRoles(action: string): readonly string[] {
    let found = this.granting.get(action);
    if (found === undefined) {
      const list: string[] = [];
      for (const name of this.roles) {
        if (this.policy.roles.get(name)!.permissions.some((p) => patternCovers(p, action))) list.push(name);
      }
      found = list;
      if (this.granting.size > 1024) this.granting.clear();
      this.granting.set(action, found);
    }
    return found;
  }

  /** How the principal holds each effective role. */
  path(): readonly RolePathEntry[] {
    if (this.entries) return this.entries;
    const out: RolePathEntry[] = [];
    for (const grant of this.grants) {
      const role = this.policy.roles.get(grant.role);
      if (!role) continue;
      for (const name of role.closure) {
        out.push(
          name === grant.role
            ? { role: name, grantedOn: grant.grantedOn }
            : {
                role: name,
                grantedOn: grant.grantedOn,
                inheritedFrom: grant.role,
                via: role.chains.get(name),
              },
        );
      }
    }
    return (this.entries = out);
  }
}

/** Everything a decision depends on. @internal */
export interface DecisionInput {
  readonly tenantId: string;
  readonly principal: { readonly id: string };
  readonly roles: RoleSet;
  readonly action: string;
  /** Resource type of the action (`invoice` for `invoice:approve`). */
  readonly type: string;
  readonly resource: unknown;
  readonly context: unknown;
}

function applies(rule: CompiledRule, input: DecisionInput): boolean {
  switch (rule.bindType) {
    case 'global':
      break;
    case 'tenant':
      if (rule.bindValue !== '' && rule.bindValue !== input.tenantId) return false;
      break;
    case 'role':
      if (!input.roles.roles.has(rule.bindValue)) return false;
      break;
    default:
      if (rule.bindValue !== input.principal.id) return false;
  }
  return rule.test === undefined || rule.test(input.principal, input.resource, input.context);
}

function buckets(index: RuleIndex, input: DecisionInput, out: RuleBucket[]): void {
  const map = index.byAction;
  if (map.size === 0) return;
  let b = map.get(input.action);
  if (b) out.push(b);
  b = map.get(`${input.type}:*`);
  if (b) out.push(b);
  b = map.get('*');
  if (b) out.push(b);
}

/**
 * The deny-overrides decision: any matching deny rule denies; otherwise a matching allow rule or a role
 * permission allows; otherwise deny. Order and priority never let an allow beat a deny. @internal
 */
export function decide(policy: CompiledPolicy, stored: RuleIndex, input: DecisionInput): boolean {
  const found: RuleBucket[] = [];
  buckets(policy.staticRules, input, found);
  buckets(stored, input, found);
  for (const bucket of found) {
    for (const rule of bucket.deny) if (applies(rule, input)) return false;
  }
  if (input.roles.grantingRoles(input.action).length > 0) return true;
  for (const bucket of found) {
    for (const rule of bucket.allow) if (applies(rule, input)) return true;
  }
  return false;
}

const byPriority = (a: CompiledRule, b: CompiledRule) => b.priority - a.priority || (a.id < b.id ? -1 : 1);

/** The same decision as {@link decide}, with the deciding rules and role path. @internal */
export function explainDecision(
  policy: CompiledPolicy,
  stored: RuleIndex,
  input: DecisionInput,
): Explanation {
  const found: RuleBucket[] = [];
  buckets(policy.staticRules, input, found);
  buckets(stored, input, found);
  const denies = new Set<CompiledRule>();
  const allows = new Set<CompiledRule>();
  for (const bucket of found) {
    for (const rule of bucket.deny) if (applies(rule, input)) denies.add(rule);
    for (const rule of bucket.allow) if (applies(rule, input)) allows.add(rule);
  }
  const path = input.roles.path();
  const rolesOf = (names: Iterable<string>) => {
    const set = new Set(names);
    return path.filter((e) => set.has(e.role));
  };
  const boundRoles = (rules: Iterable<CompiledRule>) =>
    [...rules].filter((r) => r.bindType === 'role').map((r) => r.bindValue);
  if (denies.size > 0) {
    const rules = [...denies].sort(byPriority);
    return {
      decision: 'deny',
      decidingRuleIds: rules.map((r) => r.id),
      rolePath: rolesOf(boundRoles(rules)),
      reason: `denied by rule${rules.length > 1 ? 's' : ''} ${rules.map((r) => `"${r.id}"`).join(', ')}`,
    };
  }
  const granting = input.roles.grantingRoles(input.action);
  if (allows.size > 0 || granting.length > 0) {
    const rules = [...allows].sort(byPriority);
    const ids = [...rules.map((r) => r.id), ...granting.map((r) => `role:${r}`)];
    return {
      decision: 'allow',
      decidingRuleIds: ids,
      rolePath: rolesOf([...boundRoles(rules), ...granting]),
      reason: `allowed by ${ids.map((id) => `"${id}"`).join(', ')}`,
    };
  }
  return {
    decision: 'deny',
    decidingRuleIds: [],
    rolePath: path,
    reason: `no rule or role grants "${input.action}" (deny by default)`,
  };
}
