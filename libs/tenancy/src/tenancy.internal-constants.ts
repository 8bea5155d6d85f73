/** Metadata key written by @TenantAware(). */
export const TENANT_AWARE_METADATA = 'bulkhead:tenant-aware';
/** Query-builder parameter names used for the tenant predicate. */
export const TENANT_PARAM = 'bulkhead_tenant';
export const TENANTS_PARAM = 'bulkhead_tenants';
/** Set on provider instances whose methods use @WithTenant()/@Unscoped(), and as metadata on those methods. */
export const JOB_TENANCY_REF = Symbol.for('bulkhead.tenancy.job-tenancy');
