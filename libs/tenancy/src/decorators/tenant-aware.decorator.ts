import { TENANT_AWARE_METADATA } from '../tenancy.internal-constants';

/** Options of {@link TenantAware}. */
export interface TenantAwareOptions {
  /** Property name of the tenant column on the entity. Default: `'tenantId'`. */
  readonly column?: string;
}

/**
 * Marks an entity as tenant-aware: every TypeORM read and write of it is scoped to the tenant(s) in context,
 * and any access with no tenant in context throws `MissingTenantContextError` before SQL runs.
 *
 * ```ts
 * @TenantAware()            // tenant column is the `tenantId` property
 * @Entity()
 * export class Invoice { @Column() tenantId: string; ... }
 * ```
 */
export function TenantAware(options: TenantAwareOptions = {}): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(TENANT_AWARE_METADATA, { column: options.column ?? 'tenantId' }, target);
  };
}
