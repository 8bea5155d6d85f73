import type { DataSource, QueryRunner } from 'typeorm';
import {
  RLS_POLICY_NAME,
  RLS_TENANT_SETTING,
  RLS_TENANTS_SETTING,
  RLS_UNSCOPED_SETTING,
} from '../tenancy.constants';
import { tenantColumnOf } from '../scoping/tenant-aware.metadata';

/** One tenant-aware table as the RLS backstop sees it. */
export interface RlsTable {
  /** Entity name. */
  readonly entity: string;
  /** Quoted, schema-qualified table name as it appears in DDL. */
  readonly table: string;
  /** Quoted tenant column name. */
  readonly column: string;
  /** SQL type of the tenant column (the bound tenant list is cast to an array of it). */
  readonly columnType: string;
}

/** The DDL that installs (`up`) or removes (`down`) the RLS backstop on every tenant-aware table. */
export interface RlsDdl {
  readonly up: readonly string[];
  readonly down: readonly string[];
}

/** Every tenant-aware table of a DataSource. */
export function rlsTables(dataSource: DataSource): RlsTable[] {
  const driver = dataSource.driver;
  return dataSource.entityMetadatas
    .filter((m) => tenantColumnOf(m) && m.tableType !== 'view')
    .map((m) => {
      const column = tenantColumnOf(m)!;
      return {
        entity: m.name,
        table: m.tablePath
          .split('.')
          .map((part) => driver.escape(part))
          .join('.'),
        column: driver.escape(column.databaseName),
        columnType: driver.normalizeType(column),
      };
    });
}

/**
 * The policy expression: rows of the bound tenant, or of the bound tenants, or every row inside
 * `runUnscoped()`. Each setting is read in a scalar sub-select, which PostgreSQL evaluates once per query
 * (an InitPlan) instead of once per row; the single-tenant case is a plain equality.
 */
export function rlsPolicyExpression(table: Pick<RlsTable, 'column' | 'columnType'>): string {
  const { column, columnType } = table;
  return (
    `(${column} = (SELECT NULLIF(current_setting('${RLS_TENANT_SETTING}', true), '')::${columnType})` +
    ` OR ${column} = ANY (CAST((SELECT NULLIF(current_setting('${RLS_TENANTS_SETTING}', true), '')) AS ${columnType}[]))` +
    ` OR (SELECT current_setting('${RLS_UNSCOPED_SETTING}', true)) = 'on')`
  );
}

/**
 * Generates the row-level-security DDL for every tenant-aware table: `ENABLE` and `FORCE ROW LEVEL SECURITY`
 * and one policy with the same `USING` and `WITH CHECK` expression. Idempotent: the policy is dropped and
 * re-created. Run it as the table owner (a migration), never as the application role.
 */
export function generateRlsDdl(dataSource: DataSource): RlsDdl {
  const up: string[] = [];
  const down: string[] = [];
  for (const t of rlsTables(dataSource)) {
    const expression = rlsPolicyExpression(t);
    up.push(
      `ALTER TABLE ${t.table} ENABLE ROW LEVEL SECURITY`,
      `ALTER TABLE ${t.table} FORCE ROW LEVEL SECURITY`,
      `DROP POLICY IF EXISTS ${RLS_POLICY_NAME} ON ${t.table}`,
      `CREATE POLICY ${RLS_POLICY_NAME} ON ${t.table} AS PERMISSIVE FOR ALL USING ${expression} WITH CHECK ${expression}`,
    );
    down.push(
      `DROP POLICY IF EXISTS ${RLS_POLICY_NAME} ON ${t.table}`,
      `ALTER TABLE ${t.table} NO FORCE ROW LEVEL SECURITY`,
      `ALTER TABLE ${t.table} DISABLE ROW LEVEL SECURITY`,
    );
  }
  return { up, down };
}

/**
 * Migration helper: installs the RLS backstop. Call it from a TypeORM migration's `up()` after the tables
 * exist (`await applyRlsPolicies(queryRunner)`), with a role that owns the tables.
 */
export async function applyRlsPolicies(runner: QueryRunner | DataSource): Promise<void> {
  const dataSource =
    'manager' in runner && 'connection' in runner ? runner.connection : (runner as DataSource);
  for (const sql of generateRlsDdl(dataSource).up) await runner.query(sql);
}

/** Migration helper: removes the RLS backstop (a migration's `down()`). */
export async function dropRlsPolicies(runner: QueryRunner | DataSource): Promise<void> {
  const dataSource =
    'manager' in runner && 'connection' in runner ? runner.connection : (runner as DataSource);
  for (const sql of generateRlsDdl(dataSource).down) await runner.query(sql);
}

/**
 * What is wrong with the database for the RLS backstop: the role bypasses RLS (superuser or BYPASSRLS), or a
 * tenant-aware table lacks RLS, FORCE or its policy. Empty when all is well.
 */
export async function findRlsProblems(dataSource: DataSource): Promise<string[]> {
  const problems: string[] = [];
  const [role] = (await dataSource.query(
    'SELECT current_user AS name, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user',
  )) as { name: string; rolsuper: boolean; rolbypassrls: boolean }[];
  if (role?.rolsuper) {
    problems.push(
      `the database role "${role.name}" is a superuser, and superusers bypass row-level security: ` +
        'connect the application as a role created with NOSUPERUSER NOBYPASSRLS',
    );
  } else if (role?.rolbypassrls) {
    problems.push(
      `the database role "${role.name}" has BYPASSRLS: run ALTER ROLE "${role.name}" NOBYPASSRLS or use another role`,
    );
  }
  for (const t of rlsTables(dataSource)) {
    const [row] = (await dataSource.query(
      `SELECT c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
              EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = $2) AS has_policy
         FROM pg_class c WHERE c.oid = to_regclass($1)`,
      [t.table, RLS_POLICY_NAME],
    )) as { enabled: boolean; forced: boolean; has_policy: boolean }[];
    if (!row) problems.push(`table ${t.table} (entity ${t.entity}) does not exist`);
    else {
      if (!row.enabled)
        problems.push(`table ${t.table} (entity ${t.entity}) does not ENABLE ROW LEVEL SECURITY`);
      if (!row.forced)
        problems.push(`table ${t.table} (entity ${t.entity}) does not FORCE ROW LEVEL SECURITY`);
      if (!row.has_policy)
        problems.push(`table ${t.table} (entity ${t.entity}) has no ${RLS_POLICY_NAME} policy`);
    }
  }
  return problems;
}
