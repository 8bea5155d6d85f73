import type { QueryRunner } from 'typeorm';
import { hashPassword } from '../auth/password.util';
import type { Role } from '../policy/sample.policy';

/** The demo password of every seeded user. */
export const DEMO_PASSWORD = 'demo';

/** The demo tenants. */
export const DEMO_TENANTS = [
  { id: 'acme', name: 'Acme Corporation' },
  { id: 'globex', name: 'Globex Corporation' },
] as const;

/** The demo users and their memberships (in order: a user's first tenant is the one its token names). */
export const DEMO_USERS: readonly {
  email: string;
  name: string;
  memberships: readonly { tenant: string; role: Role }[];
}[] = [
  { email: 'alice@acme.test', name: 'Alice', memberships: [{ tenant: 'acme', role: 'owner' }] },
  { email: 'bob@acme.test', name: 'Bob', memberships: [{ tenant: 'acme', role: 'member' }] },
  { email: 'dave@acme.test', name: 'Dave', memberships: [{ tenant: 'acme', role: 'viewer' }] },
  { email: 'carol@globex.test', name: 'Carol', memberships: [{ tenant: 'globex', role: 'owner' }] },
  { email: 'mallory@globex.test', name: 'Mallory', memberships: [{ tenant: 'globex', role: 'member' }] },
  {
    email: 'erin@both.test',
    name: 'Erin',
    memberships: [
      { tenant: 'acme', role: 'member' },
      { tenant: 'globex', role: 'member' },
    ],
  },
];

/** The demo invoices, by tenant, with the e-mail of their creator. */
export const DEMO_INVOICES: readonly { tenant: string; customer: string; amount: number; by: string }[] = [
  { tenant: 'acme', customer: 'Initech', amount: 120_000, by: 'bob@acme.test' },
  { tenant: 'acme', customer: 'Umbrella Corp', amount: 2_500_000, by: 'bob@acme.test' },
  { tenant: 'acme', customer: 'Wayne Enterprises', amount: 80_000, by: 'alice@acme.test' },
  { tenant: 'globex', customer: 'Stark Industries', amount: 500_000, by: 'mallory@globex.test' },
  { tenant: 'globex', customer: 'Cyberdyne Systems', amount: 1_500_000, by: 'carol@globex.test' },
];

/**
 * Inserts the demo data once (nothing when a tenant exists already). Runs as the owner role, so the capture
 * triggers record the seed as written by that database role.
 */
export async function seedDemoData(runner: QueryRunner): Promise<boolean> {
  const [{ n }] = (await runner.query('SELECT count(*)::int AS n FROM tenant')) as { n: number }[];
  if (n > 0) return false;
  await runner.startTransaction();
  try {
    for (const t of DEMO_TENANTS) {
      await runner.query('INSERT INTO tenant (id, name) VALUES ($1, $2)', [t.id, t.name]);
    }
    const ids = new Map<string, string>();
    for (const u of DEMO_USERS) {
      const [row] = (await runner.query(
        'INSERT INTO app_user (email, name, password_hash) VALUES ($1, $2, $3) RETURNING id',
        [u.email, u.name, await hashPassword(DEMO_PASSWORD)],
      )) as { id: string }[];
      ids.set(u.email, row.id);
      for (const [i, m] of u.memberships.entries()) {
        // created_at orders a user's tenants: the first one is the token's default tenant
        await runner.query(
          `INSERT INTO rules_membership (tenant_id, principal_id, role, created_at)
           VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond')`,
          [m.tenant, row.id, m.role, i],
        );
      }
    }
    for (const inv of DEMO_INVOICES) {
      await runner.query(
        'INSERT INTO invoice (tenant_id, customer, amount, created_by) VALUES ($1, $2, $3, $4)',
        [inv.tenant, inv.customer, inv.amount, ids.get(inv.by)],
      );
    }
    await runner.commitTransaction();
    return true;
  } catch (err) {
    await runner.rollbackTransaction();
    throw err;
  }
}
