import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { TenantAware } from '@bulkhead/tenancy';

/** Number of tenants seeded (`t0` .. `t99`). */
export const TENANTS = 100;
/** Rows seeded per tenant. */
export const ROWS_PER_TENANT = 200;
/** Rows per page of the page query. */
export const PAGE_SIZE = 20;

/** Table read by the baseline and Bulkhead variants. */
export const ITEM_TABLE = 'bench_item';
/** Copy of {@link ITEM_TABLE} carrying the `@avallone-io/rls` policy. */
export const AVALLONE_TABLE = 'bench_item_avallone';

/** The columns every bench entity maps (concrete-table inheritance: each subclass names its own table). */
abstract class BenchItemColumns {
  @PrimaryGeneratedColumn() id: number;
  @Column({ name: 'tenant_id' }) @Index() tenantId: string;
  @Column() title: string;
  @Column('int') amount: number;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
}

/** The bench row as Bulkhead sees it: tenant-aware, scoped by the tenancy context. */
@TenantAware()
@Entity(ITEM_TABLE)
@Index(['tenantId', 'id'])
export class Item extends BenchItemColumns {}

/** The same table for the hand-written baseline: a plain TypeORM entity, scoped by explicit `where`. */
@Entity(ITEM_TABLE)
export class PlainItem extends BenchItemColumns {}

/** The `@avallone-io/rls` copy of the table (a plain entity: that library relies on the RLS policy alone). */
@Entity(AVALLONE_TABLE)
@Index(['tenantId', 'id'])
export class AvalloneItem extends BenchItemColumns {}

/** The name of tenant number `index` (0-based). */
export function tenantName(index: number): string {
  return `t${index}`;
}

/** A uniformly random integer in `[0, bound)`. */
export function randomInt(bound: number): number {
  return Math.floor(Math.random() * bound);
}

/**
 * The id of a random row of tenant number `tenant`. The seed interleaves tenants: row `j` of tenant `k` has
 * id `j * TENANTS + k + 1`, so a tenant's rows are spread over the whole table as in a real shared table.
 */
export function randomRowId(tenant: number): number {
  return randomInt(ROWS_PER_TENANT) * TENANTS + tenant + 1;
}

/** A random offset for the page query that still yields a full page. */
export function randomSkip(): number {
  return randomInt(ROWS_PER_TENANT - PAGE_SIZE + 1);
}
