import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { EntityMetadata } from 'typeorm/metadata/EntityMetadata';
import { TENANT_AWARE_METADATA } from '../tenancy.internal-constants';
import { TenancyConfigurationError } from '../errors/tenancy.errors';

const cache = new WeakMap<EntityMetadata, ColumnMetadata | null>();

/**
 * The tenant column of an entity marked `@TenantAware()`, or `null` for other entities. Cached per metadata.
 * Exported as `getTenantColumn` for libraries built on Bulkhead (the audit reads a row's tenant from it).
 */
export function tenantColumnOf(metadata: EntityMetadata): ColumnMetadata | null {
  const cached = cache.get(metadata);
  if (cached !== undefined) return cached;
  let column: ColumnMetadata | null = null;
  const target = metadata.target;
  if (typeof target === 'function') {
    const options = Reflect.getMetadata(TENANT_AWARE_METADATA, target) as { column: string } | undefined;
    if (options) {
      column = metadata.findColumnWithPropertyPath(options.column) ?? null;
      if (!column) {
        throw new TenancyConfigurationError(
          `@TenantAware() entity "${metadata.name}" has no column property "${options.column}". ` +
            `Add @Column() ${options.column} to the entity, or name the right property: @TenantAware({ column: '...' }).`,
        );
      }
    }
  }
  cache.set(metadata, column);
  return column;
}
