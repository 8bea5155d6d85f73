import { DataSource, type QueryRunner } from 'typeorm';
import { applyRlsPolicies } from '@bulkhead/tenancy';
import { applyAuditSchema } from '@bulkhead/audit';
import { SAMPLE_ENTITIES } from '../entities';
import { seedDemoData } from './sample-seed';

/** The role the app connects as: never a superuser, never BYPASSRLS. */
export interface AppRole {
  readonly name: string;
  /** Password to set (the role is created when missing). Omit when the role exists and is managed elsewhere. */
  readonly password?: string;
}

/** Options of {@link prepareDatabase}. */
export interface PrepareDatabaseOptions {
  /** Connection string of a role that owns the schema (creates tables, policies, triggers and roles). */
  readonly adminUrl: string;
  readonly appRole: AppRole;
  /** Insert the demo data when the database has none. Default: `true`. */
  readonly seed?: boolean;
}

/** What {@link prepareDatabase} did. */
export interface PreparedDatabase {
  /** The admin URL with the application role's credentials: what the app connects with. */
  readonly appUrl: string;
  /** Whether the demo data was inserted now (first start). */
  readonly seeded: boolean;
}

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Brings a database to what the sample needs, idempotently, as its owner: the tables, the RLS policies, the
 * audit schema and triggers, the non-superuser application role with only SELECT/INSERT/UPDATE/DELETE on the
 * app's tables, and the demo data on first start. In production run the same steps as a migration.
 */
export async function prepareDatabase(options: PrepareDatabaseOptions): Promise<PreparedDatabase> {
  const { appRole } = options;
  if (!ROLE_NAME.test(appRole.name)) throw new Error(`Invalid application role name "${appRole.name}".`);
  const admin = new DataSource({
    type: 'postgres',
    url: options.adminUrl,
    entities: SAMPLE_ENTITIES,
    synchronize: true,
    uuidExtension: 'pgcrypto',
    poolSize: 2,
  });
  await admin.initialize();
  const runner = admin.createQueryRunner();
  try {
    await ensureRole(runner, appRole);
    const [{ db }] = (await runner.query('SELECT current_database() AS db')) as { db: string }[];
    await runner.query(`GRANT CONNECT ON DATABASE "${db.replace(/"/g, '""')}" TO ${appRole.name}`);
    await runner.query(`GRANT USAGE ON SCHEMA public TO ${appRole.name}`);
    for (const m of admin.entityMetadatas) {
      await runner.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON "${m.tableName}" TO ${appRole.name}`);
    }
    await applyRlsPolicies(runner);
    await applyAuditSchema(runner, { appRole: appRole.name, rls: true });
    const seeded = options.seed === false ? false : await seedDemoData(runner);
    return { appUrl: withCredentials(options.adminUrl, appRole), seeded };
  } finally {
    await runner.release();
    await admin.destroy();
  }
}

async function ensureRole(runner: QueryRunner, role: AppRole): Promise<void> {
  const [existing] = (await runner.query('SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1', [
    role.name,
  ])) as { rolsuper: boolean; rolbypassrls: boolean }[];
  const password = role.password === undefined ? '' : ` PASSWORD ${literal(role.password)}`;
  if (!existing) {
    await runner.query(
      `CREATE ROLE ${role.name} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE${password}`,
    );
  } else if (existing.rolsuper || existing.rolbypassrls || password) {
    await runner.query(`ALTER ROLE ${role.name} NOSUPERUSER NOBYPASSRLS${password}`);
  }
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function withCredentials(url: string, role: AppRole): string {
  const u = new URL(url);
  u.username = role.name;
  u.password = role.password ?? '';
  return u.toString();
}
