/**
 * 4 application processes x 8 writers make 10,000 mutations in 3 tenants while all 4 run the sealer: every
 * mutation has exactly one entry, and every tenant's chain is contiguous and verifies.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { adminQuery, createTestDatabase, type TestDatabase } from '../db/test-database';
import { installAuditSchema, startAuditApp } from './fixtures';

const run = promisify(execFile);
const PROCESSES = 4;
const WRITERS = 8;
const PER_WRITER = 313; // 4 x 8 x 313 = 10,016 mutations

describe('audit under concurrent processes', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('auditconc');
    await installAuditSchema(db);
  });
  afterAll(() => db?.drop());

  it('records every mutation exactly once and keeps every chain valid', async () => {
    const root = path.join(__dirname, '..', '..');
    await Promise.all(
      Array.from({ length: PROCESSES }, (_, proc) =>
        run(
          process.execPath,
          [
            '-r',
            'ts-node/register/transpile-only',
            '-r',
            'tsconfig-paths/register',
            path.join(__dirname, 'concurrency.worker.ts'),
            db.appUrl,
            String(proc),
            String(PER_WRITER),
          ],
          { cwd: root, env: { ...process.env, TS_NODE_PROJECT: path.join(root, 'tsconfig.json') } },
        ),
      ),
    );
    const total = PROCESSES * WRITERS * PER_WRITER;
    const app = await startAuditApp(db);
    try {
      await app.audit.seal();
      const [counts] = await adminQuery<{ entries: number; distinct: number; unchained: number }>(
        db,
        `SELECT count(*)::int AS entries, count(DISTINCT correlation_id)::int AS distinct,
                count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM bulkhead_audit_chain c WHERE c.entry_id = e.id))::int AS unchained
           FROM bulkhead_audit_entry e`,
      );
      expect(counts).toEqual({ entries: total, distinct: total, unchained: 0 });
      const chains = await adminQuery<{ tenant_id: string; n: number; max: number }>(
        db,
        'SELECT tenant_id, count(*)::int AS n, max(position)::int AS max FROM bulkhead_audit_chain GROUP BY 1 ORDER BY 1',
      );
      expect(chains.map((c) => c.tenant_id)).toEqual(['t0', 't1', 't2']);
      expect(chains.every((c) => c.n === c.max)).toBe(true);
      expect(chains.reduce((sum, c) => sum + c.n, 0)).toBe(total);
      for (const tenant of ['t0', 't1', 't2']) {
        const result = await app.tenancy.run({ tenant }, () => app.audit.verify());
        expect(result).toEqual({ valid: true, checked: chains.find((c) => c.tenant_id === tenant)!.n });
      }
    } finally {
      await app.context.close();
    }
  }, 300_000);
});
