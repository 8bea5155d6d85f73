/**
 * The RLS backstop: start-up refuses a database that is not ready, the per-connection binding stays correct
 * across rolled-back transactions, and raw SQL is governed when the backstop is off.
 */
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  generateRlsDdl,
  RawSqlRefusedError,
  RlsMisconfiguredError,
  TenancyModule,
  TenancyService,
} from '@bulkhead/tenancy';
import { adminQuery, createTestDatabase, type TestDatabase } from '../db/test-database';
import { A, appDataSource, B, createSchema, createTenancy, ENTITIES, reseed } from './fixtures';

describe('RLS start-up check', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('rlscheck');
    await createSchema(db, true);
  });
  afterAll(() => db?.drop());

  const attach = async (url: string) => {
    const ds = new DataSource({ type: 'postgres', url, entities: ENTITIES });
    await ds.initialize();
    try {
      await createTenancy({ rls: true }).attach(ds);
    } finally {
      await ds.destroy();
    }
  };

  it('accepts a non-superuser role and tables with ENABLE, FORCE and the policy', async () => {
    await expect(attach(db.appUrl)).resolves.toBeUndefined();
  });

  it('refuses a superuser, naming the problem and the fix', async () => {
    const error = await attach(db.adminUrl).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RlsMisconfiguredError);
    expect((error as RlsMisconfiguredError).problems).toEqual([expect.stringContaining('is a superuser')]);
    expect((error as Error).message).toContain('NOSUPERUSER NOBYPASSRLS');
  });

  it('refuses a role with BYPASSRLS', async () => {
    const role = `bh_bypass_${db.name.slice(-6)}`;
    await adminQuery(db, `CREATE ROLE ${role} LOGIN BYPASSRLS PASSWORD 'x'`);
    try {
      const url = new URL(db.appUrl);
      url.username = role;
      url.password = 'x';
      const error = await attach(url.toString()).catch((e: unknown) => e);
      expect((error as RlsMisconfiguredError).problems).toEqual([expect.stringContaining('has BYPASSRLS')]);
    } finally {
      await adminQuery(db, `DROP ROLE ${role}`);
    }
  });

  it('refuses a table without FORCE or without its policy, with the DDL that fixes it', async () => {
    await adminQuery(db, 'ALTER TABLE invoice NO FORCE ROW LEVEL SECURITY');
    await adminQuery(db, 'DROP POLICY bulkhead_tenant_isolation ON tag');
    try {
      const error = (await attach(db.appUrl).catch((e: unknown) => e)) as RlsMisconfiguredError;
      expect(error).toBeInstanceOf(RlsMisconfiguredError);
      expect(error.problems).toEqual([
        'table "tag" (entity Tag) has no bulkhead_tenant_isolation policy',
        'table "invoice" (entity Invoice) does not FORCE ROW LEVEL SECURITY',
      ]);
      expect(error.message).toContain('ALTER TABLE "invoice" FORCE ROW LEVEL SECURITY;');
    } finally {
      await createSchema(db, true);
    }
  });

  it('makes a Nest application refuse to start', async () => {
    @Module({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: db.adminUrl, entities: ENTITIES }),
        TenancyModule.forRootAsync({ useFactory: () => ({ acceptAnyTenant: true, rls: true }) }),
      ],
    })
    class SuperuserApp {}
    const moduleRef = await Test.createTestingModule({ imports: [SuperuserApp] }).compile();
    await expect(moduleRef.init()).rejects.toBeInstanceOf(RlsMisconfiguredError);
    await moduleRef.close();
  });

  it('generates idempotent DDL with USING and WITH CHECK for every tenant-aware table only', async () => {
    const ds = new DataSource({ type: 'postgres', url: db.adminUrl, entities: ENTITIES });
    await ds.initialize();
    const { up } = generateRlsDdl(ds);
    await ds.destroy();
    const tables = up
      .filter((s) => s.startsWith('CREATE POLICY'))
      .map((s) => s.split(' ON ')[1].split(' ')[0]);
    expect(tables.sort()).toEqual(['"customer"', '"invoice"', '"note"', '"tag"']);
    expect(up.find((s) => s.includes('"note"') && s.startsWith('CREATE POLICY'))).toContain(
      `("owner" = (SELECT NULLIF(current_setting('bulkhead.tenant', true), '')::character varying)`,
    );
    expect(up.filter((s) => s.includes('WITH CHECK')).length).toBe(4);
  });
});

describe('RLS binding on pooled connections', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let tenancy: TenancyService;
  beforeAll(async () => {
    db = await createTestDatabase('rlsbind');
    await createSchema(db, true);
    await reseed(db);
    tenancy = createTenancy({ rls: true });
    ds = await appDataSource(db, tenancy, true, 1);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const tenantsSeen = async () =>
    [
      ...new Set(
        (await ds.query('SELECT tenant_id FROM customer')).map((r: { tenant_id: string }) => r.tenant_id),
      ),
    ].sort();

  it('re-binds after a transaction that switched tenants is rolled back', async () => {
    await tenancy.run({ tenant: A }, async () => {
      const qr = ds.createQueryRunner();
      await qr.connect();
      await qr.startTransaction();
      // a context switch inside the transaction binds B inside it; the rollback will undo that set_config
      const inside = await tenancy.run({ tenant: B }, () =>
        qr.query('SELECT DISTINCT tenant_id FROM customer'),
      );
      expect(inside).toEqual([{ tenant_id: B }]);
      await qr.rollbackTransaction();
      await qr.release();
    });
    // the only pooled connection now carries A again at the server; the guard must not believe it is B
    expect(await tenancy.run({ tenant: B }, tenantsSeen)).toEqual([B]);
    expect(await tenancy.run({ tenant: A }, tenantsSeen)).toEqual([A]);
    expect(await tenantsSeen()).toEqual([]);
  });

  it('keeps guarding a DataSource that is destroyed and initialized again', async () => {
    await ds.destroy();
    await ds.initialize();
    expect(await tenancy.run({ tenant: B }, tenantsSeen)).toEqual([B]);
    expect(await tenantsSeen()).toEqual([]);
  });

  it('binds several tenants for a multi-tenant read context', async () => {
    expect(await tenancy.run({ tenant: [A, B] }, tenantsSeen)).toEqual([A, B]);
    expect(await tenancy.runUnscoped('check', tenantsSeen)).toEqual([A, B]);
  });

  it('lets a failed statement inside a transaction roll back cleanly', async () => {
    await tenancy.run({ tenant: A }, async () => {
      await expect(
        ds.transaction(async (m) => {
          await m.query('SELECT 1/0');
        }),
      ).rejects.toThrow('division by zero');
    });
    expect(await tenancy.run({ tenant: A }, tenantsSeen)).toEqual([A]);
  });
});

describe('raw SQL with the RLS backstop off', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let tenancy: TenancyService;
  beforeAll(async () => {
    db = await createTestDatabase('rawsql');
    await createSchema(db, false);
    await reseed(db);
    tenancy = createTenancy({ rls: false });
    ds = await appDataSource(db, tenancy, false);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('refuses raw SQL on tenant-aware tables in a tenant context, allows it when explicitly asked', async () => {
    await expect(
      tenancy.run({ tenant: A }, () => ds.query('SELECT count(*) FROM "invoice"')),
    ).rejects.toBeInstanceOf(RawSqlRefusedError);
    const allowed = await tenancy.run({ tenant: A }, () =>
      tenancy.runWithRawSql('report filters by tenant itself', () =>
        ds.query('SELECT count(*)::int AS n FROM invoice WHERE tenant_id = $1', [A]),
      ),
    );
    expect(allowed).toEqual([{ n: 3 }]);
    // statements on tables that are not tenant-aware pass
    expect(
      await tenancy.run({ tenant: A }, () => ds.query('SELECT count(*)::int AS n FROM country')),
    ).toEqual([{ n: 2 }]);
  });
});

describe('connection settings bound before writes', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let tenancy: TenancyService;
  beforeAll(async () => {
    db = await createTestDatabase('connset');
    await createSchema(db, true);
    await reseed(db);
    tenancy = createTenancy({ rls: true });
    tenancy.addConnectionSetting({ name: 'bhtest.actor', value: (c) => c?.actor?.id ?? '' });
    ds = await appDataSource(db, tenancy, true, 1);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const actorSeenByWrite = () =>
    ds.query(
      "UPDATE country SET code = code WHERE id = 1 RETURNING current_setting('bhtest.actor', true) AS a",
    );

  it('binds the value for write statements, per context, and clears it outside any', async () => {
    const run = (actor: string) =>
      tenancy.run({ tenant: A, actor: { id: actor, type: 'user' } }, actorSeenByWrite);
    expect(await run('ann')).toEqual([[{ a: 'ann' }], 1]);
    expect(await run('bob')).toEqual([[{ a: 'bob' }], 1]);
    expect(await actorSeenByWrite()).toEqual([[{ a: '' }], 1]);
  });

  /** Records what goes over the wire on the pool's only connection: simple queries, and extended-protocol binds. */
  async function wire(): Promise<{ simple: string[]; binds: string[] }> {
    const seen = { simple: [] as string[], binds: [] as string[] };
    const pool = (
      ds.driver as unknown as {
        master: { connect(): Promise<{ connection: WireConnection; release(): void }> };
      }
    ).master;
    const client = await pool.connect();
    const connection = client.connection;
    const query = connection.query.bind(connection);
    const bind = connection.bind.bind(connection);
    connection.query = (text: string) => {
      seen.simple.push(text);
      query(text);
    };
    connection.bind = (config: { statement?: string }) => {
      seen.binds.push(config.statement ?? '');
      bind(config);
    };
    client.release();
    return seen;
  }

  it('merges the bind into START TRANSACTION, so a write transaction pays no extra round trip', async () => {
    const seen = await wire();
    await tenancy.run({ tenant: A, actor: { id: 'carl', type: 'user' } }, () =>
      ds.transaction((m) => m.query('UPDATE country SET code = code WHERE id = 2')),
    );
    expect(seen.simple).toEqual([
      expect.stringMatching(
        /^START TRANSACTION; SELECT set_config\('bulkhead\.tenant', 'acme', false\).*set_config\('bhtest\.actor', 'carl', false\)$/,
      ),
      'UPDATE country SET code = code WHERE id = 2',
      'COMMIT',
    ]);
    expect(seen.binds.filter((name) => name.startsWith('bulkhead_bind'))).toEqual([]);
  });

  it('does not make reads wait for a write-only setting', async () => {
    await tenancy.run({ tenant: A, actor: { id: 'dora', type: 'user' } }, actorSeenByWrite);
    const seen = await wire();
    await tenancy.run({ tenant: A, actor: { id: 'eve', type: 'user' } }, () => ds.query('SELECT 1'));
    expect(seen).toEqual({ simple: ['SELECT 1'], binds: [] });
  });
});

interface WireConnection {
  query(text: string): void;
  bind(config: { statement?: string }): void;
}
