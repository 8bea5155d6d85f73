import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import {
  Column,
  DataSource,
  DeleteDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  OneToMany,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { applyRlsPolicies, TenancyModule, TenancyService, TenantAware } from '@bulkhead/tenancy';
import {
  applyAuditSchema,
  AuditIgnore,
  AuditModule,
  AuditRedact,
  AuditSealer,
  AuditService,
  NotAudited,
  type AuditSink,
} from '@bulkhead/audit';
import { APP_ROLE, type TestDatabase } from '../db/test-database';

@TenantAware()
@Entity('account')
export class Account {
  @PrimaryGeneratedColumn() id: number;
  @Column({ name: 'tenant_id' }) tenantId: string;
  @Column() name: string;
  @Column({ type: 'int', default: 0 }) balance: number;
  @AuditRedact() @Column({ type: 'text', nullable: true }) secret: string | null;
  @AuditIgnore() @Column({ type: 'int', name: 'cached_score', default: 0 }) cachedScore: number;
  @DeleteDateColumn({ name: 'deleted_at', nullable: true }) deletedAt: Date | null;
  @OneToMany(() => AccountNote, (n) => n.account, { cascade: true }) notes: AccountNote[];
}

@TenantAware()
@Entity('account_note')
export class AccountNote {
  @PrimaryColumn({ name: 'account_id' }) accountId: number;
  @PrimaryColumn({ name: 'line_no' }) lineNo: number;
  @Column({ name: 'tenant_id' }) tenantId: string;
  @Column() body: string;
  @ManyToOne(() => Account, (a) => a.notes, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'account_id' })
  account: Account;
}

@NotAudited()
@Entity('scratch')
export class Scratch {
  @PrimaryGeneratedColumn() id: number;
  @Column() value: string;
}

export const AUDIT_ENTITIES = [Account, AccountNote, Scratch];

/** Tables, RLS policies and the audit schema, installed by the superuser; the app role only reads audit rows. */
export async function installAuditSchema(db: TestDatabase): Promise<void> {
  const admin = new DataSource({
    type: 'postgres',
    url: db.adminUrl,
    entities: AUDIT_ENTITIES,
    synchronize: true,
  });
  await admin.initialize();
  try {
    await applyRlsPolicies(admin);
    await applyAuditSchema(admin, { appRole: APP_ROLE, rls: true });
  } finally {
    await admin.destroy();
  }
}

export interface AuditApp {
  context: INestApplicationContext;
  dataSource: DataSource;
  tenancy: TenancyService;
  audit: AuditService;
  sealer: AuditSealer;
}

/** A Nest application context with TypeORM (as the app role), TenancyModule with RLS and AuditModule. */
export async function startAuditApp(
  db: TestDatabase,
  options: { sinks?: AuditSink[]; sealer?: boolean; poolSize?: number } = {},
): Promise<AuditApp> {
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        type: 'postgres',
        url: db.appUrl,
        entities: AUDIT_ENTITIES,
        poolSize: options.poolSize ?? 4,
      }),
      TenancyModule.forRoot({ acceptAnyTenant: true, rls: true }),
      AuditModule.forRoot({ sinks: options.sinks, sealer: options.sealer ?? false, sealIntervalMs: 20 }),
    ],
  })
  class AuditTestModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AuditTestModule] }).compile();
  const context = await moduleRef.init();
  return {
    context,
    dataSource: context.get<DataSource>(getDataSourceToken()),
    tenancy: context.get(TenancyService),
    audit: context.get(AuditService),
    sealer: context.get(AuditSealer),
  };
}
