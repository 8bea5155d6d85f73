export { TenancyModule } from './tenancy.module';
export { TENANCY_MODULE_OPTIONS } from './tenancy.module-definition';
export type { TenancyModuleOptions } from './tenancy-options.interface';
export { TenancyService, createTenancyService } from './tenancy.service';
export type {
  Actor,
  ActorType,
  ContextSource,
  RunContextInput,
  TenancyContext,
} from './context/tenancy-context.interface';
export { TenantAware, type TenantAwareOptions } from './decorators/tenant-aware.decorator';
export { tenantColumnOf as getTenantColumn } from './scoping/tenant-aware.metadata';
export { NoTenant } from './decorators/no-tenant.decorator';
export { WithTenant, Unscoped } from './decorators/job-context.decorator';
export * from './errors/tenancy.errors';
export type {
  TenancyEvent,
  TenancyEventListener,
  ContextBoundEvent,
  ContextReleasedEvent,
  BypassUsedEvent,
  ViolationRefusedEvent,
  ResolutionFailedEvent,
} from './events/tenancy-events';
export { TenancyExceptionFilter, type TenancyErrorBody } from './filters/tenancy-exception.filter';
export { TenancyGuard } from './resolution/tenancy.guard';
export { TenancyMiddleware } from './resolution/tenancy.middleware';
export { TenantResolver, type ResolvedTenancy } from './resolution/tenant-resolver';
export type {
  StrategyResult,
  TenancyRequest,
  TenantResolutionStrategy,
  TenantValidation,
  TenantValidationInput,
  TenantValidator,
} from './resolution/tenant-resolution.interface';
export {
  fromCustom,
  fromHeader,
  fromHost,
  fromJwt,
  fromRouteParam,
  type HostStrategyOptions,
  type JwtStrategyOptions,
} from './resolution/tenant-resolution.strategies';
export type { ConnectionSetting } from './rls/connection-guard';
export {
  applyRlsPolicies,
  dropRlsPolicies,
  findRlsProblems,
  generateRlsDdl,
  rlsPolicyExpression,
  rlsTables,
  type RlsDdl,
  type RlsTable,
} from './rls/rls-policy';
export {
  DEFAULT_TENANT_HEADER,
  DEFAULT_TENANT_ID_PATTERN,
  RLS_POLICY_NAME,
  RLS_TENANT_SETTING,
  RLS_TENANTS_SETTING,
  RLS_UNSCOPED_SETTING,
} from './tenancy.constants';
