import { Inject, Injectable } from '@nestjs/common';
import type {
  DataSource,
  EntityManager,
  EntityMetadata,
  EntityTarget,
  ObjectLiteral,
  QueryRunner,
} from 'typeorm';
import { TenancyService } from '@bulkhead/tenancy';
import type {
  AuditAction,
  AuditDigest,
  AuditEventInput,
  AuditEntry,
  AuditPage,
  AuditQuery,
  VerifyOptions,
  VerifyResult,
} from './audit-entry.interface';
import { REVERTS_SETTING } from './audit.constants';
import { AUDIT_DATA_SOURCE } from './audit.internal-constants';
import { toEntry, type EntryRow } from './audit-entry.mapper';
import {
  AuditEntryNotFoundError,
  AuditTenantRequiredError,
  RevertConflictError,
  RevertNotPossibleError,
} from './errors/audit.errors';

const ENTRY_COLUMNS = `e.id, e.tenant_id, c.position, e.occurred_at, e.actor_type, e.actor_id, e.action, e.entity,
  e.entity_id, e.before, e.after, e.changed, e.redacted, e.correlation_id, e.txid::text AS txid, e.path, e.reverts`;
const GENESIS = Buffer.alloc(32);

/** The smallest position among those given, or null. */
function firstOf(values: (string | null)[]): string | null {
  const present = values.filter((v): v is string => v !== null).map(Number);
  return present.length ? String(Math.min(...present)) : null;
}

/**
 * Reads, verifies and rewinds the audit trail. Every read is scoped to the tenant(s) in context (inside
 * `runUnscoped()` it spans all tenants); with no tenant in context it refuses.
 */
@Injectable()
export class AuditService {
  constructor(
    @Inject(AUDIT_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly tenancy: TenancyService,
  ) {}

  /**
   * Entries matching the query, oldest first, a page at a time: pass the returned `nextCursor` as `cursor`
   * to get the next page.
   */
  async find(query: AuditQuery = {}): Promise<AuditPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    this.scope('find', add);
    if (query.entity) add('e.entity = ?', this.entityName(query.entity));
    if (query.entityId !== undefined) add('e.entity_id = ?::jsonb', JSON.stringify(this.idObject(query)));
    // (an id without an entity must already be the column-keyed object stored in entries)
    if (query.actorId) add('e.actor_id = ?', query.actorId);
    if (query.action) add('e.action = ?', query.action);
    if (query.correlationId) add('e.correlation_id = ?', query.correlationId);
    if (query.from) add('e.occurred_at >= ?', query.from);
    if (query.to) add('e.occurred_at < ?', query.to);
    if (query.cursor) add('e.id > ?', query.cursor);
    const limit = Math.min(Math.max(query.limit ?? 100, 1), 1000);
    params.push(limit + 1);
    const rows = (await this.dataSource.query(
      `SELECT ${ENTRY_COLUMNS} FROM bulkhead_audit_entry e LEFT JOIN bulkhead_audit_chain c ON c.entry_id = e.id
        ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY e.id LIMIT $${params.length}`,
      params,
    )) as EntryRow[];
    const items = rows.slice(0, limit).map(toEntry);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
  }

  /**
   * Records an application event (a denied decision, a sign-in...) in the tenant's chain, attributed to the
   * context's actor. Pass `manager` to write it in a transaction of yours. Returns the entry id.
   */
  async record(event: AuditEventInput, manager?: EntityManager): Promise<string> {
    const context = this.tenancy.current();
    const runner = manager ?? this.dataSource.manager;
    const [{ id }] = (await runner.query(
      'SELECT bulkhead_audit_record($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8) AS id',
      [
        context?.tenantId ?? null,
        context?.actor?.type ?? 'system',
        context?.actor?.id ?? 'unknown',
        `event:${event.name}`,
        event.entity,
        JSON.stringify(event.entityId ?? {}),
        JSON.stringify(event.details ?? {}),
        context?.correlationId ?? null,
      ],
    )) as { id: string }[];
    return String(id);
  }

  /** One entry by id, in the current tenant. */
  async entry(id: string): Promise<AuditEntry> {
    const page = await this.find({ cursor: String(BigInt(id) - 1n), limit: 1 });
    const found = page.items[0];
    if (!found || found.id !== String(id)) throw new AuditEntryNotFoundError(String(id));
    return found;
  }

  /**
   * Checks a tenant's hash chain from its first entry (or last retention checkpoint) to its head. Detects a
   * changed field, a deleted, inserted or reordered entry, at the first position where the chain breaks.
   * With `expected` (a digest kept elsewhere), also detects a rewrite of the whole chain.
   */
  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    const tenant = options.tenant ?? this.tenantForVerify();
    const key = tenant ?? '';
    const [checkpoint] = (await this.dataSource.query(
      'SELECT position, hash FROM bulkhead_audit_checkpoint WHERE tenant_id = $1 ORDER BY position DESC LIMIT 1',
      [key],
    )) as { position: string; hash: Buffer }[];
    const start = checkpoint ? Number(checkpoint.position) : 0;
    const startHash = checkpoint ? checkpoint.hash : GENESIS;
    // Every link is checked independently and set-based, in the database: its hash must be the SHA-256 of the
    // previous hash and the entry's canonical form, its previous hash the hash before it, its position the
    // next one. Nothing but the verdict travels to the application. A long chain is split into ranges checked
    // concurrently on separate connections (the work is CPU-bound in PostgreSQL), each given the hash at its
    // lower bound.
    const [{ top }] = (await this.dataSource.query(
      'SELECT coalesce(max(position), 0)::bigint AS top FROM bulkhead_audit_chain WHERE tenant_id = $1',
      [key],
    )) as { top: string }[];
    const ranges = this.ranges(start, Number(top));
    const bounds = (await this.dataSource.query(
      'SELECT position, hash FROM bulkhead_audit_chain WHERE tenant_id = $1 AND position = ANY($2)',
      [key, ranges.map(([lo]) => lo)],
    )) as { position: string; hash: Buffer }[];
    const hashAt = new Map(bounds.map((b) => [Number(b.position), b.hash]));
    const parts = await Promise.all(
      ranges.map(([lo, hi]) =>
        this.checkLinks(key, lo, hi, lo === start ? startHash : (hashAt.get(lo) ?? null)),
      ),
    );
    const v = {
      links: String(parts.reduce((n, p) => n + Number(p.links), 0)),
      last:
        parts
          .map((p) => p.last)
          .filter((x) => x !== null)
          .pop() ?? null,
      // a missing range boundary is a gap the ranges on either side cannot see
      gap: firstOf([
        ...parts.map((p) => p.gap),
        ...ranges.map(([lo]) => (lo !== start && lo <= Number(top) && !hashAt.has(lo) ? String(lo) : null)),
      ]),
      deleted: firstOf(parts.map((p) => p.deleted)),
      unlinked: firstOf(parts.map((p) => p.unlinked)),
      altered: firstOf(parts.map((p) => p.altered)),
    };
    const breaks = (
      [
        [v.gap, 'entry missing from the chain'],
        [v.deleted, 'entry deleted'],
        [v.unlinked, 'chain link does not match'],
        [v.altered, 'entry altered'],
      ] as const
    )
      .filter(([at]) => at !== null)
      .map(([at, reason]) => ({ at: Number(at), reason }))
      .sort((x, y) => x.at - y.at);
    if (breaks.length) {
      return {
        valid: false,
        checked: breaks[0].at - start - 1,
        firstBrokenAt: breaks[0].at,
        reason: breaks[0].reason,
      };
    }
    const checked = Number(v.links);
    const expectedPosition = v.last === null ? start : Number(v.last);
    const [last] = (await this.dataSource.query(
      'SELECT hash FROM bulkhead_audit_chain WHERE tenant_id = $1 AND position = $2',
      [key, expectedPosition],
    )) as { hash: Buffer }[];
    const prev = last ? last.hash : startHash;
    const forged = await this.unchainedEntries(key);
    if (forged !== null) {
      return { valid: false, checked, firstBrokenAt: forged, reason: 'entry not in the chain' };
    }
    const [head] = (await this.dataSource.query(
      'SELECT position, hash FROM bulkhead_audit_head WHERE tenant_id = $1',
      [key],
    )) as { position: string; hash: Buffer }[];
    if (head && (Number(head.position) !== expectedPosition || !head.hash.equals(prev))) {
      return {
        valid: false,
        checked,
        firstBrokenAt: expectedPosition + 1,
        reason: 'head does not match the chain',
      };
    }
    if (options.expected) {
      const want = options.expected;
      if (want.position > expectedPosition) {
        return {
          valid: false,
          checked,
          firstBrokenAt: expectedPosition + 1,
          reason: 'chain shorter than the digest',
        };
      }
      const [atDigest] = (await this.dataSource.query(
        'SELECT hash FROM bulkhead_audit_chain WHERE tenant_id = $1 AND position = $2',
        [key, want.position],
      )) as { hash: Buffer }[];
      const found = want.position === start ? startHash : atDigest?.hash;
      if (!found || found.toString('hex') !== want.hash) {
        return {
          valid: false,
          checked,
          firstBrokenAt: 1,
          reason: 'chain does not lead to the digest (rewritten)',
        };
      }
    }
    return { valid: true, checked };
  }

  /**
   * The head of a tenant's chain (position and hash). Store it outside the database (a log, another system):
   * `verify({ expected })` then proves the chain was not rewritten up to it.
   */
  async digest(tenant?: string): Promise<AuditDigest> {
    const key = tenant ?? this.tenantForVerify() ?? '';
    const [head] = (await this.dataSource.query(
      'SELECT position, hash FROM bulkhead_audit_head WHERE tenant_id = $1',
      [key],
    )) as { position: string; hash: Buffer }[];
    return {
      tenantId: key || null,
      position: head ? Number(head.position) : 0,
      hash: head ? head.hash.toString('hex') : GENESIS.toString('hex'),
    };
  }

  /** Chains the entries whose transactions have ended; returns how many. The sealer calls it on a timer. */
  async seal(batch = 5000): Promise<number> {
    let total = 0;
    for (;;) {
      const [{ n }] = (await this.dataSource.query('SELECT bulkhead_audit_seal($1) AS n', [batch])) as {
        n: number;
      }[];
      total += n;
      if (n < batch) return total;
    }
  }

  /**
   * A row's state at a past moment, rebuilt from its audit entries (ignored and redacted columns are not in
   * it); `null` when it did not exist then.
   */
  async stateAt<T extends ObjectLiteral>(
    entity: EntityTarget<T>,
    id: unknown,
    at: Date,
  ): Promise<Record<string, unknown> | null> {
    const metadata = this.dataSource.getMetadata(entity);
    const entityId = this.idOf(metadata, id);
    const params: unknown[] = [metadata.name, JSON.stringify(entityId), at];
    const tenantFilter: string[] = [];
    this.scope('stateAt', (sql, value) => {
      params.push(value);
      tenantFilter.push(sql.replace('?', `$${params.length}`));
    });
    const [row] = (await this.dataSource.query(
      `SELECT e.action, e.after FROM bulkhead_audit_entry e
        WHERE e.entity = $1 AND e.entity_id = $2::jsonb AND e.occurred_at < $3::timestamptz + interval '1 millisecond'
          ${tenantFilter.map((f) => 'AND ' + f).join(' ')}
        ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1`,
      params,
    )) as { action: AuditAction; after: Record<string, unknown> | null }[];
    return row?.after ?? null;
  }

  /**
   * Restores the before-state of one entry (deletes what it inserted, re-inserts what it deleted, puts back
   * the fields it changed). Refused with `RevertConflictError` when later changes would be overwritten,
   * unless `force`. The revert is itself audited, with action `revert`, linked to the entry.
   */
  async revert(entryId: string, options: { force?: boolean } = {}): Promise<AuditEntry[]> {
    const entry = await this.entry(entryId);
    const metadata = this.metadataOf(entry);
    return this.inRevert(entry.id, async (runner) => {
      const current = await this.currentRow(runner, metadata, entry.entityId);
      // by shape, so revert entries (which may insert, update or delete) are reverted too
      if (entry.before === null) {
        // it inserted the row: delete it
        if (current && !options.force) this.assertUnchanged(entry, current, Object.keys(entry.after ?? {}));
        if (current) await this.deleteRow(runner, metadata, entry.entityId);
      } else if (entry.after === null) {
        // it deleted the row: insert it again
        if (current) throw new RevertNotPossibleError(entry.id, 'a row with the same id exists again');
        await this.insertRow(runner, metadata, entry.before);
      } else {
        if (!current) throw new RevertNotPossibleError(entry.id, 'the row no longer exists');
        if (!options.force) this.assertUnchanged(entry, current, Object.keys(entry.before));
        await this.updateRow(runner, metadata, entry.entityId, entry.before);
      }
    });
  }

  /** Puts a row back to its state at a past moment (audited as a revert linked to the restored entry). */
  async revertTo<T extends ObjectLiteral>(
    entity: EntityTarget<T>,
    id: unknown,
    at: Date,
  ): Promise<AuditEntry[]> {
    const metadata = this.dataSource.getMetadata(entity);
    const entityId = this.idOf(metadata, id);
    const page = await this.find({ entity: metadata.name, entityId: id, to: new Date(at.getTime() + 1) });
    let last = page.items[page.items.length - 1];
    for (let cursor = page.nextCursor; cursor;) {
      const next = await this.find({
        entity: metadata.name,
        entityId: id,
        to: new Date(at.getTime() + 1),
        cursor,
      });
      last = next.items[next.items.length - 1] ?? last;
      cursor = next.nextCursor;
    }
    const target = await this.stateAt(entity, id, at);
    return this.inRevert(last?.id ?? '0', async (runner) => {
      const current = await this.currentRow(runner, metadata, entityId);
      if (!target) {
        if (current) await this.deleteRow(runner, metadata, entityId);
      } else if (!current) {
        await this.insertRow(runner, metadata, target);
      } else {
        const changed = Object.fromEntries(
          Object.entries(target).filter(([k, v]) => JSON.stringify(current[k]) !== JSON.stringify(v)),
        );
        if (Object.keys(changed).length) await this.updateRow(runner, metadata, entityId, changed);
      }
    });
  }

  /**
   * Removes entries older than `olderThan` and leaves a checkpoint so `verify()` still proves the rest of the
   * chain. Needs the role that owns the audit tables: pass its DataSource or QueryRunner as `runner`.
   */
  async prune(options: { olderThan: Date; runner: DataSource | QueryRunner }): Promise<number> {
    const [{ n }] = (await options.runner.query('SELECT bulkhead_audit_prune($1) AS n', [
      options.olderThan,
    ])) as {
      n: string;
    }[];
    return Number(n);
  }

  // ---------------------------------------------------------------------------------------------------------

  /** Position ranges (lo, hi] to verify concurrently: one per 100,000 links, at most 4. */
  private ranges(start: number, top: number): [number, number][] {
    const n = Math.max(1, Math.min(4, Math.ceil((top - start) / 100_000)));
    const size = Math.ceil((top - start) / n);
    return Array.from({ length: n }, (_, i) => [
      start + i * size,
      i === n - 1 ? Number.MAX_SAFE_INTEGER : start + (i + 1) * size,
    ]);
  }

  /** Checks the links of positions (lo, hi]; `loHash` is the hash the first one must link to (null: missing). */
  private async checkLinks(key: string, lo: number, hi: number, loHash: Buffer | null) {
    const [v] = (await this.dataSource.query(
      `WITH links AS (
         SELECT c.position, c.prev_hash, c.hash, e.id IS NOT NULL AS present,
                lag(c.hash) OVER w AS prior_hash, lag(c.position) OVER w AS prior_position,
                e.id IS NOT NULL AND sha256(c.prev_hash || convert_to(bulkhead_audit_canonical(e), 'UTF8')) = c.hash AS intact
           FROM bulkhead_audit_chain c LEFT JOIN bulkhead_audit_entry e ON e.id = c.entry_id
          WHERE c.tenant_id = $1 AND c.position > $2 AND c.position <= $3
         WINDOW w AS (ORDER BY c.position))
       SELECT count(*)::bigint AS links, max(position) AS last,
              min(coalesce(prior_position, $2) + 1) FILTER (WHERE position <> coalesce(prior_position, $2) + 1) AS gap,
              min(position) FILTER (WHERE NOT present) AS deleted,
              min(position) FILTER (WHERE present AND prev_hash IS DISTINCT FROM coalesce(prior_hash, $4)) AS unlinked,
              min(position) FILTER (WHERE present AND NOT intact) AS altered
         FROM links`,
      [key, lo, hi, loHash],
    )) as {
      links: string;
      last: string | null;
      gap: string | null;
      deleted: string | null;
      unlinked: string | null;
      altered: string | null;
    }[];
    return v;
  }

  private scope(operation: string, add: (sql: string, value: unknown) => void): void {
    const context = this.tenancy.current();
    if (context?.unscopedReason !== undefined) return;
    if (!context || context.tenantIds.length === 0) throw new AuditTenantRequiredError(operation);
    add('e.tenant_id = ANY(?)', [...context.tenantIds]);
  }

  private tenantForVerify(): string | undefined {
    const context = this.tenancy.current();
    if (context?.unscopedReason !== undefined) return undefined;
    if (!context?.tenantId) throw new AuditTenantRequiredError('verify');
    return context.tenantId;
  }

  /** Position at which an entry that is not in the chain (but should be) would break it, or null. */
  private async unchainedEntries(key: string): Promise<number | null> {
    const [row] = (await this.dataSource.query(
      `SELECT (SELECT coalesce(min(c.position), (SELECT coalesce(max(position), 0) + 1 FROM bulkhead_audit_chain
                                                  WHERE tenant_id = $1))
                 FROM bulkhead_audit_chain c JOIN bulkhead_audit_entry x ON x.id = c.entry_id
                WHERE c.tenant_id = $1 AND (x.txid, x.id) > (e.txid, e.id)) AS at
         FROM bulkhead_audit_entry e
        WHERE e.tenant_id = $1 AND e.txid < (SELECT sealed_below FROM bulkhead_audit_state)
          AND NOT EXISTS (SELECT 1 FROM bulkhead_audit_chain c WHERE c.entry_id = e.id)
        ORDER BY e.txid, e.id LIMIT 1`,
      [key],
    )) as { at: string }[];
    return row ? Number(row.at) : null;
  }

  private entityName(entity: AuditQuery['entity']): string {
    return typeof entity === 'string' ? entity : this.dataSource.getMetadata(entity!).name;
  }

  private idObject(query: AuditQuery): Record<string, unknown> {
    if (!query.entity) return query.entityId as Record<string, unknown>;
    return this.idOf(this.dataSource.getMetadata(query.entity), query.entityId);
  }

  private idOf(metadata: EntityMetadata, id: unknown): Record<string, unknown> {
    if (typeof id === 'object' && id !== null) {
      return Object.fromEntries(
        metadata.primaryColumns.map((c) => [c.databaseName, (id as Record<string, unknown>)[c.propertyName]]),
      );
    }
    if (metadata.primaryColumns.length !== 1) {
      throw new RevertNotPossibleError('-', `${metadata.name} has a composite key: pass the id as an object`);
    }
    return { [metadata.primaryColumns[0].databaseName]: id };
  }

  private metadataOf(entry: AuditEntry): EntityMetadata {
    const metadata = this.dataSource.entityMetadatas.find((m) => m.name === entry.entity);
    if (!metadata)
      throw new RevertNotPossibleError(entry.id, `entity "${entry.entity}" is not in this DataSource`);
    return metadata;
  }

  private assertUnchanged(entry: AuditEntry, current: Record<string, unknown>, fields: string[]): void {
    const after = entry.after ?? {};
    const conflicts = fields.filter((f) => JSON.stringify(current[f]) !== JSON.stringify(after[f]));
    if (conflicts.length) throw new RevertConflictError(entry.id, conflicts);
  }

  /** Runs the revert's writes in one transaction, marked so the capture triggers record them as a revert. */
  private async inRevert(
    revertsId: string,
    work: (runner: QueryRunner) => Promise<void>,
  ): Promise<AuditEntry[]> {
    const marker = (await this.tenancy.runWithRawSql('audit revert', () =>
      this.dataSource.transaction(async (manager) => {
        const runner = manager.queryRunner!;
        await runner.query(`SELECT set_config('${REVERTS_SETTING}', $1, true)`, [revertsId]);
        await work(runner);
        const [{ txid }] = (await runner.query('SELECT pg_current_xact_id()::text AS txid')) as {
          txid: string;
        }[];
        return txid;
      }),
    )) as string;
    const rows = (await this.dataSource.query(
      `SELECT ${ENTRY_COLUMNS} FROM bulkhead_audit_entry e LEFT JOIN bulkhead_audit_chain c ON c.entry_id = e.id
        WHERE e.txid = $1::xid8 ORDER BY e.id`,
      [marker],
    )) as EntryRow[];
    return rows.map(toEntry);
  }

  private where(metadata: EntityMetadata, entityId: Record<string, unknown>, offset: number) {
    const columns = metadata.primaryColumns.map((c) => c.databaseName);
    return {
      sql: columns.map((c, i) => `${this.dataSource.driver.escape(c)} = $${offset + i + 1}`).join(' AND '),
      params: columns.map((c) => entityId[c]),
    };
  }

  private table(metadata: EntityMetadata): string {
    return metadata.tablePath
      .split('.')
      .map((p) => this.dataSource.driver.escape(p))
      .join('.');
  }

  private async currentRow(runner: QueryRunner, metadata: EntityMetadata, entityId: Record<string, unknown>) {
    const w = this.where(metadata, entityId, 0);
    const [row] = (await runner.query(
      `SELECT to_jsonb(t) AS row FROM ${this.table(metadata)} t WHERE ${w.sql}`,
      w.params,
    )) as { row: Record<string, unknown> }[];
    return row?.row ?? null;
  }

  private async deleteRow(runner: QueryRunner, metadata: EntityMetadata, entityId: Record<string, unknown>) {
    const w = this.where(metadata, entityId, 0);
    await runner.query(`DELETE FROM ${this.table(metadata)} WHERE ${w.sql}`, w.params);
  }

  private async insertRow(runner: QueryRunner, metadata: EntityMetadata, values: Record<string, unknown>) {
    const columns = Object.keys(values).map((c) => this.dataSource.driver.escape(c));
    const table = this.table(metadata);
    await runner.query(
      `INSERT INTO ${table} (${columns.join(', ')})
       SELECT ${columns.join(', ')} FROM jsonb_populate_record(NULL::${table}, $1::jsonb)`,
      [JSON.stringify(values)],
    );
  }

  private async updateRow(
    runner: QueryRunner,
    metadata: EntityMetadata,
    entityId: Record<string, unknown>,
    values: Record<string, unknown>,
  ) {
    const columns = Object.keys(values).map((c) => this.dataSource.driver.escape(c));
    if (!columns.length) return;
    const table = this.table(metadata);
    const w = this.where(metadata, entityId, 1);
    await runner.query(
      `UPDATE ${table} SET (${columns.join(', ')}) =
         (SELECT ${columns.join(', ')} FROM jsonb_populate_record(NULL::${table}, $1::jsonb))
       WHERE ${w.sql}`,
      [JSON.stringify(values), ...w.params],
    );
  }
}
