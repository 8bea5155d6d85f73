/**
 * Tenant isolation through HTTP, on Express and Fastify: 1,000 interleaved requests across 50 tenants through
 * a pool of 4 connections with no bleed, pool safety after a request ends, and refusal of bad input.
 */
import * as net from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { adminQuery, createTestDatabase, type TestDatabase } from '../db/test-database';
import { createItemSchema, ROWS_PER_TENANT, startHttpApp, TENANTS, token } from './http-app';

describe.each(['express', 'fastify'] as const)('HTTP isolation on %s', (platform) => {
  let db: TestDatabase;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    db = await createTestDatabase('http');
    await createItemSchema(db);
    ({ app, url } = await startHttpApp({ platform, db, poolSize: 4 }));
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const countItems = async () =>
    Number((await adminQuery<{ n: string }>(db, 'SELECT count(*) AS n FROM item'))[0].n);

  it('serves 1,000 interleaved requests across 50 tenants through 4 connections with no bleed', async () => {
    const requests = Array.from({ length: 1000 }, (_, i) => TENANTS[(i * 7) % TENANTS.length]);
    let foreign = 0;
    let wrongCount = 0;
    let checked = 0;
    const run = async (tenant: string, i: number) => {
      const res = await fetch(`${url}/items?delay=${i % 5}`, { headers: { 'x-tenant-id': tenant } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: { tenantId: string; title: string }[]; count: number };
      foreign += body.items.filter(
        (it) => it.tenantId !== tenant || !it.title.startsWith(`${tenant}-`),
      ).length;
      if (body.items.length !== ROWS_PER_TENANT || body.count !== ROWS_PER_TENANT) wrongCount++;
      checked++;
    };
    // 100 in flight at a time: far more than the 4 connections, so contexts interleave on every connection
    for (let start = 0; start < requests.length; start += 100) {
      await Promise.all(requests.slice(start, start + 100).map((t, j) => run(t, start + j)));
    }
    expect({ checked, foreign, wrongCount }).toEqual({ checked: 1000, foreign: 0, wrongCount: 0 });
  });

  it('leaves no tenant on a pooled connection after the request ends', async () => {
    const res = await fetch(`${url}/raw`, { headers: { 'x-tenant-id': 't3' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { tenant_id: string }[]).map((r) => r.tenant_id)).toEqual([
      't3',
      't3',
      't3',
    ]);
    const dataSource = app.get<DataSource>(getDataSourceToken());
    const pool = (
      dataSource.driver as unknown as { master: { connect(): Promise<Client & { release(): void }> } }
    ).master;
    // check out every pooled connection at once, so the one the request used is among them
    const clients = await Promise.all(Array.from({ length: 4 }, () => pool.connect()));
    try {
      for (const client of clients) {
        const { rows } = await client.query(
          "SELECT count(*)::int AS n, current_setting('bulkhead.tenant', true) AS bound FROM item",
        );
        // never bound: NULL; bound for the request and cleared before this statement: ''
        expect(rows[0].n).toBe(0);
        expect([null, '']).toContain(rows[0].bound);
      }
    } finally {
      clients.forEach((c) => c.release());
    }
  });

  it('answers a foreign row by id with 404, never revealing it exists', async () => {
    const [{ id }] = await adminQuery<{ id: number }>(
      db,
      "SELECT id FROM item WHERE tenant_id = 't2' LIMIT 1",
    );
    const own = await fetch(`${url}/items/${id}`, { headers: { 'x-tenant-id': 't2' } });
    expect(own.status).toBe(200);
    const foreign = await fetch(`${url}/items/${id}`, { headers: { 'x-tenant-id': 't1' } });
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toEqual({ statusCode: 404, error: 'NotFound', message: 'Not found.' });
  });

  it('takes the tenant of a write from the context and refuses a foreign one with 403', async () => {
    const before = await countItems();
    const ok = await fetch(`${url}/items`, {
      method: 'POST',
      headers: { 'x-tenant-id': 't4', 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'fresh' }),
    });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ tenantId: 't4', title: 'fresh' });
    const bad = await fetch(`${url}/items`, {
      method: 'POST',
      headers: { 'x-tenant-id': 't4', 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'smuggled', tenantId: 't5' }),
    });
    expect(bad.status).toBe(403);
    expect(((await bad.json()) as { error: string }).error).toBe('CrossTenantAccessError');
    expect(await countItems()).toBe(before + 1);
    await adminQuery(db, "DELETE FROM item WHERE title = 'fresh'");
  });

  it('needs no tenant on @NoTenant routes', async () => {
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  describe('bad input', () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${url}/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ title: 'should-not-exist' }),
      });

    const cases: [string, () => Promise<Record<string, string>>, number, string][] = [
      [
        'SQL metacharacters',
        async () => ({ 'x-tenant-id': "t1'; DROP TABLE item; --" }),
        400,
        'InvalidTenantIdError',
      ],
      ['an empty tenant', async () => ({ 'x-tenant-id': '' }), 400, 'InvalidTenantIdError'],
      ['a 10 KB tenant', async () => ({ 'x-tenant-id': 'a'.repeat(10 * 1024) }), 400, 'InvalidTenantIdError'],
      ['an unknown tenant', async () => ({ 'x-tenant-id': 't999' }), 400, 'UnknownTenantError'],
      ['several tenants', async () => ({ 'x-tenant-id': 't1,t2' }), 400, 'MultipleTenantsNotAllowedError'],
      ['no tenant and no token', async () => ({}), 401, 'TenantNotResolvedError'],
      [
        'a tenant the token holder is not a member of',
        async () => ({
          'x-tenant-id': 't2',
          authorization: `Bearer ${await token({ sub: 'u1', tid: 't1' })}`,
        }),
        403,
        'TenantAccessDeniedError',
      ],
      [
        'a token with a bad signature',
        async () => ({
          authorization: `Bearer ${await token({ sub: 'u1', tid: 't1' }, { secret: 'x'.repeat(36) })}`,
        }),
        401,
        'InvalidTenantTokenError',
      ],
      [
        'an expired token',
        async () => ({
          authorization: `Bearer ${await token({ sub: 'u1', tid: 't1' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 })}`,
        }),
        401,
        'InvalidTenantTokenError',
      ],
      [
        'an unsecured token (alg: none)',
        async () => {
          const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
          const unsigned = `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub: 'u1', tid: 't1', exp: 9e9 })}.`;
          return { authorization: `Bearer ${unsigned}` };
        },
        401,
        'InvalidTenantTokenError',
      ],
      [
        'a malformed Authorization header',
        async () => ({ authorization: 'Basic dTE6cHc=' }),
        401,
        'InvalidTenantTokenError',
      ],
    ];

    it.each(cases)('refuses %s with %i and writes nothing', async (_name, headers, status, error) => {
      const before = await countItems();
      const res = await post(await headers());
      expect(res.status).toBe(status);
      const body = (await res.json()) as { statusCode: number; error: string; message: string };
      expect(body).toEqual({ statusCode: status, error, message: expect.any(String) });
      expect(body.message.length).toBeGreaterThan(20);
      expect(await countItems()).toBe(before);
    });

    it('accepts a valid token for its own tenant', async () => {
      const res = await fetch(`${url}/context`, {
        headers: { authorization: `Bearer ${await token({ sub: 'u7', tid: 't7' })}` },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        tenantIds: ['t7'],
        actor: { id: 'u7', type: 'user' },
        correlationId: expect.any(String),
      });
    });

    it('refuses a tenant header with bytes that are not UTF-8, and writes nothing', async () => {
      const before = await countItems();
      const port = Number(new URL(url).port);
      const raw = Buffer.concat([
        Buffer.from(
          'POST /items HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Tenant-ID: t',
        ),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from('\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{"title":1}'),
      ]);
      const response = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.end(raw));
        let data = '';
        socket.on('data', (chunk) => (data += chunk.toString('latin1')));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      expect(response.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      expect(response).toContain('InvalidTenantIdError');
      expect(await countItems()).toBe(before);
    });
  });
});
