/**
 * The tenancy context: survives await, timers, event emitters and streams; never bleeds between concurrent
 * chains; runUnscoped is explicit, nestable and reported; @WithTenant/@Unscoped bind jobs; events are emitted.
 */
import { EventEmitter } from 'node:events';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule, InjectRepository } from '@nestjs/typeorm';
import type { DataSource, Repository } from 'typeorm';
import {
  InvalidTenantIdError,
  MissingTenantContextError,
  TenancyConfigurationError,
  TenancyModule,
  TenancyService,
  Unscoped,
  WithTenant,
  type TenancyEvent,
} from '@bulkhead/tenancy';
import { createTestDatabase, type TestDatabase } from '../db/test-database';
import { A, appDataSource, B, createSchema, createTenancy, Customer, ENTITIES, reseed } from './fixtures';

describe('tenancy context', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let tenancy: TenancyService;
  const events: TenancyEvent[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('ctx');
    await createSchema(db, true);
    await reseed(db);
    tenancy = createTenancy({ rls: true, listeners: [{ onTenancyEvent: (e) => events.push(e) }] });
    ds = await appDataSource(db, tenancy, true);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });
  beforeEach(() => (events.length = 0));

  const names = async () =>
    (await ds.getRepository(Customer).find({ order: { id: 'ASC' } })).map((c) => c.name);

  it('survives await, timers, event emitters and streams', async () => {
    const seen = await tenancy.run({ tenant: B }, async () => {
      const out: Record<string, string | undefined> = {};
      await sleep(5);
      out.afterAwait = tenancy.current()?.tenantId;
      out.timer = await new Promise((resolve) => setTimeout(() => resolve(tenancy.current()?.tenantId), 5));
      const emitter = new EventEmitter();
      const heard = new Promise<string | undefined>((resolve) =>
        emitter.on('ping', () => resolve(tenancy.current()?.tenantId)),
      );
      setImmediate(() => emitter.emit('ping'));
      out.emitter = await heard;
      const collected: string[] = [];
      await pipeline(
        Readable.from([1, 2, 3]),
        new Transform({
          objectMode: true,
          transform(_chunk, _enc, done) {
            collected.push(tenancy.current()?.tenantId ?? 'none');
            done();
          },
        }),
      );
      out.stream = [...new Set(collected)].join();
      out.query = (await names()).join();
      return out;
    });
    expect(seen).toEqual({ afterAwait: B, timer: B, emitter: B, stream: B, query: 'Gus,Gil' });
    expect(tenancy.current()).toBeUndefined();
  });

  it('never bleeds between 200 concurrent chains', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const tenant = i % 2 ? A : B;
        return tenancy.run({ tenant }, async () => {
          await sleep(i % 7);
          const rows = await ds.getRepository(Customer).find();
          return rows.every((r) => r.tenantId === tenant) && tenancy.current()?.tenantId === tenant;
        });
      }),
    );
    expect(results.filter((ok) => !ok)).toEqual([]);
  });

  it('refuses tenant-aware queries outside any context, and malformed tenants in run()', async () => {
    await expect(names()).rejects.toBeInstanceOf(MissingTenantContextError);
    expect(() => tenancy.run({ tenant: "x'; --" }, () => 1)).toThrow(InvalidTenantIdError);
    expect(() => tenancy.run({ tenant: [] }, () => 1)).toThrow(InvalidTenantIdError);
  });

  it('runUnscoped needs a reason, nests, and is reported', async () => {
    expect(() => tenancy.runUnscoped('  ', () => 1)).toThrow(TenancyConfigurationError);
    const all = await tenancy.run({ tenant: A }, () =>
      tenancy.runUnscoped('migration backfill', async () => {
        const outer = await names();
        const inner = await tenancy.runUnscoped('nested step', () => names());
        const back = await tenancy.run({ tenant: B }, () => names());
        return { outer, inner, back };
      }),
    );
    expect(all).toEqual({
      outer: ['Ann', 'Abe', 'Gus', 'Gil'],
      inner: ['Ann', 'Abe', 'Gus', 'Gil'],
      back: ['Gus', 'Gil'],
    });
    const bypasses = events.filter((e) => e.type === 'bypass.used');
    expect(bypasses.map((e) => (e.type === 'bypass.used' ? [e.kind, e.reason, e.tenantIds] : null))).toEqual([
      ['unscoped', 'migration backfill', [A]],
      ['unscoped', 'nested step', [A]],
    ]);
  });

  it('emits context.bound/released around run() and violation.refused on refusals', async () => {
    await tenancy.run({ tenant: A, actor: { id: 'job-7', type: 'service' }, correlationId: 'corr-1' }, () =>
      names(),
    );
    await names().catch(() => undefined);
    expect(events.map((e) => e.type)).toEqual(['context.bound', 'context.released', 'violation.refused']);
    expect(events[0]).toMatchObject({
      type: 'context.bound',
      source: 'job',
      tenantIds: [A],
      actor: { id: 'job-7', type: 'service' },
      correlationId: 'corr-1',
    });
    expect(events[2]).toMatchObject({ type: 'violation.refused', error: 'MissingTenantContextError' });
  });

  it('keeps a listener that throws from breaking the operation', async () => {
    const unsubscribe = tenancy.subscribe({
      onTenancyEvent: () => {
        throw new Error('sink down');
      },
    });
    try {
      await expect(tenancy.run({ tenant: A }, () => names())).resolves.toEqual(['Ann', 'Abe']);
    } finally {
      unsubscribe();
    }
  });
});

describe('job decorators', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('jobs');
    await createSchema(db, true);
    await reseed(db);
  });
  afterAll(() => db?.drop());

  @Injectable()
  class InvoiceJobs {
    constructor(@InjectRepository(Customer) private readonly customers: Repository<Customer>) {}

    @WithTenant((job: { tenantId: string }) => job.tenantId)
    async namesFor(_job: { tenantId: string }): Promise<string[]> {
      await sleep(1);
      return (await this.customers.find({ order: { id: 'ASC' } })).map((c) => c.name);
    }

    @WithTenant((job: { tenantId: string }) => ({
      tenant: job.tenantId,
      actor: { id: 'mailer', type: 'service' },
    }))
    async actorFor(_job: { tenantId: string }, tenancy: TenancyService) {
      return tenancy.current()?.actor;
    }

    @Unscoped('nightly count over every tenant')
    async countAll(): Promise<number> {
      return this.customers.count();
    }

    async unbound(): Promise<number> {
      return this.customers.count();
    }
  }

  it('binds the tenant chosen from the arguments, with or without an actor, and unscoped jobs', async () => {
    @Module({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: db.appUrl, entities: ENTITIES }),
        TypeOrmModule.forFeature([Customer]),
        TenancyModule.forRoot({ acceptAnyTenant: true, rls: true }),
      ],
      providers: [InvoiceJobs],
    })
    class JobsModule {}
    const moduleRef = await Test.createTestingModule({ imports: [JobsModule] }).compile();
    await moduleRef.init();
    try {
      const jobs = moduleRef.get(InvoiceJobs);
      const tenancy = moduleRef.get(TenancyService);
      const [a, b] = await Promise.all([jobs.namesFor({ tenantId: A }), jobs.namesFor({ tenantId: B })]);
      expect({ a, b }).toEqual({ a: ['Ann', 'Abe'], b: ['Gus', 'Gil'] });
      expect(await jobs.actorFor({ tenantId: A }, tenancy)).toEqual({ id: 'mailer', type: 'service' });
      expect(await jobs.countAll()).toBe(4);
      await expect(jobs.unbound()).rejects.toBeInstanceOf(MissingTenantContextError);
    } finally {
      await moduleRef.close();
    }
  });

  it('refuses a decorated method on an instance the module never linked', async () => {
    const stray = new InvoiceJobs({} as Repository<Customer>);
    expect(() => stray.countAll()).toThrow(TenancyConfigurationError);
  });
});
