/**
 * The rules guard over HTTP on Express and Fastify: 401 without a principal, 403 with a body that reveals no
 * rule, 200 when allowed; handler decorators over class ones; the guard runs after tenancy resolution whatever
 * the module order; resource checks in handlers; revocation and new deny rules enforced on the very next
 * request served by a second app instance (its own DataSource and cache).
 */
import type { INestApplication } from '@nestjs/common';
import { RulesService, type RulesEvent } from '@bulkhead/rules';
import { adminQuery, createTestDatabase, type TestDatabase } from '../db/test-database';
import { createRulesSchema, startRulesApp, token } from './rules-fixtures';

const FORBIDDEN = {
  statusCode: 403,
  error: 'Forbidden',
  message: 'You do not have permission to perform this action.',
};
const UNAUTHORIZED = {
  statusCode: 401,
  error: 'Unauthorized',
  message: 'Authentication is required to perform this action.',
};

describe.each(['express', 'fastify'] as const)('rules guard on %s', (platform) => {
  let db: TestDatabase;
  let app: INestApplication;
  let url: string;
  let second: INestApplication;
  let secondUrl: string;
  let rules: RulesService;
  const events: RulesEvent[] = [];

  const call = async (base: string, path: string, sub?: string, tenant = 't1', method = 'GET') => {
    const headers: Record<string, string> = { 'x-tenant-id': tenant };
    if (sub) headers.authorization = `Bearer ${await token(sub, tenant)}`;
    const res = await fetch(`${base}${path}`, { method, headers });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };

  beforeAll(async () => {
    db = await createTestDatabase('rules_http');
    await createRulesSchema(db);
    await adminQuery(
      db,
      `INSERT INTO invoice (id, tenant_id, amount, created_by, status) VALUES
         (1, 't1', 500, 'bob', 'draft'), (2, 't1', 2000000, 'bob', 'draft')`,
    );
    ({ app, url } = await startRulesApp({
      platform,
      db,
      rules: { listeners: [{ onRulesEvent: (e) => events.push(e) }] },
    }));
    // the second "process": RulesModule imported before TenancyModule, its own DataSource, pool and cache
    ({ app: second, url: secondUrl } = await startRulesApp({ platform, db, rulesFirst: true }));
    rules = app.get(RulesService);
    for (const [p, role, tenantId] of [
      ['alice', 'owner', 't1'],
      ['bob', 'member', 't1'],
      ['carol', 'viewer', 't1'],
      ['dave', 'admin', 't1'],
      ['erin', 'auditor', 't1'],
      ['bob', 'viewer', 't2'],
    ]) {
      await rules.grant(p, role, { tenantId });
    }
  });
  afterAll(async () => {
    await app?.close();
    await second?.close();
    await db?.drop();
  });

  it('answers 401 without a principal, with a fixed body', async () => {
    expect(await call(url, '/invoices')).toEqual({ status: 401, body: UNAUTHORIZED });
  });

  it('answers 403 when denied, with a body that names no rule or role', async () => {
    expect(await call(url, '/invoices', 'hank')).toEqual({ status: 403, body: FORBIDDEN });
    expect(await call(url, '/invoices', 'carol', 't1', 'POST')).toEqual({ status: 403, body: FORBIDDEN });
    expect(await call(url, '/admin', 'bob')).toEqual({ status: 403, body: FORBIDDEN });
  });

  it('answers 200 when allowed (permissions through inheritance, roles through includes)', async () => {
    expect(await call(url, '/invoices', 'carol')).toEqual({ status: 200, body: { ok: 'list' } });
    expect((await call(url, '/invoices', 'bob', 't1', 'POST')).status).toBe(201);
    expect((await call(url, '/admin', 'dave')).status).toBe(200);
    expect((await call(url, '/admin', 'alice')).status).toBe(200);
  });

  it('looks roles up in the tenant of the request only', async () => {
    expect((await call(url, '/invoices', 'bob', 't2', 'POST')).status).toBe(403);
    expect((await call(url, '/invoices', 'bob', 't2')).status).toBe(200);
    expect((await call(url, '/admin', 'dave', 't2')).status).toBe(403);
  });

  it('reads handler decorators over class decorators, and @Public()', async () => {
    expect((await call(url, '/settings', 'alice')).status).toBe(200);
    expect((await call(url, '/settings', 'dave')).status).toBe(403);
    expect((await call(url, '/settings/members', 'erin')).status).toBe(200);
    expect((await call(url, '/settings/public')).status).toBe(200);
    expect((await call(url, '/health')).status).toBe(200);
    expect((await call(url, '/open')).status).toBe(200);
  });

  it('runs after tenancy resolution even when RulesModule is imported first', async () => {
    expect(await call(secondUrl, '/invoices', 'carol')).toEqual({ status: 200, body: { ok: 'list' } });
    expect((await call(secondUrl, '/invoices')).status).toBe(401);
    expect((await call(secondUrl, '/invoices', 'hank')).status).toBe(403);
  });

  it('authorises handlers against loaded entities', async () => {
    expect(await call(url, '/invoices/1/approve', 'bob', 't1', 'POST')).toEqual({
      status: 201,
      body: { approved: 1 },
    });
    expect(await call(url, '/invoices/2/approve', 'bob', 't1', 'POST')).toEqual({
      status: 403,
      body: FORBIDDEN,
    });
  });

  it('emits every deny as an event with its explanation', async () => {
    events.length = 0;
    await call(url, '/invoices/2/approve', 'bob', 't1', 'POST');
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'decision.denied',
        tenantId: 't1',
        principalId: 'bob',
        action: 'invoice:approve',
        resource: { type: 'invoice', id: '2' },
        decidingRuleIds: ['deny-huge-approvals'],
      }),
    );
  });

  it('enforces a revoked role on the next request served by the other instance', async () => {
    // strict by default: no cache, every decision reads the store
    const other = second.get(RulesService) as unknown as { cache: { active: boolean } };
    expect(other.cache.active).toBe(false);
    await rules.grant('ivan', 'member', { tenantId: 't1' });
    for (let round = 0; round < 20; round++) {
      expect((await call(secondUrl, '/invoices', 'ivan', 't1', 'POST')).status).toBe(201);
      expect(await rules.revoke('ivan', 'member', { tenantId: 't1' })).toBe(true);
      expect((await call(secondUrl, '/invoices', 'ivan', 't1', 'POST')).status).toBe(403);
      await rules.grant('ivan', 'member', { tenantId: 't1' });
      expect((await call(secondUrl, '/invoices', 'ivan', 't1', 'POST')).status).toBe(201);
    }
  });

  it('with cache: true, invalidates the other instance through LISTEN/NOTIFY within a second', async () => {
    const first = await startRulesApp({ platform, db, rules: { cache: true } });
    const other = await startRulesApp({ platform, db, rules: { cache: true } });
    try {
      const grants = first.app.get(RulesService);
      expect((other.app.get(RulesService) as unknown as { cache: { active: boolean } }).cache.active).toBe(
        true,
      );
      await grants.grant('judy', 'member', { tenantId: 't1' });
      // a cached allow: the other instance served it from its cache the second time
      expect((await call(other.url, '/invoices', 'judy', 't1', 'POST')).status).toBe(201);
      expect((await call(other.url, '/invoices', 'judy', 't1', 'POST')).status).toBe(201);
      await grants.revoke('judy', 'member', { tenantId: 't1' });
      const deadline = Date.now() + 1000;
      let status = 0;
      do {
        status = (await call(other.url, '/invoices', 'judy', 't1', 'POST')).status;
      } while (status !== 403 && Date.now() < deadline);
      expect(status).toBe(403);
    } finally {
      await first.app.close();
      await other.app.close();
    }
  });

  it('enforces a new deny rule, and its removal, on the next request served by the other instance', async () => {
    expect((await call(secondUrl, '/invoices', 'carol')).status).toBe(200);
    await rules.saveRule(
      {
        id: 'freeze-carol',
        effect: 'deny',
        actions: ['invoice:*'],
        bind: { type: 'principal', principalId: 'carol' },
      },
      { tenantId: 't1' },
    );
    expect((await call(secondUrl, '/invoices', 'carol')).status).toBe(403);
    expect((await call(secondUrl, '/invoices', 'carol', 't2')).status).toBe(403); // not a member of t2 at all
    expect(await rules.removeRule('freeze-carol', { tenantId: 't1' })).toBe(true);
    expect((await call(secondUrl, '/invoices', 'carol')).status).toBe(200);
  });

  it('denies undecorated routes with denyWithoutDecorator', async () => {
    const strict = await startRulesApp({ platform, db, rules: { denyWithoutDecorator: true } });
    try {
      expect(await call(strict.url, '/open', 'alice')).toEqual({ status: 403, body: FORBIDDEN });
      expect((await call(strict.url, '/health')).status).toBe(200);
      expect((await call(strict.url, '/invoices', 'carol')).status).toBe(200);
    } finally {
      await strict.app.close();
    }
  });
});
