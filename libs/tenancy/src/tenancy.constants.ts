/** Header read by the default header strategy. */
export const DEFAULT_TENANT_HEADER = 'x-tenant-id';
/** Default syntax of a tenant id: 1-64 characters of letters, digits, `_`, `-`, `.`. */
export const DEFAULT_TENANT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** PostgreSQL setting holding the tenant bound on a connection when the context has exactly one. */
export const RLS_TENANT_SETTING = 'bulkhead.tenant';
/** PostgreSQL setting holding the tenants bound on a connection when the context has several (array literal). */
export const RLS_TENANTS_SETTING = 'bulkhead.tenants';
/** PostgreSQL setting that is `'on'` while a connection runs inside `runUnscoped()`. */
export const RLS_UNSCOPED_SETTING = 'bulkhead.unscoped';
/** Name of the policy the DDL generator creates on every tenant-aware table. */
export const RLS_POLICY_NAME = 'bulkhead_tenant_isolation';
