/**
 * The leak matrix: every TypeORM read and write path of a tenant-aware entity, in every kind of context
 * (tenant A, tenant B, both, none, unscoped), with the RLS backstop on (non-superuser role, policies
 * installed) and off (superuser, no policies). Each case asserts the exact rows seen, the exact rows left in
 * the database afterwards, or the exact error class.
 */
import { DataSource, EntityNotFoundError, QueryFailedError } from 'typeorm';
import {
  AmbiguousTenantWriteError,
  CrossTenantAccessError,
  MissingTenantContextError,
  RawSqlRefusedError,
  TenancyService,
} from '@bulkhead/tenancy';
import { adminQuery, createTestDatabase, type TestDatabase } from '../db/test-database';
import {
  A,
  appDataSource,
  B,
  Country,
  createSchema,
  createTenancy,
  Customer,
  Invoice,
  Note,
  reseed,
  SEED,
} from './fixtures';

type Ctx = 'A' | 'B' | 'both' | 'none' | 'unscoped';
/** Major version of the server under test (set in beforeAll); one case differs between versions. */
let serverMajor = 0;
const CONTEXTS: Ctx[] = ['A', 'B', 'both', 'none', 'unscoped'];
type ErrorClass = new (...args: never[]) => Error;
type Outcome = { value: unknown } | { error: ErrorClass };

function sees(ctx: Ctx, tenant: string): boolean {
  if (ctx === 'unscoped') return true;
  if (ctx === 'A') return tenant === A;
  if (ctx === 'B') return tenant === B;
  if (ctx === 'both') return tenant === A || tenant === B;
  return false;
}

function within<T>(tenancy: TenancyService, ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  switch (ctx) {
    case 'A':
      return tenancy.run({ tenant: A }, fn);
    case 'B':
      return tenancy.run({ tenant: B }, fn);
    case 'both':
      return tenancy.run({ tenant: [A, B] }, fn);
    case 'unscoped':
      return tenancy.runUnscoped('leak matrix', fn);
    case 'none':
      return fn();
  }
}

const sortNum = (xs: number[]) => [...xs].sort((a, b) => a - b);
const customers = (
  ctx: Ctx,
  pred: (c: (typeof SEED.customer)[number]) => boolean = () => true,
  withDeleted = false,
) =>
  sortNum(
    SEED.customer
      .filter((c) => sees(ctx, c.tenant_id) && (withDeleted || !c.deleted) && pred(c))
      .map((c) => c.id),
  );
const invoices = (ctx: Ctx, pred: (i: (typeof SEED.invoice)[number]) => boolean = () => true) =>
  SEED.invoice.filter((i) => sees(ctx, i.tenant_id) && pred(i));
const customerVisible = (ctx: Ctx, id: number) => customers(ctx).includes(id);
const tenantOfCustomer = (id: number) => SEED.customer.find((c) => c.id === id)!.tenant_id;

/** Reads: `run` returns a normalised value; `expect` says what each context must see. */
interface ReadCase {
  name: string;
  run: (ds: DataSource) => Promise<unknown>;
  expect: (ctx: Ctx) => unknown;
}

const reads: ReadCase[] = [
  {
    name: 'repository.find',
    run: async (ds) => ids(await ds.getRepository(Customer).find()),
    expect: (c) => customers(c),
  },
  {
    name: 'repository.findBy',
    run: async (ds) => ids(await ds.getRepository(Customer).findBy({ countryId: 1 })),
    expect: (c) => customers(c, (r) => r.country_id === 1),
  },
  {
    name: 'repository.findOne (foreign id)',
    run: async (ds) => (await ds.getRepository(Customer).findOne({ where: { id: 3 } }))?.id ?? null,
    expect: (c) => (customerVisible(c, 3) ? 3 : null),
  },
  {
    name: 'repository.findOneBy (foreign id)',
    run: async (ds) => (await ds.getRepository(Customer).findOneBy({ id: 1 }))?.id ?? null,
    expect: (c) => (customerVisible(c, 1) ? 1 : null),
  },
  {
    name: 'repository.findOneOrFail (foreign id)',
    run: async (ds) => (await ds.getRepository(Customer).findOneOrFail({ where: { id: 3 } })).id,
    expect: (c) => (customerVisible(c, 3) ? 3 : EntityNotFoundError),
  },
  {
    name: 'repository.findOneByOrFail',
    run: async (ds) => (await ds.getRepository(Customer).findOneByOrFail({ id: 1 })).id,
    expect: (c) => (customerVisible(c, 1) ? 1 : EntityNotFoundError),
  },
  {
    name: 'repository.findAndCount',
    run: async (ds) => {
      const [rows, count] = await ds.getRepository(Customer).findAndCount({ order: { id: 'ASC' }, take: 2 });
      return [ids(rows), count];
    },
    expect: (c) => [customers(c).slice(0, 2), customers(c).length],
  },
  {
    name: 'repository.count',
    run: (ds) => ds.getRepository(Customer).count(),
    expect: (c) => customers(c).length,
  },
  {
    name: 'repository.countBy',
    run: (ds) => ds.getRepository(Customer).countBy({ countryId: 2 }),
    expect: (c) => customers(c, (r) => r.country_id === 2).length,
  },
  {
    name: 'repository.exists',
    run: (ds) => ds.getRepository(Customer).exists({ where: { id: 4 } }),
    expect: (c) => customerVisible(c, 4),
  },
  {
    name: 'repository.existsBy',
    run: (ds) => ds.getRepository(Customer).existsBy({ name: 'Ann' }),
    expect: (c) => customerVisible(c, 1),
  },
  {
    name: 'repository.sum',
    run: async (ds) => (await ds.getRepository(Invoice).sum('amount')) ?? null,
    expect: (c) => total(invoices(c).map((i) => i.amount)),
  },
  {
    name: 'repository.average',
    run: async (ds) => round(await ds.getRepository(Invoice).average('amount')),
    expect: (c) => {
      const xs = invoices(c).map((i) => i.amount);
      return xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length) : null;
    },
  },
  {
    name: 'repository.minimum',
    run: async (ds) => (await ds.getRepository(Invoice).minimum('amount')) ?? null,
    expect: (c) => (invoices(c).length ? Math.min(...invoices(c).map((i) => i.amount)) : null),
  },
  {
    name: 'repository.maximum',
    run: async (ds) => (await ds.getRepository(Invoice).maximum('amount')) ?? null,
    expect: (c) => (invoices(c).length ? Math.max(...invoices(c).map((i) => i.amount)) : null),
  },
  {
    name: 'repository.preload (foreign id)',
    run: async (ds) => (await ds.getRepository(Customer).preload({ id: 3, name: 'X' }))?.name ?? null,
    expect: (c) => (customerVisible(c, 3) ? 'X' : null),
  },
  {
    name: 'find with relations (one-to-many)',
    run: async (ds) =>
      (await ds.getRepository(Customer).find({ relations: { invoices: true }, order: { id: 'ASC' } })).map(
        (c) => [c.id, sortNum(c.invoices.map((i) => i.id))],
      ),
    expect: (c) =>
      customers(c).map((id) => [id, sortNum(invoices(c, (i) => i.customer_id === id).map((i) => i.id))]),
  },
  {
    name: 'find with relations (many-to-one to a foreign row)',
    run: async (ds) =>
      (await ds.getRepository(Invoice).find({ relations: { customer: true }, order: { id: 'ASC' } })).map(
        (i) => [i.id, i.customer?.id ?? null],
      ),
    expect: (c) => invoices(c).map((i) => [i.id, customerVisible(c, i.customer_id) ? i.customer_id : null]),
  },
  {
    name: 'find with relations (many-to-many)',
    run: async (ds) =>
      (await ds.getRepository(Invoice).find({ relations: { tags: true }, order: { id: 'ASC' } })).map((i) => [
        i.id,
        sortNum(i.tags.map((t) => t.id)),
      ]),
    expect: (c) =>
      invoices(c).map((i) => [
        i.id,
        sortNum(
          SEED.invoice_tag
            .filter((l) => l.invoice_id === i.id)
            .map((l) => SEED.tag.find((t) => t.id === l.tag_id)!)
            .filter((t) => sees(c, t.tenant_id))
            .map((t) => t.id),
        ),
      ]),
  },
  {
    name: 'eager relation',
    run: async (ds) =>
      (await ds.getRepository(Note).find({ order: { id: 'ASC' } })).map((n) => [
        n.id,
        n.customer?.id ?? null,
      ]),
    expect: (c) =>
      SEED.note
        .filter((n) => sees(c, n.owner))
        .map((n) => [n.id, customerVisible(c, n.customer_id) ? 3 : null]),
  },
  {
    name: 'lazy relation',
    run: async (ds) => {
      const notes = await ds.getRepository(Note).find({ order: { id: 'ASC' } });
      const out: unknown[] = [];
      for (const n of notes) out.push([n.id, (await n.invoice)?.id ?? null]);
      return out;
    },
    expect: (c) => SEED.note.filter((n) => sees(c, n.owner)).map((n) => [n.id, sees(c, B) ? 12 : null]),
  },
  {
    name: 'query builder getMany',
    run: async (ds) =>
      ids(
        await ds
          .getRepository(Customer)
          .createQueryBuilder('c')
          .where('c.countryId = :k', { k: 1 })
          .getMany(),
      ),
    expect: (c) => customers(c, (r) => r.country_id === 1),
  },
  {
    name: 'query builder getOne (foreign id)',
    run: async (ds) =>
      (await ds.getRepository(Customer).createQueryBuilder('c').where('c.id = :id', { id: 4 }).getOne())
        ?.id ?? null,
    expect: (c) => (customerVisible(c, 4) ? 4 : null),
  },
  {
    name: 'query builder getRawMany',
    run: async (ds) =>
      sortNum(
        (await ds.createQueryBuilder(Customer, 'c').select('c.id', 'id').getRawMany<{ id: number }>()).map(
          (r) => r.id,
        ),
      ),
    expect: (c) => customers(c),
  },
  {
    name: 'query builder getRawOne (aggregate)',
    run: async (ds) =>
      Number(
        (await ds
          .createQueryBuilder(Invoice, 'i')
          .select('COALESCE(SUM(i.amount), 0)', 's')
          .getRawOne<{ s: string }>())!.s,
      ),
    expect: (c) => total(invoices(c).map((i) => i.amount)) ?? 0,
  },
  {
    name: 'query builder getCount',
    run: (ds) => ds.createQueryBuilder(Customer, 'c').getCount(),
    expect: (c) => customers(c).length,
  },
  {
    name: 'query builder getManyAndCount',
    run: async (ds) => {
      const [rows, n] = await ds.createQueryBuilder(Invoice, 'i').orderBy('i.id').take(1).getManyAndCount();
      return [ids(rows), n];
    },
    expect: (c) => [
      invoices(c)
        .slice(0, 1)
        .map((i) => i.id),
      invoices(c).length,
    ],
  },
  {
    name: 'query builder stream',
    run: async (ds) => {
      const stream = await ds.createQueryBuilder(Customer, 'c').select('c.id', 'id').stream();
      const out: number[] = [];
      for await (const row of stream as AsyncIterable<{ id: number }>) out.push(row.id);
      return sortNum(out);
    },
    expect: (c) => customers(c),
  },
  {
    name: 'query builder sub-query',
    run: async (ds) => {
      const qb = ds.createQueryBuilder(Invoice, 'i');
      const sub = qb.subQuery().select('c.id').from(Customer, 'c').where("c.name LIKE 'G%'").getQuery();
      return ids(await qb.where(`i.customerId IN ${sub}`).getMany());
    },
    // the sub-query is scoped too: in tenant A no customer named G* is visible, so invoice 13 is not returned
    expect: (c) =>
      sortNum(
        invoices(c, (i) => [3, 4].includes(i.customer_id) && customerVisible(c, i.customer_id)).map(
          (i) => i.id,
        ),
      ),
  },
  {
    name: 'query builder leftJoinAndSelect to a foreign row',
    run: async (ds) =>
      (
        await ds
          .createQueryBuilder(Invoice, 'i')
          .leftJoinAndSelect('i.customer', 'c')
          .orderBy('i.id')
          .getMany()
      ).map((i) => [i.id, i.customer?.id ?? null]),
    expect: (c) => invoices(c).map((i) => [i.id, customerVisible(c, i.customer_id) ? i.customer_id : null]),
  },
  {
    name: 'query builder join from a shared (not tenant-aware) table',
    run: async (ds) =>
      (
        await ds
          .createQueryBuilder(Country, 'k')
          .innerJoinAndSelect('k.customers', 'c')
          .orderBy('k.id')
          .getMany()
      ).map((k) => [k.id, sortNum(k.customers.map((c) => c.id))]),
    expect: (c) =>
      SEED.country
        .map((k) => [k.id, customers(c, (r) => r.country_id === k.id)] as const)
        .filter(([, cs]) => cs.length > 0),
  },
  {
    name: 'query builder leftJoin by entity with a condition',
    run: async (ds) =>
      (
        await ds
          .createQueryBuilder(Invoice, 'i')
          .leftJoin(Customer, 'c', 'c.id = i.customerId')
          .select(['i.id AS iid', 'c.id AS cid'])
          .orderBy('i.id')
          .getRawMany<{ iid: number; cid: number | null }>()
      ).map((r) => [r.iid, r.cid]),
    expect: (c) => invoices(c).map((i) => [i.id, customerVisible(c, i.customer_id) ? i.customer_id : null]),
  },
  {
    name: 'query builder from a table name',
    run: async (ds) =>
      sortNum(
        (
          await ds
            .createQueryBuilder()
            .select('c.id', 'id')
            .from('customer', 'c')
            .getRawMany<{ id: number }>()
        ).map((r) => r.id),
      ),
    // TypeORM maps the table name to its entity, so the soft-delete filter applies as well
    expect: (c) => customers(c),
  },
  {
    name: 'find withDeleted',
    run: async (ds) => ids(await ds.getRepository(Customer).find({ withDeleted: true })),
    expect: (c) => customers(c, () => true, true),
  },
  {
    name: 'entity manager find',
    run: async (ds) => ids(await ds.manager.find(Customer, { where: { countryId: 2 } })),
    expect: (c) => customers(c, (r) => r.country_id === 2),
  },
  {
    name: 'dataSource.transaction',
    run: (ds) => ds.transaction(async (m) => ids(await m.find(Customer))),
    expect: (c) => customers(c),
  },
  {
    name: 'manager.transaction with query builder',
    run: (ds) => ds.manager.transaction((m) => m.createQueryBuilder(Invoice, 'i').getCount()),
    expect: (c) => invoices(c).length,
  },
  {
    name: 'explicit QueryRunner',
    run: async (ds) => {
      const qr = ds.createQueryRunner();
      await qr.connect();
      try {
        return ids(await qr.manager.find(Customer));
      } finally {
        await qr.release();
      }
    },
    expect: (c) => customers(c),
  },
];

/** A raw read: with RLS it is filtered by the database; without, it is refused inside a tenant context. */
const rawRead = {
  name: 'raw manager.query SELECT',
  run: async (ds: DataSource) =>
    sortNum((await ds.query('SELECT id FROM customer')).map((r: { id: number }) => r.id)),
  expect: (c: Ctx, rls: boolean): unknown => {
    if (rls) return c === 'none' ? [] : customers(c, () => true, true);
    if (c === 'none' || c === 'unscoped') return customers('unscoped', () => true, true);
    return RawSqlRefusedError;
  },
};

/** Writes: `observe` reads the table back as the superuser; `expect` gives the error (if any) and the state. */
interface WriteCase {
  name: string;
  run: (ds: DataSource) => Promise<unknown>;
  observe: string;
  expect: (ctx: Ctx, rls: boolean) => { error?: ErrorClass; state: unknown[] };
}

const customerRows = (
  change: (r: { id: number; tenant_id: string; name: string; deleted: boolean }) => unknown = (r) => r,
) =>
  SEED.customer
    .map((r) => change({ id: r.id, tenant_id: r.tenant_id, name: r.name, deleted: r.deleted }))
    .filter(Boolean);
const CUSTOMERS_SQL =
  'SELECT id, tenant_id, name, deleted_at IS NOT NULL AS deleted FROM customer ORDER BY id';
const INVOICES_SQL = 'SELECT id, tenant_id, amount FROM invoice ORDER BY id';
const invoiceRows = (change: (r: { id: number; tenant_id: string; amount: number }) => unknown = (r) => r) =>
  SEED.invoice.map((r) => change({ id: r.id, tenant_id: r.tenant_id, amount: r.amount })).filter(Boolean);
const unchanged = (error: ErrorClass) => ({ error, state: customerRows() });
const unchangedInvoices = (error: ErrorClass) => ({ error, state: invoiceRows() });
const withNew = (tenant: string | null, name = 'New', id = 100) =>
  tenant === null ? customerRows() : [...customerRows(), { id, tenant_id: tenant, name, deleted: false }];
/** Missing context, or several tenants for a write: the standard refusals. */
function refusal(
  ctx: Ctx,
  state: () => unknown[] = customerRows,
): { error: ErrorClass; state: unknown[] } | undefined {
  if (ctx === 'none') return { error: MissingTenantContextError, state: state() };
  if (ctx === 'both') return { error: AmbiguousTenantWriteError, state: state() };
  return undefined;
}
const ownTenant = (ctx: Ctx) => (ctx === 'A' ? A : B);

const writes: WriteCase[] = [
  {
    name: 'repository.save (insert) takes the tenant from context',
    run: (ds) => ds.getRepository(Customer).save({ id: 100, name: 'New', countryId: 1 }),
    observe: CUSTOMERS_SQL,
    expect: (c) =>
      refusal(c) ?? (c === 'unscoped' ? unchanged(QueryFailedError) : { state: withNew(ownTenant(c)) }),
  },
  {
    name: 'repository.save (insert) naming another tenant',
    run: (ds) => ds.getRepository(Customer).save({ id: 100, tenantId: B, name: 'New', countryId: 1 }),
    observe: CUSTOMERS_SQL,
    expect: (c) =>
      c === 'none'
        ? unchanged(MissingTenantContextError)
        : c === 'A'
          ? unchanged(CrossTenantAccessError)
          : { state: withNew(B) },
  },
  {
    name: 'repository.insert',
    run: (ds) => ds.getRepository(Customer).insert({ id: 100, name: 'New', countryId: 1 }),
    observe: CUSTOMERS_SQL,
    expect: (c) =>
      refusal(c) ?? (c === 'unscoped' ? unchanged(QueryFailedError) : { state: withNew(ownTenant(c)) }),
  },
  {
    name: 'repository.insert of several rows, one naming another tenant',
    run: (ds) =>
      ds.getRepository(Customer).insert([
        { id: 100, tenantId: A, name: 'New', countryId: 1 },
        { id: 101, tenantId: B, name: 'New', countryId: 1 },
      ]),
    observe: CUSTOMERS_SQL,
    expect: (c) =>
      c === 'none'
        ? unchanged(MissingTenantContextError)
        : c === 'A' || c === 'B'
          ? unchanged(CrossTenantAccessError)
          : { state: [...withNew(A), { id: 101, tenant_id: B, name: 'New', deleted: false }] },
  },
  {
    name: 'insert query builder',
    run: (ds) =>
      ds
        .createQueryBuilder()
        .insert()
        .into(Customer)
        .values({ id: 100, name: 'New', countryId: 1 })
        .execute(),
    observe: CUSTOMERS_SQL,
    expect: (c) =>
      refusal(c) ?? (c === 'unscoped' ? unchanged(QueryFailedError) : { state: withNew(ownTenant(c)) }),
  },
  {
    name: 'insert query builder with a SQL expression for the tenant',
    run: (ds) =>
      ds
        .createQueryBuilder()
        .insert()
        .into(Customer)
        .values({ id: 100, name: 'New', countryId: 1, tenantId: () => `'${B}'` })
        .execute(),
    observe: CUSTOMERS_SQL,
    expect: (c) =>
      c === 'none'
        ? unchanged(MissingTenantContextError)
        : c === 'unscoped'
          ? { state: withNew(B) }
          : unchanged(CrossTenantAccessError),
  },
  {
    name: 'repository.upsert onto a foreign row',
    run: (ds) => ds.getRepository(Customer).upsert({ id: 3, name: 'Hijack', countryId: 1 }, ['id']),
    observe: CUSTOMERS_SQL,
    expect: (c, rls) => {
      const refused = refusal(c);
      if (refused) return refused;
      const hijacked = customerRows((r) => (r.id === 3 ? { ...r, name: 'Hijack' } : r));
      if (c === 'B') return { state: hijacked };
      // unscoped: the proposed row has no tenant, which PostgreSQL refuses before resolving the conflict
      if (c === 'unscoped') return unchanged(QueryFailedError);
      // tenant A: the conflict is on globex's row, which ON CONFLICT ... WHERE leaves untouched. With RLS on,
      // PostgreSQL before 18 raises on the hidden conflicting row; 18 skips it. Either way nothing changes.
      return rls && serverMajor < 18 ? unchanged(QueryFailedError) : { state: customerRows() };
    },
  },
  {
    name: 'repository.update',
    run: (ds) => ds.getRepository(Customer).update({ countryId: 1 }, { name: 'Upd' }),
    observe: CUSTOMERS_SQL,
    expect: (c) =>
      refusal(c) ?? {
        state: customerRows((r) =>
          sees(c, r.tenant_id) && SEED.customer.find((s) => s.id === r.id)!.country_id === 1
            ? { ...r, name: 'Upd' }
            : r,
        ),
      },
  },
  {
    name: 'repository.update changing the tenant column',
    run: (ds) => ds.getRepository(Customer).update({ id: 1 }, { tenantId: B }),
    observe: CUSTOMERS_SQL,
    expect: (c) => {
      if (c === 'none') return unchanged(MissingTenantContextError);
      if (c === 'both') return unchanged(AmbiguousTenantWriteError);
      // in B, setting the column to B is a no-op that cannot reach acme's row 1
      if (c === 'B') return { state: customerRows() };
      return unchanged(CrossTenantAccessError);
    },
  },
  {
    name: 'repository.save of a loaded row with its tenant changed',
    run: async (ds) => {
      const repo = ds.getRepository(Customer);
      const row = repo.create({ id: 1, tenantId: B, name: 'Ann', countryId: 1 });
      return repo.save(row);
    },
    observe: CUSTOMERS_SQL,
    expect: (c) => {
      if (c === 'none') return unchanged(MissingTenantContextError);
      // B cannot see row 1, so save() inserts it and the primary key refuses the duplicate
      if (c === 'B') return unchanged(QueryFailedError);
      if (c === 'both') return unchanged(AmbiguousTenantWriteError);
      return unchanged(CrossTenantAccessError);
    },
  },
  {
    name: 'repository.delete',
    run: (ds) => ds.getRepository(Customer).delete({ countryId: 2 }),
    observe: CUSTOMERS_SQL,
    expect: (c) =>
      refusal(c) ?? {
        state: customerRows((r) =>
          sees(c, r.tenant_id) && SEED.customer.find((s) => s.id === r.id)!.country_id === 2 ? null : r,
        ),
      },
  },
  {
    name: 'repository.softDelete',
    run: (ds) => ds.getRepository(Customer).softDelete({ countryId: 1 }),
    observe: CUSTOMERS_SQL,
    expect: (c) =>
      refusal(c) ?? {
        state: customerRows((r) =>
          sees(c, r.tenant_id) && SEED.customer.find((s) => s.id === r.id)!.country_id === 1
            ? { ...r, deleted: true }
            : r,
        ),
      },
  },
  {
    name: 'repository.restore',
    run: (ds) => ds.getRepository(Customer).restore({ countryId: 1 }),
    observe: CUSTOMERS_SQL,
    expect: (c) =>
      refusal(c) ?? {
        state: customerRows((r) =>
          sees(c, r.tenant_id) && SEED.customer.find((s) => s.id === r.id)!.country_id === 1
            ? { ...r, deleted: false }
            : r,
        ),
      },
  },
  {
    name: 'repository.increment',
    run: (ds) => ds.getRepository(Invoice).increment({ customerId: 3 }, 'amount', 1),
    observe: INVOICES_SQL,
    expect: (c) =>
      refusal(c, invoiceRows) ?? {
        state: invoiceRows((r) =>
          sees(c, r.tenant_id) && SEED.invoice.find((s) => s.id === r.id)!.customer_id === 3
            ? { ...r, amount: r.amount + 1 }
            : r,
        ),
      },
  },
  {
    name: 'repository.decrement',
    run: (ds) => ds.getRepository(Invoice).decrement({ customerId: 3 }, 'amount', 1),
    observe: INVOICES_SQL,
    expect: (c) =>
      refusal(c, invoiceRows) ?? {
        state: invoiceRows((r) =>
          sees(c, r.tenant_id) && SEED.invoice.find((s) => s.id === r.id)!.customer_id === 3
            ? { ...r, amount: r.amount - 1 }
            : r,
        ),
      },
  },
  {
    name: 'repository.remove of a foreign entity',
    run: (ds) =>
      ds
        .getRepository(Customer)
        .remove(ds.getRepository(Customer).create({ id: 3, tenantId: B, name: 'Gus' })),
    observe: CUSTOMERS_SQL,
    expect: (c) =>
      refusal(c) ?? { state: customerRows((r) => (r.id === 3 && sees(c, tenantOfCustomer(3)) ? null : r)) },
  },
  {
    name: 'repository.softRemove of a foreign entity',
    run: (ds) =>
      ds
        .getRepository(Customer)
        .softRemove(ds.getRepository(Customer).create({ id: 3, tenantId: B, name: 'Gus' })),
    observe: CUSTOMERS_SQL,
    expect: (c) =>
      refusal(c) ?? {
        state: customerRows((r) =>
          r.id === 3 && sees(c, tenantOfCustomer(3)) ? { ...r, deleted: true } : r,
        ),
      },
  },
  {
    name: 'update query builder',
    run: (ds) =>
      ds.createQueryBuilder().update(Invoice).set({ amount: 0 }).where('amount > :a', { a: 150 }).execute(),
    observe: INVOICES_SQL,
    expect: (c) =>
      refusal(c, invoiceRows) ?? {
        state: invoiceRows((r) => (sees(c, r.tenant_id) && r.amount > 150 ? { ...r, amount: 0 } : r)),
      },
  },
  {
    name: 'delete query builder',
    run: (ds) => ds.createQueryBuilder().delete().from(Invoice).where('amount > :a', { a: 150 }).execute(),
    observe: INVOICES_SQL,
    expect: (c) =>
      refusal(c, invoiceRows) ?? {
        state: invoiceRows((r) => (sees(c, r.tenant_id) && r.amount > 150 ? null : r)),
      },
  },
  {
    name: 'soft-delete query builder',
    run: (ds) =>
      ds.createQueryBuilder(Customer, 'c').softDelete().where('country_id = :k', { k: 2 }).execute(),
    observe: CUSTOMERS_SQL,
    expect: (c) =>
      refusal(c) ?? {
        state: customerRows((r) =>
          sees(c, r.tenant_id) && SEED.customer.find((s) => s.id === r.id)!.country_id === 2
            ? { ...r, deleted: true }
            : r,
        ),
      },
  },
  {
    name: 'update inside dataSource.transaction',
    run: (ds) => ds.transaction((m) => m.update(Invoice, { customerId: 3 }, { amount: 7 })),
    observe: INVOICES_SQL,
    expect: (c) =>
      refusal(c, invoiceRows) ?? {
        state: invoiceRows((r) =>
          sees(c, r.tenant_id) && SEED.invoice.find((s) => s.id === r.id)!.customer_id === 3
            ? { ...r, amount: 7 }
            : r,
        ),
      },
  },
];

/** A raw write: scoped by RLS, refused without it inside a tenant context. */
const rawWrite: WriteCase = {
  name: 'raw manager.query UPDATE',
  run: (ds) => ds.query('UPDATE invoice SET amount = 0'),
  observe: INVOICES_SQL,
  expect: (c, rls) => {
    const zeroed = (pred: (t: string) => boolean) =>
      invoiceRows((r) => (pred(r.tenant_id) ? { ...r, amount: 0 } : r));
    if (rls) return { state: zeroed((t) => sees(c, t)) };
    if (c === 'none' || c === 'unscoped') return { state: zeroed(() => true) };
    return unchangedInvoices(RawSqlRefusedError);
  },
};

function ids(rows: { id: number }[]): number[] {
  return sortNum(rows.map((r) => r.id));
}
function total(xs: number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) : null;
}
function round(x: number | null | undefined): number | null {
  return x === null || x === undefined ? null : Math.round(Number(x) * 100) / 100;
}

async function outcome(fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { value: await fn() };
  } catch (error) {
    return { error: (error as Error).constructor as ErrorClass };
  }
}

function expected(e: unknown): Outcome {
  return typeof e === 'function' && (e as { prototype?: unknown }).prototype instanceof Error
    ? { error: e as ErrorClass }
    : { value: e };
}

describe.each([
  ['RLS backstop on', true],
  ['RLS backstop off', false],
])('leak matrix, %s', (_label, rls) => {
  let db: TestDatabase;
  let ds: DataSource;
  let tenancy: TenancyService;

  beforeAll(async () => {
    db = await createTestDatabase('leak');
    serverMajor = Math.floor(
      Number(
        (await adminQuery<{ v: string }>(db, "SELECT current_setting('server_version_num') AS v"))[0].v,
      ) / 10000,
    );
    await createSchema(db, rls);
    tenancy = createTenancy({ rls });
    ds = await appDataSource(db, tenancy, rls);
    await reseed(db);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('covers at least 40 distinct paths', () => {
    expect(reads.length + writes.length + 2).toBeGreaterThanOrEqual(40);
  });

  describe.each(CONTEXTS)('context %s', (ctx) => {
    beforeAll(() => reseed(db));

    it.each(reads.map((r) => [r.name, r] as const))('read: %s', async (_name, c) => {
      const got = await outcome(() => within(tenancy, ctx, () => c.run(ds)));
      expect(got).toEqual(ctx === 'none' ? { error: MissingTenantContextError } : expected(c.expect(ctx)));
    });

    it('read: raw manager.query SELECT', async () => {
      const got = await outcome(() => within(tenancy, ctx, () => rawRead.run(ds)));
      expect(got).toEqual(expected(rawRead.expect(ctx, rls)));
    });

    it.each([...writes, rawWrite].map((w) => [w.name, w] as const))('write: %s', async (_name, w) => {
      await reseed(db);
      const got = await outcome(() => within(tenancy, ctx, () => w.run(ds)));
      const want = w.expect(ctx, rls);
      const state = await adminQuery(db, w.observe);
      expect({ error: 'error' in got ? got.error : undefined, state }).toEqual({
        error: want.error,
        state: want.state,
      });
    });
  });
});
