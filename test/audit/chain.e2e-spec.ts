/**
 * Tamper evidence, point-in-time state, revert, retention and after-commit delivery.
 */
import { DataSource } from 'typeorm';
import { RevertConflictError, type AuditEntry, type AuditSink } from '@bulkhead/audit';
import { adminQuery, createTestDatabase, type TestDatabase } from '../db/test-database';
import { Account, AUDIT_ENTITIES, installAuditSchema, startAuditApp, type AuditApp } from './fixtures';

const A = 'acme';
const B = 'globex';

describe('audit chain, time travel and delivery', () => {
  let db: TestDatabase;
  let app: AuditApp;
  const delivered: AuditEntry[] = [];
  let sinkFailuresLeft = 0;
  const sink: AuditSink = {
    name: 'test-sink',
    deliver: async (entries) => {
      if (sinkFailuresLeft > 0) {
        sinkFailuresLeft--;
        throw new Error('broker down');
      }
      delivered.push(...entries);
    },
  };

  beforeAll(async () => {
    db = await createTestDatabase('chain');
    await installAuditSchema(db);
    app = await startAuditApp(db, { sinks: [sink] });
  });
  afterAll(async () => {
    await app?.context.close();
    await db?.drop();
  });
  beforeEach(async () => {
    delivered.length = 0;
    sinkFailuresLeft = 0;
    await adminQuery(
      db,
      `TRUNCATE account, account_note RESTART IDENTITY;
       TRUNCATE bulkhead_audit_entry, bulkhead_audit_chain, bulkhead_audit_head, bulkhead_audit_checkpoint,
         bulkhead_audit_sink_cursor;
       UPDATE bulkhead_audit_state SET sealed_below = '0'`,
    );
  });

  const inA = <T>(fn: () => Promise<T>) =>
    app.tenancy.run({ tenant: A, actor: { id: 'alice', type: 'user' } }, fn);
  const accounts = () => app.dataSource.getRepository(Account);

  /** Ten single-row updates in ten transactions, sealed: chain positions 1..11 in tenant A. */
  async function tenVersions(): Promise<number> {
    const { id } = await inA(() => accounts().save({ name: 'v', balance: 0 }));
    for (let i = 1; i <= 10; i++) await inA(() => accounts().update({ id }, { balance: i }));
    await app.audit.seal();
    return id;
  }
  const verifyA = () => inA(() => app.audit.verify());
  const chainRow = async (position: number) =>
    (
      await adminQuery<{ entry_id: string }>(
        db,
        `SELECT entry_id FROM bulkhead_audit_chain WHERE tenant_id = '${A}' AND position = ${position}`,
      )
    )[0].entry_id;

  it('verifies an intact chain, per tenant', async () => {
    await tenVersions();
    await app.tenancy.run({ tenant: B }, () => accounts().save({ name: 'b' }));
    await app.audit.seal();
    expect(await verifyA()).toEqual({ valid: true, checked: 11 });
    expect(await app.tenancy.run({ tenant: B }, () => app.audit.verify())).toEqual({
      valid: true,
      checked: 1,
    });
    const digest = await inA(() => app.audit.digest());
    expect(digest).toEqual({ tenantId: A, position: 11, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('detects a changed field at its position', async () => {
    await tenVersions();
    await adminQuery(
      db,
      `UPDATE bulkhead_audit_entry SET actor_id = 'mallory' WHERE id = ${await chainRow(3)}`,
    );
    expect(await verifyA()).toEqual({ valid: false, checked: 2, firstBrokenAt: 3, reason: 'entry altered' });
  });

  it('detects a changed before/after value at its position', async () => {
    await tenVersions();
    await adminQuery(
      db,
      `UPDATE bulkhead_audit_entry SET after = jsonb_set(after, '{balance}', '1000') WHERE id = ${await chainRow(7)}`,
    );
    expect(await verifyA()).toMatchObject({ valid: false, firstBrokenAt: 7, reason: 'entry altered' });
  });

  it('detects a deleted entry, with or without its chain link', async () => {
    await tenVersions();
    await adminQuery(db, `DELETE FROM bulkhead_audit_entry WHERE id = ${await chainRow(4)}`);
    expect(await verifyA()).toEqual({ valid: false, checked: 3, firstBrokenAt: 4, reason: 'entry deleted' });
    await adminQuery(db, `DELETE FROM bulkhead_audit_chain WHERE tenant_id = '${A}' AND position = 4`);
    expect(await verifyA()).toEqual({
      valid: false,
      checked: 3,
      firstBrokenAt: 4,
      reason: 'entry missing from the chain',
    });
  });

  it('detects a forged entry inserted among old ones, where it would sit', async () => {
    await tenVersions();
    const e3 = await chainRow(3);
    await adminQuery(
      db,
      `INSERT INTO bulkhead_audit_entry (tenant_id, txid, occurred_at, actor_type, actor_id, action, entity, entity_id,
         before, after, changed, path)
       SELECT tenant_id, txid, occurred_at, actor_type, 'mallory', action, entity, entity_id, before, after, changed, path
         FROM bulkhead_audit_entry WHERE id = ${e3}`,
    );
    await app.audit.seal();
    expect(await verifyA()).toEqual({
      valid: false,
      checked: 11,
      firstBrokenAt: 4,
      reason: 'entry not in the chain',
    });
  });

  it('detects reordered entries', async () => {
    await tenVersions();
    const [e2, e3] = [await chainRow(2), await chainRow(3)];
    await adminQuery(
      db,
      `UPDATE bulkhead_audit_chain SET entry_id = CASE entry_id WHEN ${e2} THEN -1 ELSE entry_id END WHERE entry_id = ${e2};
       UPDATE bulkhead_audit_chain SET entry_id = ${e2} WHERE entry_id = ${e3};
       UPDATE bulkhead_audit_chain SET entry_id = ${e3} WHERE entry_id = -1`,
    );
    expect(await verifyA()).toMatchObject({ valid: false, firstBrokenAt: 2 });
  });

  it('detects a rewrite of the whole chain against a digest kept elsewhere', async () => {
    await tenVersions();
    const digest = await inA(() => app.audit.digest());
    // the forger alters an entry and re-chains everything after it with the same algorithm
    await adminQuery(
      db,
      `UPDATE bulkhead_audit_entry SET actor_id = 'mallory' WHERE id = ${await chainRow(2)};
       DELETE FROM bulkhead_audit_chain WHERE tenant_id = '${A}' AND position >= 2;
       UPDATE bulkhead_audit_head h SET position = 1, hash = c.hash FROM bulkhead_audit_chain c
        WHERE h.tenant_id = '${A}' AND c.tenant_id = '${A}' AND c.position = 1;
       UPDATE bulkhead_audit_state SET sealed_below = '0'`,
    );
    await app.audit.seal();
    expect(await verifyA()).toEqual({ valid: true, checked: 11 });
    expect(await inA(() => app.audit.verify({ expected: digest }))).toEqual({
      valid: false,
      checked: 11,
      firstBrokenAt: 1,
      reason: 'chain does not lead to the digest (rewritten)',
    });
  });

  it('rebuilds every one of 20 versions with stateAt and reverts to any of them', async () => {
    const { id } = await inA(() => accounts().save({ name: 'v0', balance: 0 }));
    for (let i = 1; i < 20; i++)
      await inA(() => accounts().update({ id }, { name: `v${i}`, balance: i * 10 }));
    const history = (await inA(() => app.audit.find({ entity: Account, entityId: id }))).items;
    expect(history.map((e) => e.action)).toEqual(['insert', ...Array(19).fill('update')]);
    const states = await inA(() =>
      Promise.all(history.map((e) => app.audit.stateAt(Account, id, e.occurredAt))),
    );
    // a Date has millisecond precision: the state at a moment is the last version written up to that millisecond
    const versionAt = (at: Date) => history.filter((e) => e.occurredAt.getTime() <= at.getTime()).length - 1;
    expect(states.map((s) => [s?.name, s?.balance])).toEqual(
      history.map((e) => [`v${versionAt(e.occurredAt)}`, versionAt(e.occurredAt) * 10]),
    );
    expect(new Set(states.map((s) => s?.name)).size).toBeGreaterThan(1);
    expect(
      await inA(() => app.audit.stateAt(Account, id, new Date(history[0].occurredAt.getTime() - 1))),
    ).toBeNull();

    const target = versionAt(history[5].occurredAt);
    const reverted = await inA(() => app.audit.revertTo(Account, id, history[5].occurredAt));
    expect(reverted.map((e) => [e.action, e.reverts, e.before, e.changed])).toEqual([
      ['revert', history[target].id, { name: 'v19', balance: 190 }, ['balance', 'name']],
    ]);
    const row = await inA(() => accounts().findOneByOrFail({ id }));
    expect([row.name, row.balance]).toEqual([`v${target}`, target * 10]);
    await app.audit.seal();
    expect(await verifyA()).toEqual({ valid: true, checked: 21 });
  });

  it('reverts one entry, refuses when later changes conflict unless forced, and reverts inserts and deletes', async () => {
    const { id } = await inA(() => accounts().save({ name: 'a', balance: 1 }));
    await inA(() => accounts().update({ id }, { balance: 2 }));
    await inA(() => accounts().update({ id }, { balance: 3 }));
    const [insert, toTwo, toThree] = (await inA(() => app.audit.find({ entity: Account, entityId: id })))
      .items;

    const conflict = await inA(() => app.audit.revert(toTwo.id)).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(RevertConflictError);
    expect((conflict as RevertConflictError).fields).toEqual(['balance']);

    const undone = await inA(() => app.audit.revert(toThree.id));
    expect(undone.map((e) => [e.action, e.reverts, e.after?.balance])).toEqual([['revert', toThree.id, 2]]);
    const forced = await inA(() => app.audit.revert(insert.id, { force: true }));
    expect(forced.map((e) => [e.action, e.reverts, e.before?.balance])).toEqual([['revert', insert.id, 2]]);
    expect(await inA(() => accounts().findOneBy({ id }))).toBeNull();
    const [deletion] = forced;
    const restored = await inA(() => app.audit.revert(deletion.id));
    expect(restored.map((e) => [e.action, e.after?.balance])).toEqual([['revert', 2]]);
    expect((await inA(() => accounts().findOneByOrFail({ id }))).balance).toBe(2);
  });

  it('prunes old entries and leaves a checkpoint so the rest still verifies', async () => {
    await tenVersions();
    const cut = new Date();
    await inA(() => accounts().update({ id: 1 }, { balance: 100 }));
    await inA(() => accounts().update({ id: 1 }, { balance: 200 }));
    await app.audit.seal();
    const admin = new DataSource({ type: 'postgres', url: db.adminUrl, entities: AUDIT_ENTITIES });
    await admin.initialize();
    try {
      expect(await app.audit.prune({ olderThan: cut, runner: admin })).toBe(11);
    } finally {
      await admin.destroy();
    }
    expect(await verifyA()).toEqual({ valid: true, checked: 2 });
    expect((await inA(() => app.audit.find())).items.map((e) => e.position)).toEqual([12, 13]);
    await inA(() => accounts().update({ id: 1 }, { balance: 300 }));
    await app.audit.seal();
    expect(await verifyA()).toEqual({ valid: true, checked: 3 });
    await expect(app.audit.prune({ olderThan: new Date(), runner: app.dataSource })).rejects.toThrow(
      'permission denied',
    );
  });

  it('delivers every committed entry to a sink in chain order per tenant, retrying while it is down', async () => {
    await tenVersions();
    await app.tenancy.run({ tenant: B }, () => accounts().save({ name: 'b' }));
    sinkFailuresLeft = 3;
    for (let round = 0; round < 6; round++) await app.sealer.tick();
    const byTenant = (t: string) => delivered.filter((e) => e.tenantId === t).map((e) => e.position);
    expect(byTenant(A)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(byTenant(B)).toEqual([1]);
    await inA(() => accounts().update({ id: 1 }, { balance: 77 }));
    await app.sealer.tick();
    expect(delivered.filter((e) => e.tenantId === A).map((e) => e.position)).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
  });

  it('verifies a 150,000-link chain in concurrent ranges, and finds breaks at and after a range boundary', async () => {
    await app.tenancy.run({ tenant: A }, () =>
      app.tenancy.runWithRawSql('test: bulk load', () =>
        app.dataSource.query(
          `INSERT INTO account (tenant_id, name, balance) SELECT 'acme', 'r' || g, g FROM generate_series(1, 150000) g`,
        ),
      ),
    );
    await app.audit.seal(200_000);
    expect(await verifyA()).toEqual({ valid: true, checked: 150_000 });
    // two ranges of 75,000: (0, 75000] and (75000, ...]; first a change inside the second range
    await adminQuery(
      db,
      `UPDATE bulkhead_audit_entry SET actor_id = 'x' WHERE id = ${await chainRow(120_000)}`,
    );
    expect(await verifyA()).toEqual({
      valid: false,
      checked: 119_999,
      firstBrokenAt: 120_000,
      reason: 'entry altered',
    });
    // then the link exactly at the boundary goes missing: the earlier break wins
    await adminQuery(db, `DELETE FROM bulkhead_audit_chain WHERE tenant_id = '${A}' AND position = 75000`);
    expect(await verifyA()).toEqual({
      valid: false,
      checked: 74_999,
      firstBrokenAt: 75_000,
      reason: 'entry missing from the chain',
    });
  }, 120_000);

  it('chains a write within a second once the sealer runs on its timer', async () => {
    const timed = await startAuditApp(db, { sealer: true });
    try {
      const before = Date.now();
      await timed.tenancy.run({ tenant: A }, () =>
        timed.dataSource.getRepository(Account).save({ name: 'timed' }),
      );
      let position: number | null = null;
      while (position === null && Date.now() - before < 5000) {
        const page = await timed.tenancy.run({ tenant: A }, () => timed.audit.find());
        position = page.items[0]?.position ?? null;
        if (position === null) await new Promise((resolve) => setImmediate(resolve));
      }
      expect(position).toBe(1);
      expect(Date.now() - before).toBeLessThan(1000);
    } finally {
      await timed.context.close();
    }
  });
});
