/**
 * scope() turns the applicable rules and role grants into a WHERE clause: on 1,000 invoices with mixed owners,
 * amounts and statuses (and 300 documents under the organization > project > document hierarchy) it returns
 * exactly the rows can() allows, for every principal and action tried.
 */
import type { INestApplication } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { TenancyService } from '@bulkhead/tenancy';
import { RulesService, type RulesPrincipal } from '@bulkhead/rules';
import { adminQuery, createTestDatabase, type TestDatabase } from '../db/test-database';
import { createRulesSchema, Document, Invoice, startRulesApp } from './rules-fixtures';

const OWNERS = ['alice', 'bob', 'carol', 'dave', 'hank', 'zed'];
const STATUSES = ["'draft'", "'public'", 'NULL', "'paid'"];

describe('scope() equals can()', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let rules: RulesService;
  let tenancy: TenancyService;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('rules_scope');
    await createRulesSchema(db);
    const rows = Array.from({ length: 1000 }, (_, i) => {
      const amount = [100, 999_999, 1_000_000, 1_000_001, 5_000_000, 250_000][(i * 7) % 6] + (i % 3);
      return `(${i + 1}, 't1', ${amount}, '${OWNERS[(i * 5) % OWNERS.length]}', ${STATUSES[(i * 3) % 4]})`;
    });
    rows.push(`(5001, 't2', 10, 'bob', 'public')`, `(5002, 't2', 10, 'carol', NULL)`);
    await adminQuery(
      db,
      `INSERT INTO invoice (id, tenant_id, amount, created_by, status) VALUES ${rows.join(',')}`,
    );
    const docs = Array.from(
      { length: 300 },
      (_, i) => `('x${i}', 't1', '${['p1', 'p2', 'p3'][i % 3]}', ${i % 7 === 0})`,
    );
    await adminQuery(
      db,
      `INSERT INTO document (id, tenant_id, project_id, archived) VALUES ${docs.join(',')}`,
    );
    ({ app } = await startRulesApp({ platform: 'express', db, listen: false }));
    rules = app.get(RulesService);
    tenancy = app.get(TenancyService);
    dataSource = app.get<DataSource>(getDataSourceToken());
    const grants: [string, string, { type: string; id: string }?][] = [
      ['alice', 'owner'],
      ['bob', 'member'],
      ['carol', 'viewer'],
      ['dave', 'admin'],
      ['erin', 'auditor'],
      ['frank', 'member', { type: 'project', id: 'p1' }],
      ['gina', 'viewer', { type: 'organization', id: 'o1' }],
      ['ivan', 'viewer', { type: 'project', id: 'p3' }],
      ['ivan', 'member', { type: 'document', id: 'x4' }],
    ];
    for (const [p, role, resource] of grants) await rules.grant(p, role, { tenantId: 't1', resource });
    await rules.saveRule(
      {
        id: 'viewers-no-big-foreign',
        effect: 'deny',
        actions: ['invoice:read'],
        conditions: 'resource.amount > 900000 && resource.createdBy != principal.id',
        bind: { type: 'role', role: 'viewer' },
      },
      { tenantId: 't1' },
    );
    await rules.saveRule(
      {
        id: 'hank-own-or-paid',
        effect: 'allow',
        actions: ['invoice:read'],
        conditions:
          "resource.createdBy == principal.id || (resource.status == 'paid' && resource.amount <= 250001)",
        bind: { type: 'principal', principalId: 'hank' },
      },
      { tenantId: 't1' },
    );
    await rules.saveRule(
      {
        id: 'no-null-status-deletes',
        effect: 'deny',
        actions: ['invoice:delete'],
        conditions: 'resource.status == null',
      },
      { tenantId: 't1' },
    );
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const principals = ['alice', 'bob', 'carol', 'dave', 'erin', 'hank', 'frank', 'gina', 'ivan', 'nobody'];

  const compare = async <T extends Invoice | Document>(
    entity: new () => T,
    principal: RulesPrincipal,
    action: string,
    context?: Record<string, unknown>,
  ) =>
    tenancy.run({ tenant: 't1', actor: { id: principal.id, type: 'user' } }, async () => {
      const repo = dataSource.getRepository<T>(entity);
      const all = await repo.find();
      const allowed: string[] = [];
      for (const row of all) {
        if (await rules.can(principal, action, row, { context })) allowed.push(String(row.id));
      }
      const qb = await rules.scope(repo.createQueryBuilder('r'), action, entity, { principal, context });
      const scoped = (await qb.getMany()).map((r) => String(r.id));
      return { total: all.length, allowed: allowed.sort(), scoped: scoped.sort() };
    });

  it.each(principals)('invoice:read for %s', async (id) => {
    const { total, allowed, scoped } = await compare(Invoice, { id, type: 'user' }, 'invoice:read');
    expect(total).toBe(1000);
    expect(scoped).toEqual(allowed);
  });

  it.each(principals)('invoice:approve for %s', async (id) => {
    const { allowed, scoped } = await compare(Invoice, { id, type: 'user' }, 'invoice:approve');
    expect(scoped).toEqual(allowed);
  });

  it.each([
    ['dave', '10.0.0.66'],
    ['dave', '10.0.0.7'],
    ['alice', '10.0.0.7'],
  ])('invoice:delete for %s from %s', async (id, ip) => {
    const { allowed, scoped } = await compare(Invoice, { id, type: 'user' }, 'invoice:delete', { ip });
    expect(scoped).toEqual(allowed);
  });

  it.each(principals)('document:read through the resource hierarchy for %s', async (id) => {
    const { total, allowed, scoped } = await compare(Document, { id, type: 'user' }, 'document:read');
    expect(total).toBe(304);
    expect(scoped).toEqual(allowed);
  });

  it.each(['frank', 'ivan', 'gina'])('document:edit for %s', async (id) => {
    const { allowed, scoped } = await compare(Document, { id, type: 'user' }, 'document:edit');
    expect(scoped).toEqual(allowed);
  });

  it('the cases are not trivial: some principals see some rows, not all', async () => {
    const carol = await compare(Invoice, { id: 'carol', type: 'user' }, 'invoice:read');
    expect(carol.allowed.length).toBeGreaterThan(100);
    expect(carol.allowed.length).toBeLessThan(900);
    const hank = await compare(Invoice, { id: 'hank', type: 'user' }, 'invoice:read');
    expect(hank.allowed.length).toBeGreaterThan(50);
    expect(hank.allowed.length).toBeLessThan(700);
    const gina = await compare(Document, { id: 'gina', type: 'user' }, 'document:read');
    expect(gina.allowed.length).toBeGreaterThan(100);
    expect(gina.allowed.length).toBeLessThan(304);
  });

  it('binds values as parameters, never in the SQL text', async () => {
    await tenancy.run({ tenant: 't1', actor: { id: "o'hara", type: 'user' } }, async () => {
      const qb = await rules.scope(
        dataSource.getRepository(Invoice).createQueryBuilder('i'),
        'invoice:read',
        Invoice,
        {
          principal: { id: "o'hara' OR 1=1 --" },
        },
      );
      const [sql, params] = qb.getQueryAndParameters();
      expect(sql).not.toContain('1000000');
      expect(sql).not.toContain('public');
      expect(params).toContain('public');
      expect(await qb.getCount()).toBe(
        Number(
          (
            await adminQuery<{ n: string }>(
              db,
              `SELECT count(*) n FROM invoice WHERE tenant_id='t1' AND status='public'`,
            )
          )[0].n,
        ),
      );
    });
  });
});
