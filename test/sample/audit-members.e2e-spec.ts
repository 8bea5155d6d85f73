/**
 * Audit and members through the API: who did what (actor, before/after), revert of an edit and of a delete,
 * 409 on a conflicting revert, 404 for another tenant's entry, verification that fails once an audit row is
 * altered as the superuser; a role change enforced on the very next request; the last owner kept; the app
 * connected as a role that is neither superuser nor BYPASSRLS; factories and asTenant() from the testing kit.
 */
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Invoice } from '../../apps/sample/src/entities';
import { asTenant, asUnscoped, defineFactory } from '../../apps/sample/src/testing';
import { adminQuery } from '../db/test-database';
import { startSample, type InvoiceBody, type SampleHarness } from './sample-fixtures';

interface Entry {
  id: string;
  action: string;
  actor: { type: string; id: string };
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  changed: string[];
  position: number | null;
  reverts: string | null;
}

let h: SampleHarness;
beforeAll(async () => {
  h = await startSample('sample_audit');
});
afterAll(() => h?.close());

describe('audit', () => {
  it('records who changed what, with before and after', async () => {
    const bob = await h.as('bob@acme.test');
    const inv = (await bob.post<InvoiceBody>('/invoices', { customer: 'Acme Rockets', amount: 300 })).body;
    await bob.patch(`/invoices/${inv.id}`, { amount: 450 });
    const res = await (
      await h.as('alice@acme.test')
    ).get<Entry[]>(`/audit?entityType=Invoice&entityId=${inv.id}`);
    expect(res.status).toBe(200);
    const bobId = await h.userId('bob@acme.test');
    expect(res.body).toEqual([
      expect.objectContaining({ action: 'insert', actor: { type: 'user', id: bobId }, before: null }),
      expect.objectContaining({
        action: 'update',
        actor: { type: 'user', id: bobId },
        before: { amount: 300 },
        after: expect.objectContaining({ amount: 450, customer: 'Acme Rockets' }),
        changed: ['amount'],
      }),
    ]);
    expect((await (await h.as('alice@acme.test')).get('/audit?entityId=x')).status).toBe(400);
    expect((await (await h.as('alice@acme.test')).get('/audit?entityType=Secret')).status).toBe(400);
  });

  it('reverts a delete (the invoice is back), refuses a conflicting revert with 409', async () => {
    const alice = await h.as('alice@acme.test');
    const inv = (
      await (await h.as('bob@acme.test')).post<InvoiceBody>('/invoices', { customer: 'Gone', amount: 9 })
    ).body;
    expect((await alice.delete(`/invoices/${inv.id}`)).status).toBe(204);
    expect((await alice.get(`/invoices/${inv.id}`)).status).toBe(404);
    const entries = (await alice.get<Entry[]>(`/audit?entityType=Invoice&entityId=${inv.id}`)).body;
    const del = entries.find((e) => e.action === 'delete')!;
    const reverted = await alice.post<Entry[]>(`/audit/${del.id}/revert`);
    expect(reverted.status).toBe(200);
    expect((await alice.get<InvoiceBody>(`/invoices/${inv.id}`)).body).toEqual(inv);

    await alice.patch(`/invoices/${inv.id}`, { amount: 10 });
    await alice.patch(`/invoices/${inv.id}`, { amount: 11 });
    const updates = (await alice.get<Entry[]>(`/audit?entityType=Invoice&entityId=${inv.id}`)).body.filter(
      (e) => e.action === 'update',
    );
    // reverting the first edit would overwrite the second one
    const conflict = await alice.post(`/audit/${updates[0].id}/revert`);
    expect(conflict.status).toBe(409);
    expect((await alice.get<InvoiceBody>(`/invoices/${inv.id}`)).body.amount).toBe(11);
  });

  it("answers 404 for another tenant's entry, and reverts nothing", async () => {
    const mallory = await h.as('mallory@globex.test');
    const inv = (await mallory.post<InvoiceBody>('/invoices', { customer: 'Globex HQ', amount: 77 })).body;
    await mallory.patch(`/invoices/${inv.id}`, { amount: 78 });
    const [entry] = await adminQuery<{ id: string }>(
      h.db,
      `SELECT id::text FROM bulkhead_audit_entry WHERE entity = 'Invoice' AND entity_id = $1::jsonb AND action = 'update'`,
      [JSON.stringify({ id: inv.id })],
    );
    const alice = await h.as('alice@acme.test');
    expect((await alice.post(`/audit/${entry.id}/revert`)).status).toBe(404);
    expect((await alice.get<Entry[]>(`/audit?entityType=Invoice&entityId=${inv.id}`)).body).toEqual([]);
    expect(
      (await (await h.as('carol@globex.test')).get<InvoiceBody>(`/invoices/${inv.id}`)).body.amount,
    ).toBe(78);
    expect((await alice.post('/audit/abc/revert')).status).toBe(400);
  });

  it('verifies the chain, and fails once an audit row is altered directly in the database', async () => {
    const carol = await h.as('carol@globex.test');
    const inv = (
      await (await h.as('mallory@globex.test')).post<InvoiceBody>('/invoices', { customer: 'T', amount: 5 })
    ).body;
    const ok = await carol.get<{
      valid: boolean;
      checked: number;
      digest: { position: number; hash: string };
    }>('/audit/verify');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ valid: true, digest: { position: ok.body.checked } });
    expect(ok.body.checked).toBeGreaterThan(0);
    const acmeBefore = (await (await h.as('alice@acme.test')).get<{ valid: boolean }>('/audit/verify')).body;
    expect(acmeBefore.valid).toBe(true);

    // as the superuser: change the recorded amount of the insert
    const [{ position }] = await adminQuery<{ position: string }>(
      h.db,
      `UPDATE bulkhead_audit_entry e SET after = jsonb_set(after, '{amount}', '999999')
         FROM bulkhead_audit_chain c
        WHERE c.entry_id = e.id AND e.entity = 'Invoice' AND e.entity_id = $1::jsonb
        RETURNING c.position::text`,
      [JSON.stringify({ id: inv.id })],
    );
    const broken = await carol.get<{ valid: boolean; firstBrokenAt: number; reason: string }>(
      '/audit/verify',
    );
    expect(broken.status).toBe(200);
    expect(broken.body).toMatchObject({
      valid: false,
      firstBrokenAt: Number(position),
      reason: 'entry altered',
    });
    // the other tenant's chain is untouched
    expect((await (await h.as('alice@acme.test')).get<{ valid: boolean }>('/audit/verify')).body.valid).toBe(
      true,
    );
  });
});

describe('members', () => {
  it('lists the tenant members with their role', async () => {
    const res = await (await h.as('alice@acme.test')).get<{ email: string; role: string }[]>('/members');
    expect(res.body.map((m) => [m.email, m.role])).toEqual([
      ['alice@acme.test', 'owner'],
      ['bob@acme.test', 'member'],
      ['erin@both.test', 'member'],
      ['dave@acme.test', 'viewer'],
    ]);
  });

  it('a role change takes effect on the very next request', async () => {
    const alice = await h.as('alice@acme.test');
    const dave = await h.as('dave@acme.test');
    const daveId = await h.userId('dave@acme.test');
    const post = () => dave.post<InvoiceBody>('/invoices', { customer: 'Dave & Co', amount: 12 });
    expect((await post()).status).toBe(403);
    expect((await alice.put(`/members/${daveId}`, { role: 'member' })).body).toEqual({
      userId: daveId,
      email: 'dave@acme.test',
      name: 'Dave',
      role: 'member',
    });
    const created = await post();
    expect(created.status).toBe(201);
    expect((await dave.delete(`/invoices/${created.body.id}`)).status).toBe(403);
    await alice.put(`/members/${daveId}`, { role: 'admin' });
    expect((await dave.get('/members')).status).toBe(200);
    expect((await dave.delete(`/invoices/${created.body.id}`)).status).toBe(204);
    await alice.put(`/members/${daveId}`, { role: 'viewer' });
    expect((await post()).status).toBe(403);
    expect((await dave.get('/members')).status).toBe(403);
    // one role at a time
    const roles = await adminQuery<{ role: string }>(
      h.db,
      `SELECT role FROM rules_membership WHERE principal_id = $1 AND tenant_id = 'acme'`,
      [daveId],
    );
    expect(roles).toEqual([{ role: 'viewer' }]);
  });

  it('adds a user of another tenant, who may then pick this tenant with X-Tenant-ID', async () => {
    const carol = await h.as('carol@globex.test');
    const mallory = await h.as('mallory@globex.test', 'acme');
    expect((await mallory.get('/invoices')).status).toBe(403);
    const alice = await h.as('alice@acme.test');
    expect(
      (await alice.put(`/members/${await h.userId('mallory@globex.test')}`, { role: 'viewer' })).status,
    ).toBe(200);
    expect((await mallory.get('/invoices')).status).toBe(200);
    expect((await mallory.post('/invoices', { customer: 'x', amount: 1 })).status).toBe(403);
    // still a member of globex there
    expect(
      (await (await h.as('mallory@globex.test')).post('/invoices', { customer: 'y', amount: 1 })).status,
    ).toBe(201);
    expect((await carol.get('/members')).body).toHaveLength(3);
  });

  it('keeps at least one owner; rejects unknown users and roles', async () => {
    const alice = await h.as('alice@acme.test');
    const aliceId = await h.userId('alice@acme.test');
    expect((await alice.put(`/members/${aliceId}`, { role: 'admin' })).status).toBe(409);
    expect(
      (await alice.put('/members/00000000-0000-4000-8000-000000000000', { role: 'viewer' })).status,
    ).toBe(404);
    const bad = await alice.put<{ message: string[] }>(`/members/${aliceId}`, { role: 'god', extra: true });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toEqual(
      expect.arrayContaining([
        'property extra should not exist',
        expect.stringMatching(/^role must be one of/),
      ]),
    );
  });

  it('a reverted membership change is enforced on the next request too', async () => {
    const alice = await h.as('alice@acme.test');
    const bob = await h.as('bob@acme.test');
    const bobId = await h.userId('bob@acme.test');
    await alice.put(`/members/${bobId}`, { role: 'admin' });
    expect((await bob.get('/members')).status).toBe(200);
    const entries = (await alice.get<Entry[]>('/audit?entityType=RulesMembership')).body;
    const grant = entries.filter((e) => e.action === 'insert' && e.after?.principal_id === bobId).pop()!;
    expect(grant.after).toMatchObject({ role: 'admin' });
    expect((await alice.post(`/audit/${grant.id}/revert`)).status).toBe(200);
    expect((await bob.get('/members')).status).toBe(403);
  });
});

describe('database roles and the testing kit', () => {
  it('the app connects as a role that is neither superuser nor BYPASSRLS', async () => {
    const ds = h.t.app.get<DataSource>(getDataSourceToken());
    const [role] = (await asUnscoped(h.t.app, 'test: inspect the connection role', () =>
      ds.query('SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user'),
    )) as { rolsuper: boolean; rolbypassrls: boolean }[];
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false });
    const [rls] = await adminQuery(
      h.db,
      `SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = 'invoice'`,
    );
    expect(rls).toEqual({ relrowsecurity: true, relforcerowsecurity: true });
  });

  it('factories save as a tenant, asTenant() reads as one, raw SQL is filtered by RLS', async () => {
    const invoices = defineFactory(h.t.app, Invoice, (n) => ({
      customer: `Factory ${n}`,
      amount: n,
      createdBy: 'kit',
    }));
    const [a] = await invoices.createMany('acme', 2);
    const g = await invoices.create('globex', { amount: 42 });
    expect(a.tenantId).toBe('acme');
    expect(g).toMatchObject({ tenantId: 'globex', amount: 42 });
    const ds = h.t.app.get<DataSource>(getDataSourceToken());
    const seen = await asTenant(h.t.app, 'acme', () =>
      ds.getRepository(Invoice).findBy({ createdBy: 'kit' }),
    );
    expect(seen.map((i) => i.tenantId)).toEqual(['acme', 'acme']);
    const raw = (await asTenant(h.t.app, 'globex', () =>
      ds.query(`SELECT tenant_id FROM invoice WHERE created_by = 'kit'`),
    )) as { tenant_id: string }[];
    expect(raw).toEqual([{ tenant_id: 'globex' }]);
    const all = await asUnscoped(h.t.app, 'test: count every tenant', () =>
      ds.getRepository(Invoice).countBy({ createdBy: 'kit' }),
    );
    expect(all).toBe(3);
  });
});
