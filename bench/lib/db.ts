import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { applyRlsPolicies } from '@bulkhead/tenancy';
import { APP_ROLE, APP_ROLE_PASSWORD, BENCH_DATABASE, benchUrls, type BenchUrls } from './config';
import { AVALLONE_TABLE, AvalloneItem, ITEM_TABLE, Item, ROWS_PER_TENANT, TENANTS } from './entities';

/** Name of the policy the bench installs for `@avallone-io/rls` (it reads `rls.tenant_id`). */
const AVALLONE_POLICY = 'avallone_tenant_isolation';

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Drops and recreates the bench database and its application role (`LOGIN NOSUPERUSER NOBYPASSRLS`), creates
 * the tables, seeds `TENANTS x ROWS_PER_TENANT` rows in each, installs Bulkhead's RLS policies on
 * {@link ITEM_TABLE} and an `@avallone-io/rls` policy on {@link AVALLONE_TABLE}, and grants the role DML.
 */
export async function createBenchDatabase(serverUrl: string): Promise<BenchUrls> {
  await dropBenchDatabase(serverUrl);
  await withClient(serverUrl, async (c) => {
    await c.query(`CREATE DATABASE ${BENCH_DATABASE}`);
    await c.query(
      `CREATE ROLE ${APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD '${APP_ROLE_PASSWORD}'`,
    );
    await c.query(`GRANT CONNECT ON DATABASE ${BENCH_DATABASE} TO ${APP_ROLE}`);
  });
  const urls = benchUrls(serverUrl);

  const admin = new DataSource({
    type: 'postgres',
    url: urls.admin,
    entities: [Item, AvalloneItem],
    synchronize: true,
  });
  await admin.initialize();
  try {
    await applyRlsPolicies(admin);
  } finally {
    await admin.destroy();
  }

  const rows = TENANTS * ROWS_PER_TENANT;
  await withClient(urls.admin, async (c) => {
    // row j of tenant k gets id j * TENANTS + k + 1 (see randomRowId)
    await c.query(
      `INSERT INTO ${ITEM_TABLE} (id, tenant_id, title, amount)
         SELECT g, 't' || ((g - 1) % ${TENANTS}), 'item ' || g, (g * 37) % 1000
           FROM generate_series(1, ${rows}) AS g`,
    );
    await c.query(`INSERT INTO ${AVALLONE_TABLE} SELECT * FROM ${ITEM_TABLE}`);
    for (const table of [ITEM_TABLE, AVALLONE_TABLE]) {
      await c.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), ${rows})`);
    }
    const check = `(tenant_id = current_setting('rls.tenant_id'))`;
    await c.query(`ALTER TABLE ${AVALLONE_TABLE} ENABLE ROW LEVEL SECURITY`);
    await c.query(`ALTER TABLE ${AVALLONE_TABLE} FORCE ROW LEVEL SECURITY`);
    await c.query(
      `CREATE POLICY ${AVALLONE_POLICY} ON ${AVALLONE_TABLE} FOR ALL USING ${check} WITH CHECK ${check}`,
    );
    await c.query(`GRANT USAGE ON SCHEMA public TO ${APP_ROLE}`);
    await c.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${APP_ROLE}`);
    await c.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${APP_ROLE}`);
    await c.query(`VACUUM ANALYZE ${ITEM_TABLE}`);
    await c.query(`VACUUM ANALYZE ${AVALLONE_TABLE}`);
  });
  return urls;
}

/** Drops the bench database (closing its connections) and the application role, if they exist. */
export async function dropBenchDatabase(serverUrl: string): Promise<void> {
  await withClient(serverUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
    await c.query(`DROP ROLE IF EXISTS ${APP_ROLE}`);
  });
}

/** The server's version, e.g. `PostgreSQL 15.20`. */
export async function serverVersion(serverUrl: string): Promise<string> {
  return withClient(serverUrl, async (c) => {
    const { rows } = await c.query<{ server_version: string }>('SHOW server_version');
    return `PostgreSQL ${rows[0].server_version.split(' ')[0]}`;
  });
}
