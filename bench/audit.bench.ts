/**
 * Audit benchmarks: audited vs unaudited single-row saves (16 tenants and one hot tenant), the lag from
 * commit to chained under the hot load, a 10,000-row bulk update, the verify rate over a long chain and the
 * stored bytes per update entry. Runs in its own database, as the superuser (RLS off in both variants, so
 * the figures isolate the audit's own cost).
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { createTenancyService, TenantAware, type TenancyService } from '@bulkhead/tenancy';
import { applyAuditSchema, createAuditService, NotAudited, type AuditService } from '@bulkhead/audit';
import { withDatabase } from './lib/config';
import { measure, median } from './lib/measure';

const DATABASE = 'bulkhead_bench_audit';

/** The 10 columns both tables share. */
abstract class Row {
  @PrimaryGeneratedColumn() id: number;
  @Column({ name: 'tenant_id' }) tenantId: string;
  @Column() title: string;
  @Column('int') amount: number;
  @Column('int') quantity: number;
  @Column() status: string;
  @Column() customer: string;
  @Column() currency: string;
  @Column('int') version: number;
  @Column({ type: 'timestamptz', name: 'created_at', default: () => 'now()' }) createdAt: Date;
}

/** The audited table. */
@TenantAware()
@Entity('audited_row')
class AuditedRow extends Row {}

/** The same row, not audited. */
@NotAudited()
@TenantAware()
@Entity('plain_row')
class PlainRow extends Row {}

/** Options of {@link runAuditBench}. */
export interface AuditBenchOptions {
  readonly serverUrl: string;
  readonly quick: boolean;
  readonly log?: (line: string) => void;
}

async function admin(serverUrl: string, sql: string): Promise<void> {
  const c = new Client({ connectionString: serverUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const fresh = (tenant: string, i: number) => ({
  tenantId: tenant,
  title: `row-${i}`,
  amount: i,
  quantity: 1,
  status: 'draft',
  customer: 'c',
  currency: 'EUR',
  version: 1,
});

/** Runs the audit benchmarks and returns their named figures. */
export async function runAuditBench(options: AuditBenchOptions): Promise<Record<string, number>> {
  const log = options.log ?? (() => undefined);
  const runs = options.quick ? 3 : 5;
  const seconds = options.quick ? 1 : 3;
  const concurrency = 16;
  await admin(options.serverUrl, `DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin(options.serverUrl, `CREATE DATABASE ${DATABASE}`);
  const url = withDatabase(options.serverUrl, DATABASE);
  const setup = new DataSource({
    type: 'postgres',
    url,
    entities: [AuditedRow, PlainRow],
    synchronize: true,
  });
  await setup.initialize();
  await applyAuditSchema(setup);
  await setup.destroy();

  const open = async (): Promise<{ ds: DataSource; tenancy: TenancyService }> => {
    const ds = new DataSource({ type: 'postgres', url, entities: [AuditedRow, PlainRow], poolSize: 16 });
    await ds.initialize();
    const tenancy = createTenancyService({ acceptAnyTenant: true });
    await tenancy.attach(ds);
    return { ds, tenancy };
  };
  const plain = await open();
  const audited = await open();
  const audit: AuditService = await createAuditService(audited.ds, audited.tenancy);
  const figures: Record<string, number> = {};
  try {
    const tenants = Array.from({ length: 16 }, (_, i) => `t${i}`);
    // seed rows to update
    for (const { ds, tenancy } of [plain, audited]) {
      for (const t of tenants) {
        await tenancy.run({ tenant: t }, () =>
          ds
            .getRepository(ds === plain.ds ? PlainRow : AuditedRow)
            .insert(Array.from({ length: 50 }, (_, i) => fresh(t, i))),
        );
      }
    }
    await audit.seal();

    // one request: a save() that inserts, then a save() that updates a random existing row
    const saver = (
      side: { ds: DataSource; tenancy: TenancyService },
      entity: typeof AuditedRow | typeof PlainRow,
      pick: () => string,
    ) => {
      const repo = side.ds.getRepository<AuditedRow>(entity);
      let n = 0;
      return () => {
        const tenant = pick();
        const i = n++;
        return side.tenancy.run({ tenant, actor: { id: `u${i % 100}`, type: 'user' } }, async () => {
          const row = await repo.save(repo.create(fresh(tenant, i)));
          row.amount += 1;
          await repo.save(row);
        });
      };
    };
    const random = () => tenants[Math.floor(Math.random() * tenants.length)];
    const hot = () => tenants[0];

    // a sealer runs alongside the audited writers, as it does in an application
    let sealing = true;
    const sealer = (async () => {
      while (sealing) {
        await audit.seal();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    for (const [name, pick] of [
      ['audit.write', random],
      ['audit.write.hot', hot],
    ] as const) {
      const ratios: number[] = [];
      const plainRps: number[] = [];
      const auditedRps: number[] = [];
      const startedAt = new Date();
      for (let r = 0; r < runs; r++) {
        const p = await measure(saver(plain, PlainRow, pick), seconds, concurrency);
        const a = await measure(saver(audited, AuditedRow, pick), seconds, concurrency);
        if (p.errors || a.errors) throw new Error(`${name}: ${p.firstError ?? a.firstError}`);
        plainRps.push(p.rps);
        auditedRps.push(a.rps);
        ratios.push(a.rps / p.rps);
      }
      figures[`${name}.ratio`] = median(ratios);
      figures[`${name}.audited.rps`] = median(auditedRps);
      figures[`${name}.unaudited.rps`] = median(plainRps);
      log(`${name}: audited ${median(auditedRps).toFixed(0)}/s vs ${median(plainRps).toFixed(0)}/s`);
      if (name === 'audit.write.hot') {
        // let the sealer catch up, then read the commit-to-chained lag of this load's entries
        await audit.seal();
        const [lag] = (await audited.ds.query(
          `SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM c.sealed_at - e.occurred_at)) AS p99,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM c.sealed_at - e.occurred_at)) AS p50
             FROM bulkhead_audit_entry e JOIN bulkhead_audit_chain c ON c.entry_id = e.id
            WHERE e.occurred_at >= $1 AND e.tenant_id = $2`,
          [startedAt, tenants[0]],
        )) as { p99: number; p50: number }[];
        figures['audit.chain.lag.p99_ms'] = Number(lag.p99) * 1000;
        figures['audit.chain.lag.p50_ms'] = Number(lag.p50) * 1000;
      }
    }
    sealing = false;
    await sealer;

    // bulk: one query-builder update of 10,000 rows, audited vs not
    const bulkRows = 10_000;
    for (const side of [plain, audited]) {
      const entity = side === plain ? PlainRow : AuditedRow;
      await side.tenancy.run({ tenant: 'bulk' }, async () => {
        const repo = side.ds.getRepository<AuditedRow>(entity);
        for (let i = 0; i < bulkRows; i += 2000) {
          await repo.insert(Array.from({ length: 2000 }, (_, j) => fresh('bulk', i + j)));
        }
      });
    }
    const bulkTime = async (
      side: { ds: DataSource; tenancy: TenancyService },
      entity: typeof AuditedRow | typeof PlainRow,
    ) => {
      const start = performance.now();
      await side.tenancy.run({ tenant: 'bulk' }, () =>
        side.ds
          .createQueryBuilder()
          .update(entity)
          .set({ version: () => 'version + 1' })
          .execute(),
      );
      return performance.now() - start;
    };
    const plainMs: number[] = [];
    const auditedMs: number[] = [];
    for (let r = 0; r < runs; r++) {
      plainMs.push(await bulkTime(plain, PlainRow));
      auditedMs.push(await bulkTime(audited, AuditedRow));
      await audit.seal();
    }
    figures['audit.bulk.ratio'] = median(plainMs) / median(auditedMs);
    figures['audit.bulk.audited_ms'] = median(auditedMs);
    figures['audit.bulk.unaudited_ms'] = median(plainMs);

    // bytes per update entry of a 10-column row with one column changed (entry and chain link, heap tuples)
    const [bytes] = (await audited.ds.query(
      `SELECT avg(pg_column_size(e.*))::float AS entry, avg(pg_column_size(c.*))::float AS link
         FROM bulkhead_audit_entry e JOIN bulkhead_audit_chain c ON c.entry_id = e.id
        WHERE e.action = 'update' AND e.tenant_id = 'bulk'`,
    )) as { entry: number; link: number }[];
    figures['audit.bytes.per.update'] = bytes.entry + bytes.link;

    // verify rate over a long chain: entries written by a set-based insert, then sealed
    const chainLength = options.quick ? 100_000 : 1_000_000;
    const started = performance.now();
    await audited.tenancy.run({ tenant: 'long' }, () =>
      audited.tenancy.runWithRawSql('bench: bulk load', async () => {
        for (let i = 0; i < chainLength; i += 100_000) {
          await audited.ds.query(
            `INSERT INTO audited_row (tenant_id, title, amount, quantity, status, customer, currency, version)
             SELECT 'long', 'row-' || g, g, 1, 'draft', 'c', 'EUR', 1 FROM generate_series($1::int, $2::int) g`,
            [i, i + 99_999],
          );
        }
      }),
    );
    await audit.seal(50_000);
    log(
      `chain of ${chainLength} written and sealed in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const rates: number[] = [];
    for (let r = 0; r < (options.quick ? 1 : 3); r++) {
      const t0 = performance.now();
      const result = await audited.tenancy.run({ tenant: 'long' }, () => audit.verify());
      const elapsed = (performance.now() - t0) / 1000;
      if (!result.valid || result.checked !== chainLength)
        throw new Error(`verify: ${JSON.stringify(result)}`);
      rates.push(result.checked / elapsed);
    }
    figures['audit.verify.rate'] = median(rates);
  } finally {
    await plain.ds.destroy();
    await audited.ds.destroy();
    await admin(options.serverUrl, `DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  }
  return figures;
}

if (require.main === module) {
  runAuditBench({
    serverUrl: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
    quick: process.env.BENCH_QUICK === '1',
    log: (line) => process.stdout.write(line + '\n'),
  }).then(
    (figures) => {
      // --json (bench/run.ts): one line of JSON last; otherwise readable
      if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(figures)}\n`);
      else
        for (const [k, v] of Object.entries(figures))
          process.stdout.write(`${k.padEnd(32)} ${v.toFixed(3)}\n`);
      process.exit(0);
    },
    (err) => {
      process.stderr.write(String(err?.stack ?? err) + '\n');
      process.exit(1);
    },
  );
}
