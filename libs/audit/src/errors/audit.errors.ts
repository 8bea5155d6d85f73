/** Base of every audit error; library errors are not HTTP errors. */
export abstract class AuditError extends Error {
  protected constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** No audit entry with that id is visible in the current tenant. */
export class AuditEntryNotFoundError extends AuditError {
  constructor(readonly entryId: string) {
    super(
      `Audit entry ${entryId} does not exist in the current tenant. Check the id, and the tenant in context.`,
    );
  }
}

/** A revert would overwrite changes made after the entry it reverts. */
export class RevertConflictError extends AuditError {
  constructor(
    readonly entryId: string,
    readonly fields: readonly string[],
  ) {
    super(
      `Reverting audit entry ${entryId} would overwrite later changes to ${fields.map((f) => `"${f}"`).join(', ')}. ` +
        'Revert the later entries first, or pass { force: true } to overwrite them.',
    );
  }
}

/** The entry cannot be reverted (for example it is itself part of an entity that no longer maps). */
export class RevertNotPossibleError extends AuditError {
  constructor(entryId: string, reason: string) {
    super(`Audit entry ${entryId} cannot be reverted: ${reason}.`);
  }
}

/** The audit is not installed in the database. Raised at start-up. */
export class AuditNotInstalledError extends AuditError {
  constructor(missing: readonly string[]) {
    super(
      `The audit schema is not installed or is out of date (missing: ${missing.join(', ')}). ` +
        'Run applyAuditSchema(queryRunner, { appRole, rls }) in a migration, as the role that owns the tables.',
    );
  }
}

/** An audit query needs a tenant in context. */
export class AuditTenantRequiredError extends AuditError {
  constructor(operation: string) {
    super(
      `AuditService.${operation}() needs a tenant in context: call it inside a request or TenancyService.run(), ` +
        'or inside runUnscoped() to work across tenants.',
    );
  }
}
