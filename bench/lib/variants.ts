import { RLSConnection } from '@avallone-io/rls';
import { createTenancyService } from '@bulkhead/tenancy';
import { DataSource } from 'typeorm';
import { AvalloneItem, Item, PAGE_SIZE, PlainItem, randomRowId, randomSkip, tenantName } from './entities';
import type { WorkerOptions } from './protocol';

/** A variant opened in a worker: one DataSource and the request it sends. */
export interface OpenVariant {
  /**
   * One request for tenant number `tenant`: a `findOneBy({ id })` of one of its rows and a 20-row page.
   * Rejects when a result is not what the seed holds for the tenant (a misconfigured variant must not look
   * fast by returning nothing).
   */
  request(tenant: number): Promise<void>;
  /** Waits until the pool has closed its idle connections, so idle variants hold no server connections. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

interface BenchRow {
  tenantId: string;
}

/** Idle pooled connections close after this long, so only the variant being measured holds connections. */
const IDLE_TIMEOUT_MS = 200;

function check(row: BenchRow | null, page: readonly BenchRow[], tenantId: string): void {
  if (row?.tenantId !== tenantId) {
    throw new Error(`findOneBy for tenant ${tenantId} returned ${row ? `a row of ${row.tenantId}` : 'null'}`);
  }
  if (page.length !== PAGE_SIZE || page.some((r) => r.tenantId !== tenantId)) {
    throw new Error(`page for tenant ${tenantId} returned ${page.length} rows or foreign rows`);
  }
}

const PAGE_ORDER = { id: 'ASC' } as const;

async function openDataSource(options: WorkerOptions, entity: new () => object): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url: options.url,
    entities: [entity],
    poolSize: options.poolSize,
    extra: { idleTimeoutMillis: IDLE_TIMEOUT_MS },
  });
  await dataSource.initialize();
  return dataSource;
}

function variantOf(dataSource: DataSource, request: OpenVariant['request']): OpenVariant {
  const pool = (dataSource.driver as unknown as { master: { totalCount: number } }).master;
  return {
    request,
    drain: async () => {
      const until = Date.now() + 5_000;
      while (pool.totalCount > 0 && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    close: () => dataSource.destroy(),
  };
}

/** Opens the DataSource of a worker kind and returns its request. */
export async function openVariant(options: WorkerOptions): Promise<OpenVariant> {
  switch (options.kind) {
    case 'plain': {
      const dataSource = await openDataSource(options, PlainItem);
      const repo = dataSource.getRepository(PlainItem);
      return variantOf(dataSource, async (tenant) => {
        const tenantId = tenantName(tenant);
        const row = await repo.findOneBy({ id: randomRowId(tenant), tenantId });
        const page = await repo.find({
          where: { tenantId },
          order: PAGE_ORDER,
          take: PAGE_SIZE,
          skip: randomSkip(),
        });
        check(row, page, tenantId);
      });
    }
    case 'bulkhead':
    case 'bulkhead-rls': {
      const dataSource = await openDataSource(options, Item);
      const tenancy = createTenancyService({ acceptAnyTenant: true, rls: options.kind === 'bulkhead-rls' });
      await tenancy.attach(dataSource);
      const repo = dataSource.getRepository(Item);
      return variantOf(dataSource, (tenant) => {
        const tenantId = tenantName(tenant);
        return tenancy.run({ tenant: tenantId }, async () => {
          const row = await repo.findOneBy({ id: randomRowId(tenant) });
          const page = await repo.find({ order: PAGE_ORDER, take: PAGE_SIZE, skip: randomSkip() });
          check(row, page, tenantId);
        });
      });
    }
    case 'avallone': {
      const dataSource = await openDataSource(options, AvalloneItem);
      return variantOf(dataSource, async (tenant) => {
        const tenantId = tenantName(tenant);
        // the library's documented use: one RLSConnection per request (RLSModule does the same per request)
        const repo = new RLSConnection(dataSource, { tenantId, actorId: 'bench' }).getRepository(
          AvalloneItem,
        );
        const row = await repo.findOneBy({ id: randomRowId(tenant) });
        const page = await repo.find({ order: PAGE_ORDER, take: PAGE_SIZE, skip: randomSkip() });
        check(row, page, tenantId);
      });
    }
  }
}
