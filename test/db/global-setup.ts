import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../apps/sample/src/database/embedded-postgres';
import { APP_ROLE, APP_ROLE_PASSWORD } from './test-database';

/**
 * Jest global setup: use the server named by DATABASE_URL, or start a throwaway embedded PostgreSQL.
 * Creates the non-superuser role that RLS tests connect as. Workers inherit BULKHEAD_TEST_ADMIN_URL.
 */
export default async function globalSetup(): Promise<void> {
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const server = await startEmbeddedPostgres();
    (globalThis as { __bulkheadEmbedded?: unknown }).__bulkheadEmbedded = server;
    adminUrl = server.url;
    process.stdout.write(
      `\n[bulkhead] no DATABASE_URL: started embedded PostgreSQL at ${redact(adminUrl)}\n`,
    );
  }
  process.env.BULKHEAD_TEST_ADMIN_URL = adminUrl;
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [APP_ROLE]);
    if (rows.length === 0) {
      await client.query(
        `CREATE ROLE ${APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD '${APP_ROLE_PASSWORD}'`,
      );
    }
  } finally {
    await client.end();
  }
}

function redact(url: string): string {
  return url.replace(/:[^:@/]*@/, ':***@');
}
