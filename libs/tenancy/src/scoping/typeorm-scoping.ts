import { QueryFailedError, type DataSource, type EntityMetadata, type ObjectLiteral } from 'typeorm';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { InsertQueryBuilder } from 'typeorm/query-builder/InsertQueryBuilder';
import { QueryBuilder } from 'typeorm/query-builder/QueryBuilder';
import { SelectQueryBuilder } from 'typeorm/query-builder/SelectQueryBuilder';
import { UpdateQueryBuilder } from 'typeorm/query-builder/UpdateQueryBuilder';
import { SoftDeleteQueryBuilder } from 'typeorm/query-builder/SoftDeleteQueryBuilder';
import type { Alias } from 'typeorm/query-builder/Alias';
import type { ContextFrame } from '../context/tenancy-context.store';
import {
  AmbiguousTenantWriteError,
  CrossTenantAccessError,
  MissingTenantContextError,
  TenancyError,
  TenancyNotAttachedError,
} from '../errors/tenancy.errors';
import { TENANT_PARAM, TENANTS_PARAM } from '../tenancy.internal-constants';
import { tenantColumnOf } from './tenant-aware.metadata';

/**
 * What the query-builder hooks need from the TenancyModule a DataSource is attached to.
 * @internal
 */
export interface ScopingRuntime {
  frame(): ContextFrame | undefined;
  /** Reports a refused operation (security event) and returns the error to throw. */
  refuse<E extends TenancyError>(error: E): E;
  /** Called with every SQL text a query builder generated while a tenant scope was applied. */
  onScopedSql(sql: string): void;
}

interface Scope {
  readonly column: ColumnMetadata;
  readonly tenantIds: readonly string[];
}

// A DataSource is attached to at most one TenancyModule; the map is keyed by instance so nothing outlives it.
const runtimes = new WeakMap<DataSource, ScopingRuntime>();
const tableIndex = new WeakMap<DataSource, Map<string, EntityMetadata>>();

/** @internal */
export function attachScoping(dataSource: DataSource, runtime: ScopingRuntime): void {
  installHooks();
  runtimes.set(dataSource, runtime);
}

/** @internal */
export function detachScoping(dataSource: DataSource): void {
  runtimes.delete(dataSource);
}

/** Tenant-aware entity metadata by table path, for builders that name a table instead of an entity. */
function tenantAwareByTable(dataSource: DataSource, tablePath: string): EntityMetadata | undefined {
  let index = tableIndex.get(dataSource);
  if (!index) {
    index = new Map();
    for (const m of dataSource.entityMetadatas) if (tenantColumnOf(m)) index.set(m.tablePath, m);
    tableIndex.set(dataSource, index);
  }
  return index.get(tablePath);
}

function metadataOfAlias(qb: AnyBuilder, alias: Alias | undefined): EntityMetadata | undefined {
  if (!alias) return undefined;
  if (alias.hasMetadata) return alias.metadata;
  return alias.tablePath ? tenantAwareByTable(qb.dataSource, alias.tablePath) : undefined;
}

/**
 * The scope a statement on `metadata` must carry: `null` for entities that are not tenant-aware and inside
 * `runUnscoped()`. Throws (before any SQL exists) when a tenant-aware entity has no tenant in context.
 */
function scopeFor(dataSource: DataSource, metadata: EntityMetadata | undefined): Scope | null {
  if (!metadata) return null;
  const column = tenantColumnOf(metadata);
  if (!column) return null;
  const runtime = runtimes.get(dataSource);
  if (!runtime) throw new TenancyNotAttachedError(metadata.name);
  const frame = runtime.frame();
  if (frame?.unscopedReason !== undefined) return null;
  if (!frame || frame.pending || frame.tenantIds.length === 0) {
    throw runtime.refuse(new MissingTenantContextError(metadata.name));
  }
  return { column, tenantIds: frame.tenantIds };
}

function refuse<E extends TenancyError>(dataSource: DataSource, error: E): E {
  return runtimes.get(dataSource)?.refuse(error) ?? error;
}

/** Adds the tenant parameter to the builder and returns the predicate on `alias`'s tenant column. */
function predicate(qb: AnyBuilder, alias: string | null, scope: Scope): string {
  const column = (alias ? qb.escape(alias) + '.' : '') + qb.escape(scope.column.databaseName);
  if (scope.tenantIds.length === 1) {
    qb.setParameter(TENANT_PARAM, scope.tenantIds[0]);
    return `${column} = :${TENANT_PARAM}`;
  }
  qb.setParameter(TENANTS_PARAM, [...scope.tenantIds]);
  return `${column} = ANY(:${TENANTS_PARAM})`;
}

const WRITE_TYPES = new Set(['update', 'delete', 'soft-delete', 'restore']);

// The builders' protected members the hooks use; typed once here instead of casting at every call.
type AnyBuilder = QueryBuilder<ObjectLiteral> & {
  escape(name: string): string;
  expressionMap: QueryBuilder<ObjectLiteral>['expressionMap'] & {
    onUpdate?: { overwriteCondition?: { type: 'and' | 'or' | 'simple'; condition: string }[] };
    insertFromSelect?: unknown;
    valuesSet?: ObjectLiteral | ObjectLiteral[];
  };
  alias: string;
  getMainTableName(): string;
  getTableName(path: string): string;
  getValueSets(): ObjectLiteral[];
};

type Method = (this: AnyBuilder, ...args: unknown[]) => unknown;
const HOOKED = Symbol.for('bulkhead.tenancy.typeorm-hooks');

function wrap(proto: object, name: string, make: (original: Method) => Method): void {
  const target = proto as Record<string, Method>;
  const original = target[name];
  if (typeof original !== 'function') {
    throw new Error(
      `Bulkhead cannot scope this TypeORM version: ${proto.constructor.name}.${name} is missing.`,
    );
  }
  target[name] = make(original);
}

/**
 * Installs the scoping hooks on TypeORM's query builders, once per process. They are no-ops for builders of
 * DataSources that are not attached and for entities that are not tenant-aware. Every TypeORM read and write
 * path (repositories, EntityManager, find options, relation loaders, query builders) renders its SQL through
 * these methods, which is where TypeORM itself adds its soft-delete condition.
 */
function installHooks(): void {
  const marker = QueryBuilder.prototype as unknown as Record<symbol, boolean>;
  if (marker[HOOKED]) return;
  marker[HOOKED] = true;

  // WHERE of SELECT / UPDATE / DELETE / soft-delete / restore on the main alias.
  wrap(
    QueryBuilder.prototype,
    'createWhereExpression',
    (original) =>
      function (this: AnyBuilder) {
        const map = this.expressionMap;
        const scope = scopeFor(this.dataSource, metadataOfAlias(this, map.mainAlias));
        if (!scope) return original.call(this);
        if (WRITE_TYPES.has(map.queryType) && scope.tenantIds.length > 1) {
          throw refuse(this.dataSource, new AmbiguousTenantWriteError(map.mainAlias!.name, scope.tenantIds));
        }
        const alias = map.aliasNamePrefixingEnabled ? map.mainAlias!.name : null;
        const condition = predicate(this, alias, scope);
        const previous = map.extraAppendedAndWhereCondition;
        map.extraAppendedAndWhereCondition = previous ? `(${previous}) AND ${condition}` : condition;
        try {
          return original.call(this);
        } finally {
          map.extraAppendedAndWhereCondition = previous;
        }
      },
  );

  // Every JOIN (relations, eager and lazy loads, leftJoinAndSelect, joins by entity or table name): the
  // predicate goes into the ON clause, so a left join to a foreign tenant's row yields NULL, never the row.
  wrap(
    SelectQueryBuilder.prototype,
    'buildJoinClause',
    (original) =>
      function (this: AnyBuilder, ...args: unknown[]) {
        const [, , aliasName, condition] = args as [string, string, string, string];
        const alias = this.expressionMap.aliases.find((a) => a.name === aliasName);
        const scope = scopeFor(this.dataSource, metadataOfAlias(this, alias));
        if (!scope) return original.apply(this, args);
        const tenant = predicate(this, aliasName, scope);
        args[3] = condition ? `(${condition}) AND ${tenant}` : tenant;
        return original.apply(this, args);
      },
  );

  // INSERT (save, insert, insert query builder, upsert): the tenant comes from the context.
  wrap(
    InsertQueryBuilder.prototype,
    'createInsertExpression',
    (original) =>
      function (this: AnyBuilder) {
        const map = this.expressionMap;
        const metadata = metadataOfAlias(this, map.mainAlias);
        const scope = scopeFor(this.dataSource, metadata);
        if (!scope || !metadata) return original.call(this);
        if (map.insertFromSelect) {
          throw refuse(
            this.dataSource,
            new CrossTenantAccessError(metadata.name, 'INSERT ... SELECT cannot be checked row by row'),
          );
        }
        for (const valueSet of this.getValueSets()) assignTenant(this.dataSource, metadata, scope, valueSet);
        const onUpdate = map.onUpdate;
        if (!onUpdate) return original.call(this);
        // ON CONFLICT DO UPDATE may only overwrite a row of the same tenant.
        const main = this.getMainTableName();
        const table = this.alias !== main ? this.escape(this.alias) : this.getTableName(main);
        const col = this.escape(scope.column.databaseName);
        const previous = onUpdate.overwriteCondition;
        onUpdate.overwriteCondition = [
          ...(previous ?? []),
          { type: 'and', condition: `${table}.${col} = EXCLUDED.${col}` },
        ];
        try {
          return original.call(this);
        } finally {
          onUpdate.overwriteCondition = previous;
        }
      },
  );

  // UPDATE ... SET: the tenant column of an existing row never changes.
  const guardSet = (original: Method) =>
    function (this: AnyBuilder) {
      const metadata = metadataOfAlias(this, this.expressionMap.mainAlias);
      const column = metadata && tenantColumnOf(metadata);
      const values = this.expressionMap.valuesSet;
      if (!metadata || !column || !values || Array.isArray(values)) return original.call(this);
      const value: unknown = column.getEntityValue(values);
      if (value === undefined) return original.call(this);
      const scope = scopeFor(this.dataSource, metadata);
      if (scope && scope.tenantIds.length > 1) {
        throw refuse(this.dataSource, new AmbiguousTenantWriteError(metadata.name, scope.tenantIds));
      }
      // setting it to the row's own tenant is a no-op (the WHERE only reaches that tenant's rows); anything else,
      // a SQL expression, or any value while unscoped, would move rows between tenants
      if (!scope || typeof value === 'function' || String(value) !== scope.tenantIds[0]) {
        throw refuse(
          this.dataSource,
          new CrossTenantAccessError(metadata.name, 'the tenant column of an existing row cannot be changed'),
        );
      }
      return original.call(this);
    };
  wrap(UpdateQueryBuilder.prototype, 'createUpdateExpression', guardSet);
  wrap(SoftDeleteQueryBuilder.prototype, 'createUpdateExpression', guardSet);

  // TypeORM wraps whatever the driver throws in QueryFailedError; a refusal by the connection guard (raw SQL,
  // failed tenant binding) keeps its own class so callers and the exception filter can tell it apart.
  for (const name of ['query', 'stream']) {
    wrap(
      PostgresQueryRunner.prototype,
      name,
      (original) =>
        function (this: AnyBuilder, ...args: unknown[]) {
          // no async frame of its own: this runs for every statement
          return (original.apply(this, args) as Promise<unknown>).catch((err: unknown) => {
            if (err instanceof QueryFailedError && err.driverError instanceof TenancyError)
              throw err.driverError;
            throw err;
          });
        },
    );
  }

  // Remember SQL rendered under a tenant scope, so the raw-SQL guard can tell it from hand-written SQL.
  wrap(
    QueryBuilder.prototype,
    'getQueryAndParameters',
    (original) =>
      function (this: AnyBuilder) {
        const result = original.call(this) as [string, unknown[]];
        const runtime = runtimes.get(this.dataSource);
        if (runtime) {
          const frame = runtime.frame();
          if (frame && frame.unscopedReason === undefined && frame.tenantIds.length > 0)
            runtime.onScopedSql(result[0]);
        }
        return result;
      },
  );
}

/** Fills the tenant column of one inserted value set from the context, or refuses a foreign tenant. */
function assignTenant(
  dataSource: DataSource,
  metadata: EntityMetadata,
  scope: Scope,
  valueSet: ObjectLiteral,
): void {
  const column = scope.column;
  const value: unknown = column.getEntityValue(valueSet);
  if (value === undefined || value === null) {
    if (scope.tenantIds.length !== 1) {
      throw refuse(dataSource, new AmbiguousTenantWriteError(metadata.name, scope.tenantIds));
    }
    column.setEntityValue(valueSet, scope.tenantIds[0]);
    return;
  }
  if (typeof value === 'function') {
    throw refuse(
      dataSource,
      new CrossTenantAccessError(metadata.name, 'the tenant column is set by a SQL expression'),
    );
  }
  if (!scope.tenantIds.includes(String(value))) {
    throw refuse(
      dataSource,
      new CrossTenantAccessError(metadata.name, 'the row names a tenant that is not in the current context'),
    );
  }
}

/**
 * Fills the tenant column of an entity about to be inserted by `save()`, so the saved object reflects it.
 * @internal
 */
export function fillTenantOnEntity(
  dataSource: DataSource,
  metadata: EntityMetadata,
  entity: ObjectLiteral,
): void {
  const column = tenantColumnOf(metadata);
  if (!column) return;
  const frame = runtimes.get(dataSource)?.frame();
  if (!frame || frame.unscopedReason !== undefined || frame.tenantIds.length !== 1) return;
  const value: unknown = column.getEntityValue(entity);
  if (value === undefined || value === null) column.setEntityValue(entity, frame.tenantIds[0]);
}
