export { AuditModule, checkAuditSchema, createAuditService, registerAuditSettings } from './audit.module';
export { AUDIT_MODULE_OPTIONS } from './audit.module-definition';
export type { AuditModuleOptions } from './audit-options.interface';
export { AuditService } from './audit.service';
export { AuditSealer } from './sealing/audit-sealer';
export type {
  AuditAction,
  AuditDigest,
  AuditEntry,
  AuditEventInput,
  AuditPage,
  AuditQuery,
  AuditSink,
  VerifyOptions,
  VerifyResult,
} from './audit-entry.interface';
export { AuditIgnore, AuditRedact, NotAudited } from './decorators/audit.decorators';
export * from './errors/audit.errors';
export {
  applyAuditSchema,
  auditedTables,
  generateAuditDdl,
  type AuditedTable,
  type AuditSchemaOptions,
} from './schema/audit-schema';
export {
  ACTOR_ID_SETTING,
  ACTOR_TYPE_SETTING,
  CORRELATION_ID_SETTING,
  REVERTS_SETTING,
} from './audit.constants';
