/**
 * Every mutation path produces the exact audit entries (count, action, before, after, changed fields, actor,
 * path), atomically with the mutation; redacted values are never stored; the app role cannot touch audit rows.
 */
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import type { AuditEntry } from '@bulkhead/audit';
import { adminQuery, createTestDatabase, type TestDatabase } from '../db/test-database';
import { Account, AccountNote, installAuditSchema, Scratch, startAuditApp, type AuditApp } from './fixtures';

const A = 'acme';
const B = 'globex';
const ALICE = { id: 'alice', type: 'user' } as const;

describe('audit capture', () => {
  let db: TestDatabase;
  let app: AuditApp;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('audit');
    await installAuditSchema(db);
    app = await startAuditApp(db);
    ds = app.dataSource;
  });
  afterAll(async () => {
    await app?.context.close();
    await db?.drop();
  });

  beforeEach(async () => {
    await adminQuery(
      db,
      `TRUNCATE account, account_note, scratch RESTART IDENTITY;
       INSERT INTO account (tenant_id, name, balance, secret) VALUES
         ('${A}', 'a1', 10, 's1'), ('${A}', 'a2', 20, 's2'), ('${B}', 'b1', 30, 's3');
       INSERT INTO account_note (account_id, line_no, tenant_id, body) VALUES (1, 1, '${A}', 'n1');
       TRUNCATE bulkhead_audit_entry, bulkhead_audit_chain, bulkhead_audit_head, bulkhead_audit_checkpoint,
         bulkhead_audit_sink_cursor;
       UPDATE bulkhead_audit_state SET sealed_below = '0'`,
    );
  });

  const asAlice = <T>(fn: () => Promise<T>, tenant = A) =>
    app.tenancy.run({ tenant, actor: ALICE, correlationId: 'corr-1' }, fn);
  const accounts = () => ds.getRepository(Account);

  /** All entries, sealed, in id order, without the volatile fields. */
  async function entries(): Promise<Partial<AuditEntry>[]> {
    await app.audit.seal();
    const page = await app.tenancy.runUnscoped('test', () => app.audit.find({ limit: 1000 }));
    return page.items.map((e) => ({
      tenantId: e.tenantId,
      action: e.action,
      entity: e.entity,
      entityId: e.entityId,
      before: e.before,
      after: e.after,
      changed: e.changed,
      redacted: e.redacted,
      actor: e.actor,
      path: e.path,
      correlationId: e.correlationId,
    }));
  }

  const row = (id: number, name: string, balance: number, deleted: unknown = null, tenant = A) => ({
    id,
    tenant_id: tenant,
    name,
    balance,
    deleted_at: deleted,
  });
  const entry = (over: Partial<AuditEntry>): Partial<AuditEntry> => ({
    tenantId: A,
    entity: 'Account',
    redacted: [],
    actor: ALICE,
    correlationId: 'corr-1',
    before: null,
    after: null,
    ...over,
  });
  const ALL_COLUMNS = ['balance', 'deleted_at', 'id', 'name', 'tenant_id'];

  it('save (insert) records the whole row, attributed to the actor, via the entity path', async () => {
    await asAlice(() => accounts().save({ name: 'new', balance: 5, secret: 'hunter2' }));
    expect(await entries()).toEqual([
      entry({
        action: 'insert',
        entityId: { id: 4 },
        after: row(4, 'new', 5),
        changed: ALL_COLUMNS,
        redacted: ['secret'],
        path: 'entity',
      }),
    ]);
  });

  it('save (update) records the old values of the changed fields and the whole new row', async () => {
    await asAlice(async () => {
      const a = await accounts().findOneByOrFail({ id: 1 });
      a.name = 'renamed';
      a.cachedScore = 99; // ignored: not recorded
      await accounts().save(a);
    });
    expect(await entries()).toEqual([
      entry({
        action: 'update',
        entityId: { id: 1 },
        before: { name: 'a1' },
        after: row(1, 'renamed', 10),
        changed: ['name'],
        path: 'entity',
      }),
    ]);
  });

  it('an update of only an ignored column records nothing; of a redacted one, only that it changed', async () => {
    await asAlice(() => accounts().update({ id: 1 }, { cachedScore: 7 }));
    await asAlice(() => accounts().update({ id: 2 }, { secret: 'new-secret' }));
    expect(await entries()).toEqual([
      entry({
        action: 'update',
        entityId: { id: 2 },
        before: {},
        after: row(2, 'a2', 20),
        changed: ['secret'],
        redacted: ['secret'],
        path: 'query-builder',
      }),
    ]);
  });

  it('insert, update, increment, decrement via the repository record one entry per row', async () => {
    await asAlice(async () => {
      await accounts().insert({ name: 'ins', balance: 1 });
      await accounts().update({ balance: 10 }, { balance: 11 });
      await accounts().increment({ id: 2 }, 'balance', 5);
      await accounts().decrement({ id: 4 }, 'balance', 1);
    });
    expect(await entries()).toEqual([
      entry({
        action: 'insert',
        entityId: { id: 4 },
        after: row(4, 'ins', 1),
        changed: ALL_COLUMNS,
        path: 'query-builder',
      }),
      entry({
        action: 'update',
        entityId: { id: 1 },
        before: { balance: 10 },
        after: row(1, 'a1', 11),
        changed: ['balance'],
        path: 'query-builder',
      }),
      entry({
        action: 'update',
        entityId: { id: 2 },
        before: { balance: 20 },
        after: row(2, 'a2', 25),
        changed: ['balance'],
        path: 'query-builder',
      }),
      entry({
        action: 'update',
        entityId: { id: 4 },
        before: { balance: 1 },
        after: row(4, 'ins', 0),
        changed: ['balance'],
        path: 'query-builder',
      }),
    ]);
  });

  it('upsert records an insert for a new row and an update for an existing one', async () => {
    await asAlice(() =>
      ds.getRepository(AccountNote).upsert(
        [
          { accountId: 1, lineNo: 1, body: 'n1-up' },
          { accountId: 1, lineNo: 2, body: 'two' },
        ],
        ['accountId', 'lineNo'],
      ),
    );
    const note = (line: number, body: string) => ({ account_id: 1, line_no: line, tenant_id: A, body });
    // PostgreSQL fires the statement's UPDATE trigger before its INSERT trigger
    expect(await entries()).toEqual([
      entry({
        entity: 'AccountNote',
        action: 'update',
        entityId: { account_id: 1, line_no: 1 },
        before: { body: 'n1' },
        after: note(1, 'n1-up'),
        changed: ['body'],
        path: 'query-builder',
      }),
      entry({
        entity: 'AccountNote',
        action: 'insert',
        entityId: { account_id: 1, line_no: 2 },
        after: note(2, 'two'),
        changed: ['account_id', 'body', 'line_no', 'tenant_id'],
        path: 'query-builder',
      }),
    ]);
  });

  it('delete, remove, softDelete, softRemove, restore and recover record their actions', async () => {
    await asAlice(async () => {
      await accounts().softDelete({ id: 1 });
      await accounts().restore({ id: 1 });
      const a2 = await accounts().findOneByOrFail({ id: 2 });
      await accounts().softRemove(a2);
      await accounts().recover(a2);
      await accounts().delete({ id: 1 });
      await accounts().remove(await accounts().findOneByOrFail({ id: 2 }));
    });
    const got = await entries();
    expect(got.map((e) => [e.action, e.entityId, e.path, e.changed])).toEqual([
      ['soft-delete', { id: 1 }, 'query-builder', ['deleted_at']],
      ['restore', { id: 1 }, 'query-builder', ['deleted_at']],
      ['soft-delete', { id: 2 }, 'entity', ['deleted_at']],
      ['restore', { id: 2 }, 'entity', ['deleted_at']],
      ['delete', { id: 1 }, 'query-builder', []],
      ['delete', { id: 2 }, 'entity', []],
    ]);
    expect(got[0].before).toEqual({ deleted_at: null });
    expect(got[4]).toEqual(
      entry({
        action: 'delete',
        entityId: { id: 1 },
        before: row(1, 'a1', 10),
        changed: [],
        path: 'query-builder',
      }),
    );
  });

  it('cascades record the parent and each child, with composite ids', async () => {
    await asAlice(() =>
      accounts().save(
        accounts().create({
          name: 'parent',
          notes: [
            { lineNo: 1, body: 'x' },
            { lineNo: 2, body: 'y' },
          ],
        }),
      ),
    );
    const got = await entries();
    expect(got.map((e) => [e.entity, e.action, e.entityId, e.path])).toEqual([
      ['Account', 'insert', { id: 4 }, 'entity'],
      ['AccountNote', 'insert', { account_id: 4, line_no: 1 }, 'entity'],
      ['AccountNote', 'insert', { account_id: 4, line_no: 2 }, 'entity'],
    ]);
  });

  it('query-builder insert, update, delete and soft-delete record one entry per affected row', async () => {
    await asAlice(async () => {
      await ds
        .createQueryBuilder()
        .insert()
        .into(Account)
        .values([{ name: 'q1' }, { name: 'q2' }])
        .execute();
      await ds
        .createQueryBuilder()
        .update(Account)
        .set({ balance: 0 })
        .where('balance >= :b', { b: 10 })
        .execute();
      await ds.createQueryBuilder(Account, 'a').softDelete().where('name = :n', { n: 'q1' }).execute();
      await ds.createQueryBuilder().delete().from(Account).where('name = :n', { n: 'q2' }).execute();
    });
    const got = await entries();
    expect(got.map((e) => [e.action, e.entityId, e.path])).toEqual([
      ['insert', { id: 4 }, 'query-builder'],
      ['insert', { id: 5 }, 'query-builder'],
      ['update', { id: 1 }, 'query-builder'],
      ['update', { id: 2 }, 'query-builder'],
      ['soft-delete', { id: 4 }, 'query-builder'],
      ['delete', { id: 5 }, 'query-builder'],
    ]);
    expect(got.every((e) => e.tenantId === A && e.actor?.id === 'alice')).toBe(true);
  });

  it('a bulk query-builder update of 1,000 rows records 1,000 exact entries', async () => {
    await adminQuery(
      db,
      `INSERT INTO account (tenant_id, name, balance) SELECT '${A}', 'bulk-' || g, g FROM generate_series(1, 1000) g;
       TRUNCATE bulkhead_audit_entry`,
    );
    await asAlice(() =>
      ds
        .createQueryBuilder()
        .update(Account)
        .set({ balance: () => 'balance + 1' })
        .where("name LIKE 'bulk-%'")
        .execute(),
    );
    const got = await entries();
    expect(got.length).toBe(1000);
    const wrong = got.filter(
      (e) =>
        e.action !== 'update' ||
        (e.after as { balance: number }).balance !== (e.before as { balance: number }).balance + 1 ||
        JSON.stringify(e.changed) !== '["balance"]' ||
        e.actor?.id !== 'alice' ||
        e.path !== 'query-builder',
    );
    expect(wrong).toEqual([]);
    expect(new Set(got.map((e) => JSON.stringify(e.entityId))).size).toBe(1000);
  });

  it('raw SQL through the app records path raw-sql with the context actor', async () => {
    await asAlice(() => ds.query(`UPDATE account SET name = 'raw' WHERE id = 1`));
    expect(await entries()).toEqual([
      entry({
        action: 'update',
        entityId: { id: 1 },
        before: { name: 'a1' },
        after: row(1, 'raw', 10),
        changed: ['name'],
        path: 'raw-sql',
      }),
    ]);
  });

  it('a write from a second raw pg client is recorded, attributed to its database role', async () => {
    const client = new Client({ connectionString: db.adminUrl });
    await client.connect();
    try {
      await client.query(`UPDATE account SET balance = 99 WHERE id = 3`);
    } finally {
      await client.end();
    }
    const [{ role }] = await adminQuery<{ role: string }>(db, 'SELECT session_user::text AS role');
    expect(await entries()).toEqual([
      entry({
        tenantId: B,
        action: 'update',
        entityId: { id: 3 },
        before: { balance: 30 },
        after: row(3, 'b1', 99, null, B),
        changed: ['balance'],
        path: 'raw-sql',
        actor: { type: 'database_role', id: role },
        correlationId: null,
      }),
    ]);
  });

  it('does not audit @NotAudited entities', async () => {
    await asAlice(() => ds.getRepository(Scratch).save({ value: 'x' }));
    expect(await entries()).toEqual([]);
  });

  it('a transaction that fails after its mutation leaves neither the change nor an entry', async () => {
    await expect(
      asAlice(() =>
        ds.transaction(async (m) => {
          await m.getRepository(Account).update({ id: 1 }, { name: 'doomed' });
          await m.getRepository(Account).insert({ name: 'doomed-too' });
          throw new Error('boom');
        }),
      ),
    ).rejects.toThrow('boom');
    expect(await entries()).toEqual([]);
    const rows = await adminQuery(db, "SELECT count(*)::int AS n FROM account WHERE name LIKE 'doomed%'");
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('attributes each concurrent request to its own actor and correlation id', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        app.tenancy.run(
          { tenant: A, actor: { id: `user-${i}`, type: 'user' }, correlationId: `c-${i}` },
          () => accounts().insert({ name: `n-${i}` }),
        ),
      ),
    );
    const got = await entries();
    expect(got.length).toBe(20);
    const mismatched = got.filter((e) => {
      const i = (e.after as { name: string }).name.slice(2);
      return e.actor?.id !== `user-${i}` || e.correlationId !== `c-${i}`;
    });
    expect(mismatched).toEqual([]);
  });

  it('never stores a redacted value anywhere in the audit tables', async () => {
    await asAlice(async () => {
      await accounts().save({ name: 'r', secret: 'TOP-SECRET-VALUE-1' });
      await accounts().update({ id: 1 }, { secret: 'TOP-SECRET-VALUE-2' });
      await accounts().delete({ id: 2 });
    });
    await app.audit.seal();
    const dump = await adminQuery<{ dump: string }>(
      db,
      `SELECT (SELECT coalesce(string_agg(t::text, '|'), '') FROM bulkhead_audit_entry t) ||
              (SELECT coalesce(string_agg(t::text, '|'), '') FROM bulkhead_audit_chain t) AS dump`,
    );
    expect(dump[0].dump.length).toBeGreaterThan(100);
    expect(dump[0].dump).not.toMatch(/TOP-SECRET|s1|s2/);
  });

  it('reads entries of the tenant in context only, and refuses without one', async () => {
    await asAlice(() =>
      accounts()
        .update({}, { balance: 1 })
        .catch(() => undefined),
    );
    await asAlice(() => accounts().update({ id: 1 }, { balance: 1 }));
    await app.tenancy.run({ tenant: B, actor: ALICE }, () => accounts().update({ id: 3 }, { balance: 1 }));
    await app.audit.seal();
    const ofA = await app.tenancy.run({ tenant: A }, () => app.audit.find());
    const ofB = await app.tenancy.run({ tenant: B }, () => app.audit.find({ entity: Account, entityId: 3 }));
    expect(ofA.items.map((e) => e.entityId)).toEqual([{ id: 1 }]);
    expect(ofB.items.map((e) => e.entityId)).toEqual([{ id: 3 }]);
    await expect(app.audit.find()).rejects.toThrow('needs a tenant in context');
  });

  it('filters by actor, action, correlation id and time, with cursor pagination', async () => {
    for (let i = 0; i < 5; i++) {
      await app.tenancy.run(
        { tenant: A, actor: { id: i % 2 ? 'odd' : 'even', type: 'user' }, correlationId: `k${i}` },
        () => accounts().update({ id: 1 }, { balance: 100 + i }),
      );
    }
    await app.tenancy.run({ tenant: A }, async () => {
      expect((await app.audit.find({ actorId: 'odd' })).items.map((e) => e.correlationId)).toEqual([
        'k1',
        'k3',
      ]);
      expect((await app.audit.find({ correlationId: 'k4' })).items.map((e) => e.after?.balance)).toEqual([
        104,
      ]);
      expect((await app.audit.find({ action: 'insert' })).items).toEqual([]);
      const first = await app.audit.find({ limit: 2 });
      const second = await app.audit.find({ limit: 2, cursor: first.nextCursor! });
      const third = await app.audit.find({ limit: 2, cursor: second.nextCursor! });
      expect([first, second, third].map((p) => p.items.map((e) => e.correlationId))).toEqual([
        ['k0', 'k1'],
        ['k2', 'k3'],
        ['k4'],
      ]);
      expect(third.nextCursor).toBeNull();
      const later = await app.audit.find({ from: new Date(Date.now() + 60_000) });
      expect(later.items).toEqual([]);
    });
  });

  it('the application role cannot insert, update or delete audit rows', async () => {
    await asAlice(() => accounts().update({ id: 1 }, { balance: 1 }));
    await app.audit.seal();
    for (const sql of [
      'UPDATE bulkhead_audit_entry SET actor_id = $1',
      'DELETE FROM bulkhead_audit_entry WHERE actor_id = $1',
      "INSERT INTO bulkhead_audit_entry (tenant_id, actor_type, actor_id, action, entity, entity_id, path) VALUES ('acme', 'user', $1, 'insert', 'Account', '{}', 'raw-sql')",
      'UPDATE bulkhead_audit_chain SET position = position + 1 WHERE $1::text IS NOT NULL',
      'DELETE FROM bulkhead_audit_chain WHERE $1::text IS NOT NULL',
    ]) {
      await expect(app.tenancy.runUnscoped('attack', () => ds.query(sql, ['mallory']))).rejects.toThrow(
        'permission denied',
      );
    }
  });

  it('keeps AccountNote entries for composite keys readable by id object', async () => {
    await asAlice(() =>
      ds.getRepository(AccountNote).update({ accountId: 1, lineNo: 1 }, { body: 'edited' }),
    );
    const page = await asAlice(() =>
      app.audit.find({ entity: AccountNote, entityId: { accountId: 1, lineNo: 1 } }),
    );
    expect(page.items.map((e) => [e.action, e.before, e.entityId])).toEqual([
      ['update', { body: 'n1' }, { account_id: 1, line_no: 1 }],
    ]);
  });
});

describe('audit application events', () => {
  let db: TestDatabase;
  let app: AuditApp;
  beforeAll(async () => {
    db = await createTestDatabase('auditevt');
    await installAuditSchema(db);
    app = await startAuditApp(db);
  });
  afterAll(async () => {
    await app?.context.close();
    await db?.drop();
  });

  it('records an event in the tenant chain, attributed to the actor, and refuses to fake row changes', async () => {
    const id = await app.tenancy.run({ tenant: A, actor: ALICE, correlationId: 'corr-9' }, () =>
      app.audit.record({
        name: 'access-denied',
        entity: 'invoice',
        entityId: { id: 'inv-1' },
        details: { action: 'invoice:approve', decidingRuleIds: ['no-self-approval'] },
      }),
    );
    await app.audit.seal();
    const [entry] = (await app.tenancy.run({ tenant: A }, () => app.audit.find())).items;
    expect(entry).toMatchObject({
      id,
      tenantId: A,
      position: 1,
      action: 'event:access-denied',
      entity: 'invoice',
      entityId: { id: 'inv-1' },
      after: { action: 'invoice:approve', decidingRuleIds: ['no-self-approval'] },
      actor: ALICE,
      correlationId: 'corr-9',
      path: 'application',
    });
    expect(await app.tenancy.run({ tenant: A }, () => app.audit.verify())).toEqual({
      valid: true,
      checked: 1,
    });
    await expect(
      app.tenancy.runUnscoped('attack', () =>
        app.dataSource.query(
          "SELECT bulkhead_audit_record('acme', 'user', 'mallory', 'update', 'Account', '{}', '{}', NULL)",
        ),
      ),
    ).rejects.toThrow('only records application events');
  });
});
