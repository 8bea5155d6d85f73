import 'reflect-metadata';
import {
  Column,
  DataSource,
  DeleteDateColumn,
  Entity,
  JoinColumn,
  JoinTable,
  ManyToMany,
  ManyToOne,
  OneToMany,
  PrimaryColumn,
} from 'typeorm';
import {
  applyRlsPolicies,
  createTenancyService,
  TenancyService,
  TenantAware,
  type TenancyModuleOptions,
} from '@bulkhead/tenancy';
import { adminQuery, type TestDatabase } from '../db/test-database';

@Entity('country')
export class Country {
  @PrimaryColumn() id: number;
  @Column() code: string;
  @OneToMany(() => Customer, (c) => c.country) customers: Customer[];
}

@TenantAware()
@Entity('customer')
export class Customer {
  @PrimaryColumn() id: number;
  @Column({ name: 'tenant_id' }) tenantId: string;
  @Column() name: string;
  @Column({ name: 'country_id', nullable: true }) countryId: number | null;
  @ManyToOne(() => Country, (c) => c.customers, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'country_id' })
  country: Country;
  @OneToMany(() => Invoice, (i) => i.customer) invoices: Invoice[];
  @DeleteDateColumn({ name: 'deleted_at', nullable: true }) deletedAt: Date | null;
}

@TenantAware()
@Entity('tag')
export class Tag {
  @PrimaryColumn() id: number;
  @Column({ name: 'tenant_id' }) tenantId: string;
  @Column() label: string;
}

@TenantAware()
@Entity('invoice')
export class Invoice {
  @PrimaryColumn() id: number;
  @Column({ name: 'tenant_id' }) tenantId: string;
  @Column() amount: number;
  @Column({ name: 'customer_id', nullable: true }) customerId: number | null;
  @ManyToOne(() => Customer, (c) => c.invoices, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'customer_id' })
  customer: Customer;
  @ManyToMany(() => Tag, { createForeignKeyConstraints: false })
  @JoinTable({
    name: 'invoice_tag',
    joinColumn: { name: 'invoice_id' },
    inverseJoinColumn: { name: 'tag_id' },
  })
  tags: Tag[];
}

@TenantAware({ column: 'owner' })
@Entity('note')
export class Note {
  @PrimaryColumn() id: number;
  @Column() owner: string;
  @Column() body: string;
  @ManyToOne(() => Customer, { eager: true, nullable: true, createForeignKeyConstraints: false })
  @JoinColumn({ name: 'customer_id' })
  customer: Customer | null;
  @ManyToOne(() => Invoice, { lazy: true, nullable: true, createForeignKeyConstraints: false })
  @JoinColumn({ name: 'invoice_id' })
  invoice: Promise<Invoice | null>;
}

export const ENTITIES = [Country, Customer, Tag, Invoice, Note];
export const A = 'acme';
export const B = 'globex';

/** The seed, as rows; expected results are derived from it by tenant. */
export const SEED = {
  country: [
    { id: 1, code: 'NL' },
    { id: 2, code: 'DE' },
  ],
  customer: [
    { id: 1, tenant_id: A, name: 'Ann', country_id: 1, deleted: false },
    { id: 2, tenant_id: A, name: 'Abe', country_id: 2, deleted: false },
    { id: 3, tenant_id: B, name: 'Gus', country_id: 1, deleted: false },
    { id: 4, tenant_id: B, name: 'Gil', country_id: 2, deleted: false },
    { id: 5, tenant_id: A, name: 'Old', country_id: 1, deleted: true },
  ],
  // invoice 13 (acme) points at globex's customer 3: bad data that a join must never reveal (no foreign keys, so
  // the seed can hold such links and deletes are not blocked by them)
  invoice: [
    { id: 10, tenant_id: A, amount: 100, customer_id: 1 },
    { id: 11, tenant_id: A, amount: 200, customer_id: 2 },
    { id: 12, tenant_id: B, amount: 300, customer_id: 3 },
    { id: 13, tenant_id: A, amount: 400, customer_id: 3 },
    { id: 14, tenant_id: B, amount: 500, customer_id: 4 },
  ],
  tag: [
    { id: 20, tenant_id: A, label: 'urgent' },
    { id: 21, tenant_id: B, label: 'vip' },
  ],
  invoice_tag: [
    { invoice_id: 10, tag_id: 20 },
    { invoice_id: 10, tag_id: 21 },
    { invoice_id: 12, tag_id: 21 },
  ],
  note: [
    { id: 30, owner: A, body: 'a-note', customer_id: 3, invoice_id: 12 },
    { id: 31, owner: B, body: 'b-note', customer_id: 3, invoice_id: 12 },
  ],
};

/** Creates the schema as the superuser, optionally with the RLS backstop, and grants the app role. */
export async function createSchema(db: TestDatabase, rls: boolean): Promise<void> {
  const admin = new DataSource({ type: 'postgres', url: db.adminUrl, entities: ENTITIES, synchronize: true });
  await admin.initialize();
  try {
    if (rls) await applyRlsPolicies(admin);
  } finally {
    await admin.destroy();
  }
}

/** Truncates and re-inserts the seed as the superuser (bypassing RLS). */
export async function reseed(db: TestDatabase): Promise<void> {
  const s = SEED;
  const sql = [
    'TRUNCATE note, invoice_tag, invoice, tag, customer, country',
    `INSERT INTO country (id, code) VALUES ${s.country.map((r) => `(${r.id}, '${r.code}')`).join(',')}`,
    `INSERT INTO customer (id, tenant_id, name, country_id, deleted_at) VALUES ${s.customer
      .map(
        (r) => `(${r.id}, '${r.tenant_id}', '${r.name}', ${r.country_id}, ${r.deleted ? 'now()' : 'NULL'})`,
      )
      .join(',')}`,
    `INSERT INTO invoice (id, tenant_id, amount, customer_id) VALUES ${s.invoice
      .map((r) => `(${r.id}, '${r.tenant_id}', ${r.amount}, ${r.customer_id})`)
      .join(',')}`,
    `INSERT INTO tag (id, tenant_id, label) VALUES ${s.tag.map((r) => `(${r.id}, '${r.tenant_id}', '${r.label}')`).join(',')}`,
    `INSERT INTO invoice_tag (invoice_id, tag_id) VALUES ${s.invoice_tag.map((r) => `(${r.invoice_id}, ${r.tag_id})`).join(',')}`,
    `INSERT INTO note (id, owner, body, customer_id, invoice_id) VALUES ${s.note
      .map((r) => `(${r.id}, '${r.owner}', '${r.body}', ${r.customer_id}, ${r.invoice_id})`)
      .join(',')}`,
  ];
  await adminQuery(db, sql.join(';\n'));
}

/** A TenancyService wired as TenancyModule wires it, for tests that need no HTTP layer. */
export function createTenancy(options: TenancyModuleOptions = {}): TenancyService {
  return createTenancyService({ acceptAnyTenant: true, ...options });
}

/** An application DataSource (non-superuser role for RLS, superuser otherwise) attached to `tenancy`. */
export async function appDataSource(
  db: TestDatabase,
  tenancy: TenancyService,
  rls: boolean,
  poolSize = 4,
): Promise<DataSource> {
  const ds = new DataSource({
    type: 'postgres',
    url: rls ? db.appUrl : db.adminUrl,
    entities: ENTITIES,
    poolSize,
  });
  await ds.initialize();
  await tenancy.attach(ds);
  return ds;
}
