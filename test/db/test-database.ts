import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** Non-superuser, non-BYPASSRLS role the RLS tests connect as (created by global setup). */
export const APP_ROLE = 'bulkhead_test_app';
export const APP_ROLE_PASSWORD = 'bulkhead_test_app';

/** A database of its own for one test file, so test files never interfere. */
export interface TestDatabase {
  readonly name: string;
  /** Superuser connection string to this database (schema setup, tampering, assertions). */
  readonly adminUrl: string;
  /** Connection string as the non-superuser application role. */
  readonly appUrl: string;
  drop(): Promise<void>;
}

export function adminServerUrl(): string {
  const url = process.env.BULKHEAD_TEST_ADMIN_URL ?? process.env.DATABASE_URL;
  if (!url) throw new Error('No test database: run the tests through jest (its global setup provides one).');
  return url;
}

function withDatabase(url: string, database: string, user?: { name: string; password: string }): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  if (user) {
    u.username = user.name;
    u.password = user.password;
  }
  return u.toString();
}

/** Creates a fresh database owned by the superuser; the app role may connect and use the public schema. */
export async function createTestDatabase(prefix = 'bh'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const server = adminServerUrl();
  const admin = new Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.query(`GRANT ALL ON DATABASE "${name}" TO ${APP_ROLE}`);
  } finally {
    await admin.end();
  }
  const adminUrl = withDatabase(server, name);
  const db = new Client({ connectionString: adminUrl });
  await db.connect();
  try {
    await db.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${APP_ROLE}`);
    await db.query(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${APP_ROLE}`,
    );
    await db.query(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${APP_ROLE}`,
    );
  } finally {
    await db.end();
  }
  return {
    name,
    adminUrl,
    appUrl: withDatabase(server, name, { name: APP_ROLE, password: APP_ROLE_PASSWORD }),
    drop: async () => {
      const c = new Client({ connectionString: server });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Runs one statement as the superuser on a test database and returns its rows. */
export async function adminQuery<T = Record<string, unknown>>(
  db: TestDatabase,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new Client({ connectionString: db.adminUrl });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}
