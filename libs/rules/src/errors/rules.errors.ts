/**
 * Every failure of the rules layer is one of these named classes. Library errors are not HTTP errors:
 * {@link RulesExceptionFilter} maps them to status codes at the edge (401, 403) without revealing any rule.
 */
export abstract class RulesError extends Error {
  protected constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * The RulesModule configuration is invalid: an unknown role or permission is referenced, roles include each
 * other in a cycle, a condition does not parse, a resource hierarchy is broken. Raised at start-up (or when a
 * rule is stored at run time), naming the culprit.
 */
export class RulesConfigurationError extends RulesError {
  constructor(message: string) {
    super(message);
  }
}

/** A condition expression does not parse. Raised when the rule holding it is compiled. */
export class RulesConditionSyntaxError extends RulesError {
  constructor(
    readonly expression: string,
    readonly position: number,
    detail: string,
  ) {
    super(
      `Condition "${expression}" is malformed at position ${position}: ${detail}. ` +
        'Conditions compare principal.*, resource.* and context.* paths with literals, e.g. "resource.amount > 1000000 && resource.createdBy == principal.id".',
    );
  }
}

/** The decision for an action was deny. `authorize()` throws it; the HTTP body never carries its message. */
export class AccessDeniedError extends RulesError {
  constructor(
    readonly action: string,
    readonly decidingRuleIds: readonly string[],
    readonly reason: string,
  ) {
    super(
      `Access denied for "${action}": ${reason}. ` +
        'Grant the principal a role that holds the permission (RulesService.grant) or add an allow rule; ' +
        'a matching deny rule always wins and must be removed or narrowed first.',
    );
  }
}

/** A protected route or check ran with no principal (actor) in the tenancy context. HTTP 401. */
export class PrincipalMissingError extends RulesError {
  constructor() {
    super(
      'No principal is in context: the request carries no authenticated actor. ' +
        'Resolve the actor with a TenancyModule strategy (e.g. fromJwt) or resolveActor, or mark the route @Public().',
    );
  }
}

/** A decision needs a tenant (roles are held per tenant) and none, or several, are in context. */
export class RulesTenantMissingError extends RulesError {
  constructor() {
    super(
      'Rules decisions need exactly one tenant: roles and rules are held per tenant. Call it inside a request that ' +
        'resolves one tenant, inside TenancyService.run({ tenant }, fn), or pass { tenantId } explicitly.',
    );
  }
}

/** `scope()` cannot express a condition or role grant as SQL for the given entity. */
export class RulesScopeError extends RulesError {
  constructor(detail: string) {
    super(
      `scope() cannot turn the applicable rules into a WHERE clause: ${detail}. ` +
        'Map the resource type to its entity (RulesModule option resources[type].entity with parentField) ' +
        'or keep conditions to resource columns compared with literals, principal.* and context.* values.',
    );
  }
}

/** A write API (grant, revoke, rule changes) was used with a store that does not support it. */
export class RulesStoreReadOnlyError extends RulesError {
  constructor(operation: string) {
    super(
      `The configured store does not support ${operation}. Use the default TypeORM store ` +
        '(add RULES_ENTITIES to your DataSource) or implement the method on your MembershipStore/RuleStore.',
    );
  }
}
