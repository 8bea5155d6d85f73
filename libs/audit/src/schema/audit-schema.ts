import type { DataSource, EntityMetadata, QueryRunner } from 'typeorm';
import { getTenantColumn, rlsPolicyExpression } from '@bulkhead/tenancy';
import { auditOptionsOf } from '../decorators/audit.decorators';
import {
  ACTOR_ID_SETTING,
  ACTOR_TYPE_SETTING,
  AUDIT_TABLES,
  CORRELATION_ID_SETTING,
  REVERTS_SETTING,
} from '../audit.constants';

/** Options of {@link generateAuditDdl}. */
export interface AuditSchemaOptions {
  /**
   * The application's database role: it may read audit rows (of its tenant when `rls` is on), run the
   * sealer, and keep sink cursors, but never insert, update or delete audit rows (the capture triggers and
   * the sealer run as the owner). Default: none (no grants or revokes are issued).
   */
  readonly appRole?: string;
  /** Restrict reads of audit rows to the tenant bound on the connection (TenancyModule `rls: true`). */
  readonly rls?: boolean;
}

/** One audited table as the capture triggers see it. */
export interface AuditedTable {
  readonly entity: string;
  readonly table: string;
  readonly triggerSuffix: string;
  readonly primaryKey: readonly string[];
  readonly tenantColumn: string | null;
  readonly deleteDateColumn: string | null;
  readonly ignored: readonly string[];
  readonly redacted: readonly string[];
  /** Mapped columns (name and whether it compares as text: json has no equality operator). */
  readonly columns: readonly { readonly name: string; readonly asText: boolean }[];
}

const q = (name: string) => '"' + name.replace(/"/g, '""') + '"';
const lit = (value: string) => "'" + value.replace(/'/g, "''") + "'";
const qualified = (path: string) => path.split('.').map(q).join('.');

/** Every table the audit captures: all entities of the DataSource except those marked `@NotAudited()`. */
export function auditedTables(dataSource: DataSource): AuditedTable[] {
  return dataSource.entityMetadatas
    .filter((m) => m.tableType === 'regular' || m.tableType === 'entity-child' || m.tableType === 'junction')
    .filter((m) => !AUDIT_TABLES.includes(m.tableName))
    .map((m) => describe(m))
    .filter((t): t is AuditedTable => t !== null);
}

function describe(m: EntityMetadata): AuditedTable | null {
  const target = typeof m.target === 'function' ? m.target : undefined;
  const options = target ? auditOptionsOf(target) : { notAudited: false, ignored: [], redacted: [] };
  if (options.notAudited) return null;
  const columnName = (property: string) => m.findColumnWithPropertyPath(property)?.databaseName ?? property;
  return {
    entity: m.name,
    table: qualified(m.tablePath),
    triggerSuffix: m.tablePath.replace(/[^A-Za-z0-9_]/g, '_').toLowerCase(),
    primaryKey: m.primaryColumns.map((c) => c.databaseName),
    tenantColumn: getTenantColumn(m)?.databaseName ?? null,
    deleteDateColumn: m.deleteDateColumn?.databaseName ?? null,
    ignored: options.ignored.map(columnName),
    redacted: options.redacted.map(columnName),
    columns: [...new Map(m.columns.map((c) => [c.databaseName, c])).values()].map((c) => ({
      name: c.databaseName,
      asText: ['json', 'xml', 'point', 'polygon', 'line', 'lseg', 'box', 'path', 'circle'].includes(
        String(c.type),
      ),
    })),
  };
}

/**
 * The audit's tables and functions. Entries are append-only: the capture triggers insert them (never
 * chained inside the writing transaction, so writers of one tenant never wait for each other), and the
 * sealer later chains them per tenant into `bulkhead_audit_chain`, in an order that is final.
 */
function baseDdl(options: AuditSchemaOptions): string[] {
  const ddl = [
    `CREATE TABLE IF NOT EXISTS bulkhead_audit_entry (
      id bigserial PRIMARY KEY,
      tenant_id text NOT NULL,
      txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
      occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      actor_type text NOT NULL,
      actor_id text NOT NULL,
      action text NOT NULL,
      entity text NOT NULL,
      entity_id jsonb NOT NULL,
      before jsonb,
      after jsonb,
      changed text[] NOT NULL DEFAULT '{}',
      redacted text[] NOT NULL DEFAULT '{}',
      correlation_id text,
      path text NOT NULL,
      reverts bigint
    )`,
    'CREATE INDEX IF NOT EXISTS bulkhead_audit_entry_txid ON bulkhead_audit_entry (txid, id)',
    'CREATE INDEX IF NOT EXISTS bulkhead_audit_entry_subject ON bulkhead_audit_entry (tenant_id, entity, entity_id, occurred_at)',
    'CREATE INDEX IF NOT EXISTS bulkhead_audit_entry_time ON bulkhead_audit_entry (tenant_id, occurred_at)',
    // every index costs each audited write; queries by actor or correlation id scan a tenant's time index
    `CREATE TABLE IF NOT EXISTS bulkhead_audit_chain (
      entry_id bigint PRIMARY KEY,
      tenant_id text NOT NULL,
      position bigint NOT NULL,
      prev_hash bytea NOT NULL,
      hash bytea NOT NULL,
      sealed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      UNIQUE (tenant_id, position)
    )`,
    `CREATE TABLE IF NOT EXISTS bulkhead_audit_head (
      tenant_id text PRIMARY KEY,
      position bigint NOT NULL,
      hash bytea NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS bulkhead_audit_checkpoint (
      tenant_id text NOT NULL,
      position bigint NOT NULL,
      hash bytea NOT NULL,
      pruned_before timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (tenant_id, position)
    )`,
    `CREATE TABLE IF NOT EXISTS bulkhead_audit_state (
      id int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
      sealed_below xid8 NOT NULL DEFAULT '0'
    )`,
    'INSERT INTO bulkhead_audit_state (id) VALUES (1) ON CONFLICT DO NOTHING',
    `CREATE TABLE IF NOT EXISTS bulkhead_audit_sink_cursor (
      sink text NOT NULL,
      tenant_id text NOT NULL,
      position bigint NOT NULL,
      PRIMARY KEY (sink, tenant_id)
    )`,
    // The canonical form an entry is hashed in. Times as epoch microseconds, so the session time zone and
    // date style never change it; JSON values as PostgreSQL's own deterministic jsonb text.
    `CREATE OR REPLACE FUNCTION bulkhead_audit_canonical(e bulkhead_audit_entry) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT jsonb_build_array(e.id, e.tenant_id, e.txid::text,
        (extract(epoch FROM e.occurred_at) * 1000000)::bigint, e.actor_type, e.actor_id, e.action, e.entity,
        e.entity_id, e.before, e.after, to_jsonb(e.changed), to_jsonb(e.redacted), e.correlation_id, e.path,
        e.reverts)::text
    $$`,
    // The sealer: chains every entry whose writing transaction, and every older one, has ended. Such an
    // order is final: no entry can later appear below pg_snapshot_xmin. One sealer at a time (advisory lock),
    // so several application processes can all run it.
    `CREATE OR REPLACE FUNCTION bulkhead_audit_seal(p_limit int DEFAULT 5000) RETURNS int
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
      DECLARE
        horizon xid8 := pg_snapshot_xmin(pg_current_snapshot());
        floor xid8;
        r record;
        current_tenant text := NULL;
        pos bigint;
        prev bytea;
        n int := 0;
        ids bigint[] := '{}'; positions bigint[] := '{}'; prevs bytea[] := '{}'; hashes bytea[] := '{}';
      BEGIN
        IF NOT pg_try_advisory_xact_lock(hashtextextended('bulkhead_audit_seal', 0)) THEN RETURN 0; END IF;
        SELECT sealed_below INTO floor FROM bulkhead_audit_state WHERE id = 1;
        FOR r IN
          SELECT e.*, bulkhead_audit_canonical(e) AS canon FROM bulkhead_audit_entry e
           WHERE e.txid >= floor AND e.txid < horizon
             AND NOT EXISTS (SELECT 1 FROM bulkhead_audit_chain c WHERE c.entry_id = e.id)
           ORDER BY e.tenant_id, e.txid, e.id LIMIT p_limit
        LOOP
          IF current_tenant IS DISTINCT FROM r.tenant_id THEN
            IF current_tenant IS NOT NULL THEN
              INSERT INTO bulkhead_audit_chain (entry_id, tenant_id, position, prev_hash, hash)
                SELECT u.i, current_tenant, u.p, u.ph, u.h FROM unnest(ids, positions, prevs, hashes) AS u(i, p, ph, h);
              INSERT INTO bulkhead_audit_head AS hd (tenant_id, position, hash) VALUES (current_tenant, pos, prev)
                ON CONFLICT (tenant_id) DO UPDATE SET position = excluded.position, hash = excluded.hash;
              ids := '{}'; positions := '{}'; prevs := '{}'; hashes := '{}';
            END IF;
            current_tenant := r.tenant_id;
            SELECT h.position, h.hash INTO pos, prev FROM bulkhead_audit_head h WHERE h.tenant_id = r.tenant_id;
            IF NOT FOUND THEN
              SELECT c.position, c.hash INTO pos, prev FROM bulkhead_audit_checkpoint c
               WHERE c.tenant_id = r.tenant_id ORDER BY c.position DESC LIMIT 1;
              IF NOT FOUND THEN pos := 0; prev := decode(repeat('00', 32), 'hex'); END IF;
            END IF;
          END IF;
          pos := pos + 1;
          ids := ids || r.id; positions := positions || pos; prevs := prevs || prev;
          prev := sha256(prev || convert_to(r.canon, 'UTF8'));
          hashes := hashes || prev;
          n := n + 1;
        END LOOP;
        IF current_tenant IS NOT NULL THEN
          INSERT INTO bulkhead_audit_chain (entry_id, tenant_id, position, prev_hash, hash)
            SELECT u.i, current_tenant, u.p, u.ph, u.h FROM unnest(ids, positions, prevs, hashes) AS u(i, p, ph, h);
          INSERT INTO bulkhead_audit_head AS hd (tenant_id, position, hash) VALUES (current_tenant, pos, prev)
            ON CONFLICT (tenant_id) DO UPDATE SET position = excluded.position, hash = excluded.hash;
        END IF;
        IF n < p_limit THEN UPDATE bulkhead_audit_state SET sealed_below = horizon WHERE id = 1; END IF;
        RETURN n;
      END $$`,
    // Retention: drops entries older than the cut-off and leaves a checkpoint (the last dropped hash), so the
    // rest of each chain still verifies. Not granted to the application role.
    `CREATE OR REPLACE FUNCTION bulkhead_audit_prune(p_before timestamptz) RETURNS bigint
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
      DECLARE t record; dropped bigint := 0; k bigint;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtextextended('bulkhead_audit_seal', 0));
        FOR t IN
          SELECT c.tenant_id, max(c.position) AS position FROM bulkhead_audit_chain c
            JOIN bulkhead_audit_entry e ON e.id = c.entry_id
           WHERE e.occurred_at < p_before GROUP BY c.tenant_id
        LOOP
          INSERT INTO bulkhead_audit_checkpoint (tenant_id, position, hash, pruned_before)
            SELECT t.tenant_id, t.position, c.hash, p_before FROM bulkhead_audit_chain c
             WHERE c.tenant_id = t.tenant_id AND c.position = t.position;
          WITH gone AS (
            DELETE FROM bulkhead_audit_chain c WHERE c.tenant_id = t.tenant_id AND c.position <= t.position
            RETURNING c.entry_id)
          DELETE FROM bulkhead_audit_entry e USING gone WHERE e.id = gone.entry_id;
          GET DIAGNOSTICS k = ROW_COUNT;
          dropped := dropped + k;
        END LOOP;
        RETURN dropped;
      END $$`,
    // Application events (a denied decision...): the only entries the application role can add, marked
    // path 'application' and with an action that must start with 'event:', so they can never pass for a
    // captured row change. Chained like every other entry.
    `CREATE OR REPLACE FUNCTION bulkhead_audit_record(p_tenant text, p_actor_type text, p_actor_id text,
        p_action text, p_entity text, p_entity_id jsonb, p_details jsonb, p_correlation text) RETURNS bigint
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
      DECLARE new_id bigint;
      BEGIN
        IF p_action NOT LIKE 'event:%' THEN
          RAISE EXCEPTION 'bulkhead_audit_record only records application events (action ''event:...''), not %', p_action;
        END IF;
        INSERT INTO bulkhead_audit_entry (tenant_id, actor_type, actor_id, action, entity, entity_id, after,
                                          correlation_id, path)
        VALUES (coalesce(p_tenant, ''), p_actor_type, p_actor_id, p_action, p_entity, coalesce(p_entity_id, '{}'),
                p_details, p_correlation, 'application')
        RETURNING id INTO new_id;
        RETURN new_id;
      END $$`,
    // The outbox: what a sink has not acknowledged yet, per tenant in chain order, and its acknowledgement.
    `CREATE OR REPLACE FUNCTION bulkhead_audit_pending(p_sink text, p_limit int)
      RETURNS TABLE (id bigint, tenant_id text, "position" bigint, occurred_at timestamptz, actor_type text,
        actor_id text, action text, entity text, entity_id jsonb, before jsonb, after jsonb, changed text[],
        redacted text[], correlation_id text, txid text, path text, reverts bigint)
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
      SELECT e.id, e.tenant_id, c.position, e.occurred_at, e.actor_type, e.actor_id, e.action, e.entity,
             e.entity_id, e.before, e.after, e.changed, e.redacted, e.correlation_id, e.txid::text, e.path, e.reverts
        FROM bulkhead_audit_head h
        LEFT JOIN bulkhead_audit_sink_cursor k ON k.sink = p_sink AND k.tenant_id = h.tenant_id
        CROSS JOIN LATERAL (SELECT * FROM bulkhead_audit_chain c0
                             WHERE c0.tenant_id = h.tenant_id AND c0.position > coalesce(k.position, 0)
                             ORDER BY c0.position LIMIT p_limit) c
        JOIN bulkhead_audit_entry e ON e.id = c.entry_id
       WHERE h.position > coalesce(k.position, 0)
       ORDER BY c.tenant_id, c.position LIMIT p_limit
    $$`,
    `CREATE OR REPLACE FUNCTION bulkhead_audit_ack(p_sink text, p_tenant text, p_position bigint) RETURNS void
      LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
      INSERT INTO bulkhead_audit_sink_cursor AS k (sink, tenant_id, position) VALUES (p_sink, p_tenant, p_position)
      ON CONFLICT (sink, tenant_id) DO UPDATE SET position = greatest(k.position, excluded.position)
    $$`,
  ];
  if (options.rls) {
    const visible = rlsPolicyExpression({ column: 'tenant_id', columnType: 'text' });
    for (const table of ['bulkhead_audit_entry', 'bulkhead_audit_chain', 'bulkhead_audit_head']) {
      ddl.push(
        `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
        `DROP POLICY IF EXISTS bulkhead_audit_read ON ${table}`,
        `CREATE POLICY bulkhead_audit_read ON ${table} FOR SELECT USING ${visible}`,
      );
    }
  }
  if (options.appRole) {
    const role = q(options.appRole);
    ddl.push(
      `REVOKE ALL ON bulkhead_audit_entry, bulkhead_audit_chain, bulkhead_audit_head, bulkhead_audit_checkpoint, bulkhead_audit_state FROM PUBLIC, ${role}`,
      `GRANT SELECT ON bulkhead_audit_state TO ${role}`,
      `GRANT SELECT ON bulkhead_audit_entry, bulkhead_audit_chain, bulkhead_audit_head, bulkhead_audit_checkpoint TO ${role}`,
      `REVOKE ALL ON bulkhead_audit_sink_cursor FROM PUBLIC, ${role}`,
      `GRANT EXECUTE ON FUNCTION bulkhead_audit_pending(text, int), bulkhead_audit_ack(text, text, bigint) TO ${role}`,
      `REVOKE ALL ON FUNCTION bulkhead_audit_prune(timestamptz) FROM PUBLIC, ${role}`,
      `GRANT EXECUTE ON FUNCTION bulkhead_audit_seal(int) TO ${role}`,
      `GRANT EXECUTE ON FUNCTION bulkhead_audit_record(text, text, text, text, text, jsonb, jsonb, text) TO ${role}`,
    );
  }
  return ddl;
}

type Tracked = { readonly name: string; readonly asText: boolean };
const differs = (c: Tracked) =>
  c.asText
    ? `o.${q(c.name)}::text IS DISTINCT FROM n.${q(c.name)}::text`
    : `o.${q(c.name)} IS DISTINCT FROM n.${q(c.name)}`;
/** The names of the columns that differ between `o` and `n`, in column order. */
const changedArray = (cols: readonly Tracked[]) =>
  cols.length
    ? `array_remove(ARRAY[${cols.map((c) => `CASE WHEN ${differs(c)} THEN ${lit(c.name)} END`).join(', ')}]::text[], NULL)`
    : `'{}'::text[]`;
/** The old values of the columns that differ, as a JSON object. */
const beforeObject = (cols: readonly Tracked[]) =>
  cols.length
    ? cols
        .map(
          (c) =>
            `CASE WHEN ${differs(c)} THEN jsonb_build_object(${lit(c.name)}, o.${q(c.name)}) ELSE '{}'::jsonb END`,
        )
        .join(' || ')
    : `'{}'::jsonb`;

/** The capture triggers of one table: one statement-level trigger per operation, over transition tables. */
function tableDdl(t: AuditedTable): string[] {
  const fn = `bulkhead_audit_capture_${t.triggerSuffix}`;
  const drop = [...t.ignored, ...t.redacted].map((c) => ` - ${lit(c)}`).join('');
  const rowJson = (alias: string) => `(to_jsonb(${alias})${drop})`;
  const entityId = (alias: string) =>
    `jsonb_build_object(${t.primaryKey.map((c) => `${lit(c)}, ${alias}.${q(c)}`).join(', ')})`;
  const tenant = (alias: string) =>
    t.tenantColumn ? `coalesce(${alias}.${q(t.tenantColumn)}::text, '')` : `''`;
  const join = t.primaryKey.map((c) => `o.${q(c)} = n.${q(c)}`).join(' AND ');
  const redactedInserted = (alias: string) =>
    t.redacted.length
      ? `ARRAY(SELECT c FROM unnest(ARRAY[${t.redacted.map(lit).join(', ')}]) c WHERE (to_jsonb(${alias}) -> c) <> 'null'::jsonb)`
      : `'{}'::text[]`;
  const skip = new Set([...t.ignored, ...t.redacted]);
  const tracked = t.columns.filter((c) => !skip.has(c.name));
  const columns =
    'tenant_id, actor_type, actor_id, action, entity, entity_id, before, after, changed, redacted, correlation_id, path, reverts';
  const context = `SELECT
      CASE WHEN nullif(current_setting('${ACTOR_ID_SETTING}', true), '') IS NULL THEN 'database_role'
           ELSE coalesce(nullif(current_setting('${ACTOR_TYPE_SETTING}', true), ''), 'user') END AS actor_type,
      coalesce(nullif(current_setting('${ACTOR_ID_SETTING}', true), ''), session_user::text) AS actor_id,
      nullif(current_setting('${CORRELATION_ID_SETTING}', true), '') AS correlation_id,
      nullif(current_setting('${REVERTS_SETTING}', true), '')::bigint AS reverts,
      CASE WHEN current_query() LIKE '/* bulkhead:entity */%' THEN 'entity'
           WHEN current_query() LIKE '/* bulkhead:query-builder */%' THEN 'query-builder'
           ELSE 'raw-sql' END AS path`;
  const body = `
    DECLARE ctx record;
    BEGIN
      ${context} INTO ctx;
      IF TG_OP = 'INSERT' THEN
        INSERT INTO bulkhead_audit_entry (${columns})
        SELECT ${tenant('n')}, ctx.actor_type, ctx.actor_id,
               CASE WHEN ctx.reverts IS NULL THEN 'insert' ELSE 'revert' END, ${lit(t.entity)}, ${entityId('n')},
               NULL, ${rowJson('n')}, ARRAY(SELECT k FROM jsonb_object_keys(${rowJson('n')}) k ORDER BY k), ${redactedInserted('n')},
               ctx.correlation_id, ctx.path, ctx.reverts
          FROM bh_new n;
      ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO bulkhead_audit_entry (${columns})
        SELECT ${tenant('o')}, ctx.actor_type, ctx.actor_id,
               CASE WHEN ctx.reverts IS NULL THEN 'delete' ELSE 'revert' END, ${lit(t.entity)}, ${entityId('o')},
               ${rowJson('o')}, NULL, '{}', '{}', ctx.correlation_id, ctx.path, ctx.reverts
          FROM bh_old o;
      ELSE
        INSERT INTO bulkhead_audit_entry (${columns})
        SELECT ${tenant('n')}, ctx.actor_type, ctx.actor_id,
               CASE WHEN ctx.reverts IS NOT NULL THEN 'revert'
                    ${
                      t.deleteDateColumn
                        ? `WHEN o.${q(t.deleteDateColumn)} IS NULL AND n.${q(t.deleteDateColumn)} IS NOT NULL THEN 'soft-delete'
                    WHEN o.${q(t.deleteDateColumn)} IS NOT NULL AND n.${q(t.deleteDateColumn)} IS NULL THEN 'restore'`
                        : ''
                    }
                    ELSE 'update' END,
               ${lit(t.entity)}, ${entityId('n')}, d.before, ${rowJson('n')}, d.changed || d.redacted_changed,
               d.redacted_changed, ctx.correlation_id, ctx.path, ctx.reverts
          FROM bh_old o JOIN bh_new n ON ${join}
          -- column by column (the DDL is generated per table): no JSON round trip to find what changed;
          -- OFFSET 0 keeps the planner from evaluating it once per use
          CROSS JOIN LATERAL (SELECT ${changedArray(tracked)} AS changed,
                                     ${beforeObject(tracked)} AS before,
                                     ${changedArray(t.redacted.map((r) => t.columns.find((c) => c.name === r) ?? { name: r, asText: false }))} AS redacted_changed
                              OFFSET 0) d
         WHERE cardinality(d.changed) > 0 OR cardinality(d.redacted_changed) > 0;
      END IF;
      RETURN NULL;
    END`;
  return [
    // transition tables carry no statistics: without this the planner may pair old and new rows of a bulk
    // update with a nested loop (quadratic; measured 21 s for 10,000 rows instead of milliseconds)
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
       SET search_path = pg_catalog, public SET enable_nestloop = off SET jit = off AS $bh$${body}$bh$`,
    `DROP TRIGGER IF EXISTS bulkhead_audit_insert ON ${t.table}`,
    `DROP TRIGGER IF EXISTS bulkhead_audit_update ON ${t.table}`,
    `DROP TRIGGER IF EXISTS bulkhead_audit_delete ON ${t.table}`,
    `CREATE TRIGGER bulkhead_audit_insert AFTER INSERT ON ${t.table} REFERENCING NEW TABLE AS bh_new
       FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
    `CREATE TRIGGER bulkhead_audit_update AFTER UPDATE ON ${t.table} REFERENCING OLD TABLE AS bh_old NEW TABLE AS bh_new
       FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
    `CREATE TRIGGER bulkhead_audit_delete AFTER DELETE ON ${t.table} REFERENCING OLD TABLE AS bh_old
       FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
  ];
}

/**
 * The DDL that installs the audit: its tables and functions, and capture triggers on every audited table
 * of the DataSource. Idempotent. Run it as the role that owns the tables (a migration), after they exist.
 */
export function generateAuditDdl(dataSource: DataSource, options: AuditSchemaOptions = {}): string[] {
  return [...baseDdl(options), ...auditedTables(dataSource).flatMap(tableDdl)];
}

/** Migration helper: installs (or refreshes) the audit schema and triggers. */
export async function applyAuditSchema(
  runner: QueryRunner | DataSource,
  options: AuditSchemaOptions = {},
): Promise<void> {
  const dataSource =
    'manager' in runner && 'connection' in runner ? runner.connection : (runner as DataSource);
  for (const sql of generateAuditDdl(dataSource, options)) await runner.query(sql);
}
