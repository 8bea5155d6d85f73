import type { DataSource, ObjectLiteral } from 'typeorm';
import { DeleteQueryBuilder } from 'typeorm/query-builder/DeleteQueryBuilder';
import { InsertQueryBuilder } from 'typeorm/query-builder/InsertQueryBuilder';
import { QueryBuilder } from 'typeorm/query-builder/QueryBuilder';
import { SoftDeleteQueryBuilder } from 'typeorm/query-builder/SoftDeleteQueryBuilder';
import { UpdateQueryBuilder } from 'typeorm/query-builder/UpdateQueryBuilder';

const audited = new WeakSet<DataSource>();
const HOOKED = Symbol.for('bulkhead.audit.path-hook');
const WRITES = new Set(['insert', 'update', 'delete', 'soft-delete', 'restore']);

type Builder = QueryBuilder<ObjectLiteral>;

/**
 * Labels the writes TypeORM renders, so the capture triggers can record the path: `entity` for the
 * persistence of `save()`/`remove()` (which runs its builders without listeners), `query-builder` for
 * everything else built by a query builder. SQL without a label is recorded as `raw-sql`.
 * @internal
 */
export function labelWritePaths(dataSource: DataSource): void {
  audited.add(dataSource);
  const marker = QueryBuilder.prototype as unknown as Record<symbol, boolean>;
  if (marker[HOOKED]) return;
  marker[HOOKED] = true;
  for (const cls of [InsertQueryBuilder, UpdateQueryBuilder, DeleteQueryBuilder, SoftDeleteQueryBuilder]) {
    const proto = cls.prototype as unknown as { getQuery(this: Builder): string };
    const original = proto.getQuery;
    proto.getQuery = function (this: Builder): string {
      const sql = original.call(this);
      const map = this.expressionMap;
      if (!WRITES.has(map.queryType) || !audited.has(this.dataSource)) return sql;
      return `/* bulkhead:${map.callListeners ? 'query-builder' : 'entity'} */ ${sql}`;
    };
  }
}
