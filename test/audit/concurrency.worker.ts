/**
 * One "application process" of the audit concurrency test: 8 concurrent writers on 3 tenants, and a sealer
 * loop running at the same time as the other processes' sealers. Run by concurrency.e2e-spec.ts.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { createTenancyService } from '@bulkhead/tenancy';
import { createAuditService } from '@bulkhead/audit';
import { Account, AUDIT_ENTITIES } from './fixtures';

async function main(): Promise<void> {
  const [url, proc, perWorker] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
  const tenants = ['t0', 't1', 't2'];
  const dataSource = new DataSource({ type: 'postgres', url, entities: AUDIT_ENTITIES, poolSize: 9 });
  await dataSource.initialize();
  const tenancy = createTenancyService({ acceptAnyTenant: true, rls: true });
  await tenancy.attach(dataSource);
  const audit = await createAuditService(dataSource, tenancy);
  let writing = true;
  const sealer = (async () => {
    while (writing) await audit.seal();
  })();
  const repo = dataSource.getRepository(Account);
  const ids = new Map<string, number[]>(tenants.map((t) => [t, []]));
  await Promise.all(
    Array.from({ length: 8 }, async (_, worker) => {
      for (let i = 0; i < perWorker; i++) {
        const tenant = tenants[(worker + i) % tenants.length];
        const correlationId = `p${proc}-w${worker}-${i}`;
        await tenancy.run(
          { tenant, actor: { id: `proc-${proc}`, type: 'service' }, correlationId },
          async () => {
            const own = ids.get(tenant)!;
            if (i % 2 === 0 || own.length === 0) {
              const saved = await repo.save({ name: correlationId, balance: i });
              own.push(saved.id);
            } else {
              await repo.update({ id: own[i % own.length] }, { name: correlationId, balance: i });
            }
          },
        );
      }
    }),
  );
  writing = false;
  await sealer;
  await dataSource.destroy();
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(String(err?.stack ?? err));
    process.exit(1);
  },
);
