/**
 * Every endpoint, for both tenants and every role (owner > admin > member > viewer): the status each role gets,
 * the admin-up-to-1,000,000 condition rule, and the deny rule "nobody approves an invoice they created" that
 * wins even for owners.
 */
import { adminQuery } from '../db/test-database';
import { startSample, type InvoiceBody, type SampleHarness } from './sample-fixtures';

const TENANTS = ['acme', 'globex'] as const;
const ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
type Role = (typeof ROLES)[number];
type Ability =
  'create' | 'update' | 'delete' | 'approve' | 'approveLarge' | 'audit' | 'revert' | 'members' | 'manage';

const CAN: Record<Role, readonly Ability[]> = {
  owner: ['create', 'update', 'delete', 'approve', 'approveLarge', 'audit', 'revert', 'members', 'manage'],
  admin: ['create', 'update', 'delete', 'approve', 'audit', 'members'],
  member: ['create', 'update'],
  viewer: [],
};
const expectStatus = (role: Role, ability: Ability, ok: number) => (CAN[role].includes(ability) ? ok : 403);

let h: SampleHarness;
const users: Record<string, string> = {};
const email = (role: string, tenant: string) => `${role}.${tenant}@matrix.test`;

beforeAll(async () => {
  h = await startSample('sample_roles');
  for (const tenant of TENANTS) {
    for (const role of [...ROLES, 'creator']) {
      users[email(role, tenant)] = await h.addUser(email(role, tenant), {
        [tenant]: role === 'creator' ? 'member' : role,
      });
    }
  }
});
afterAll(() => h?.close());

/** An invoice created through the API by the tenant's creator (a member). */
async function invoiceBy(
  tenant: string,
  amount = 5000,
  who = email('creator', tenant),
): Promise<InvoiceBody> {
  const res = await (await h.as(who)).post<InvoiceBody>('/invoices', { customer: `c-${tenant}`, amount });
  expect(res.status).toBe(201);
  return res.body;
}

describe.each(TENANTS)('tenant %s', (tenant) => {
  describe.each(ROLES)('as %s', (role) => {
    const me = () => h.as(email(role, tenant));

    it('lists and reads the tenant invoices (every role)', async () => {
      const inv = await invoiceBy(tenant);
      const list = await (await me()).get<{ items: InvoiceBody[]; total: number }>('/invoices?limit=100');
      expect(list.status).toBe(200);
      expect(list.body.items.map((i) => i.id)).toContain(inv.id);
      const rows = await adminQuery<{ tenant_id: string }>(
        h.db,
        'SELECT DISTINCT tenant_id FROM invoice WHERE id = ANY($1::uuid[])',
        [list.body.items.map((i) => i.id)],
      );
      expect(rows).toEqual([{ tenant_id: tenant }]);
      expect(list.body.total).toBeGreaterThanOrEqual(list.body.items.length);
      const one = await (await me()).get<InvoiceBody>(`/invoices/${inv.id}`);
      expect(one.status).toBe(200);
      expect(one.body).toEqual(inv);
    });

    it(`creates invoices: ${CAN[role].includes('create') ? 201 : 403}`, async () => {
      const res = await (await me()).post<InvoiceBody>('/invoices', { customer: 'Initech', amount: 4200 });
      expect(res.status).toBe(expectStatus(role, 'create', 201));
      if (res.status === 201) {
        expect(res.body).toEqual({
          id: expect.any(String),
          customer: 'Initech',
          amount: 4200,
          status: 'draft',
          createdBy: users[email(role, tenant)],
          createdAt: expect.any(String),
          approvedBy: null,
          approvedAt: null,
        });
        const [row] = await adminQuery(h.db, 'SELECT tenant_id FROM invoice WHERE id = $1', [res.body.id]);
        expect(row).toEqual({ tenant_id: tenant });
      } else {
        const [{ n }] = await adminQuery<{ n: number }>(
          h.db,
          'SELECT count(*)::int AS n FROM invoice WHERE created_by = $1',
          [users[email(role, tenant)]],
        );
        expect(n).toBe(0);
      }
    });

    it(`edits invoices: ${CAN[role].includes('update') ? 200 : 403}`, async () => {
      const inv = await invoiceBy(tenant);
      const res = await (await me()).patch<InvoiceBody>(`/invoices/${inv.id}`, { amount: 7777 });
      expect(res.status).toBe(expectStatus(role, 'update', 200));
      const [row] = await adminQuery<{ amount: number }>(h.db, 'SELECT amount FROM invoice WHERE id = $1', [
        inv.id,
      ]);
      expect(row.amount).toBe(res.status === 200 ? 7777 : 5000);
    });

    it(`deletes invoices: ${CAN[role].includes('delete') ? 204 : 403}`, async () => {
      const inv = await invoiceBy(tenant);
      const res = await (await me()).delete(`/invoices/${inv.id}`);
      expect(res.status).toBe(expectStatus(role, 'delete', 204));
      const rows = await adminQuery(h.db, 'SELECT 1 FROM invoice WHERE id = $1', [inv.id]);
      expect(rows).toHaveLength(res.status === 204 ? 0 : 1);
    });

    it(`approves another's invoice up to 1,000,000: ${CAN[role].includes('approve') ? 200 : 403}`, async () => {
      const inv = await invoiceBy(tenant, 1_000_000);
      const res = await (await me()).post<InvoiceBody>(`/invoices/${inv.id}/approve`);
      expect(res.status).toBe(expectStatus(role, 'approve', 200));
      if (res.status === 200) {
        expect(res.body).toMatchObject({
          id: inv.id,
          status: 'approved',
          approvedBy: users[email(role, tenant)],
        });
      }
    });

    it(`approves another's invoice over 1,000,000: ${CAN[role].includes('approveLarge') ? 200 : 403} (owners only)`, async () => {
      const inv = await invoiceBy(tenant, 1_000_001);
      const res = await (await me()).post<InvoiceBody>(`/invoices/${inv.id}/approve`);
      expect(res.status).toBe(expectStatus(role, 'approveLarge', 200));
      const [row] = await adminQuery<{ status: string }>(h.db, 'SELECT status FROM invoice WHERE id = $1', [
        inv.id,
      ]);
      expect(row.status).toBe(res.status === 200 ? 'approved' : 'draft');
    });

    it('never approves an invoice it created: 403, even for owners (deny rule)', async () => {
      const inv = await invoiceBy(tenant, 100, email(role === 'viewer' ? 'creator' : role, tenant));
      if (role === 'viewer') {
        // viewers cannot create: make the viewer the creator directly, the rule must still deny
        await adminQuery(h.db, 'UPDATE invoice SET created_by = $1 WHERE id = $2', [
          users[email(role, tenant)],
          inv.id,
        ]);
      }
      const res = await (await me()).post(`/invoices/${inv.id}/approve`);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({
        statusCode: 403,
        error: 'Forbidden',
        message: 'You do not have permission to perform this action.',
      });
      const [row] = await adminQuery<{ status: string }>(h.db, 'SELECT status FROM invoice WHERE id = $1', [
        inv.id,
      ]);
      expect(row.status).toBe('draft');
    });

    it(`reads the audit and verifies the chain: ${CAN[role].includes('audit') ? 200 : 403}`, async () => {
      const inv = await invoiceBy(tenant);
      const list = await (
        await me()
      ).get<{ entity: string; action: string }[]>(`/audit?entityType=Invoice&entityId=${inv.id}`);
      expect(list.status).toBe(expectStatus(role, 'audit', 200));
      if (list.status === 200) {
        expect(list.body).toEqual([
          expect.objectContaining({ entity: 'Invoice', action: 'insert', entityId: { id: inv.id } }),
        ]);
      }
      const verify = await (await me()).get<{ valid: boolean; checked: number }>('/audit/verify');
      expect(verify.status).toBe(expectStatus(role, 'audit', 200));
      if (verify.status === 200)
        expect(verify.body).toMatchObject({ valid: true, checked: expect.any(Number) });
    });

    it(`reverts an audited change: ${CAN[role].includes('revert') ? 200 : 403}`, async () => {
      const inv = await invoiceBy(tenant, 1000);
      const owner = await h.as(email('owner', tenant));
      expect((await owner.patch(`/invoices/${inv.id}`, { amount: 2000 })).status).toBe(200);
      const entries = await owner.get<{ id: string; action: string }[]>(
        `/audit?entityType=Invoice&entityId=${inv.id}`,
      );
      const update = entries.body.find((e) => e.action === 'update')!;
      const res = await (
        await me()
      ).post<{ action: string; reverts: string }[]>(`/audit/${update.id}/revert`);
      expect(res.status).toBe(expectStatus(role, 'revert', 200));
      const [row] = await adminQuery<{ amount: number }>(h.db, 'SELECT amount FROM invoice WHERE id = $1', [
        inv.id,
      ]);
      expect(row.amount).toBe(res.status === 200 ? 1000 : 2000);
      if (res.status === 200)
        expect(res.body).toEqual([expect.objectContaining({ action: 'revert', reverts: update.id })]);
    });

    it(`lists members: ${CAN[role].includes('members') ? 200 : 403}`, async () => {
      const res = await (await me()).get<{ email: string; role: string }[]>('/members');
      expect(res.status).toBe(expectStatus(role, 'members', 200));
      if (res.status === 200) {
        expect(res.body).toEqual(
          expect.arrayContaining([
            {
              userId: users[email(role, tenant)],
              email: email(role, tenant),
              name: `${role}.${tenant}`,
              role,
            },
          ]),
        );
        expect(res.body.every((m) => !m.email.includes(tenant === 'acme' ? 'globex' : 'acme'))).toBe(true);
      }
    });

    it(`changes roles: ${CAN[role].includes('manage') ? 200 : 403}`, async () => {
      const target = users[email('viewer', tenant)];
      const res = await (await me()).put(`/members/${target}`, { role: 'viewer' });
      expect(res.status).toBe(expectStatus(role, 'manage', 200));
    });
  });
});
