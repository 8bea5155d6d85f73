/**
 * Bulkhead testing kit, for your own app's tests (it belongs in a library: see apps/sample/README.md).
 *
 * - `startTestApp()`: a Nest testing module, configured like main.ts, listening on a random port
 * - `asTenant()` / `asUnscoped()`: run code as a tenant, or with scoping off
 * - `defineFactory()`: build and save entities as a tenant through the app's own DataSource
 * - `assertIsolated()`: prove that listed routes never show or touch another tenant's data
 */
export {
  assertIsolated,
  IsolationError,
  type IsolationOptions,
  type IsolationReport,
  type IsolationRoute,
  type TenantCredentials,
} from './assert-isolated';
export { defineFactory, type Factory } from './factories';
export { HttpClient, type HttpRequestOptions, type HttpResponse } from './http-client';
export { asTenant, asUnscoped, TEST_ACTOR } from './tenant-context.util';
export { startTestApp, type TestApp, type TestAppOptions } from './testing-app.util';
