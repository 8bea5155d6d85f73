import { Inject, Module, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { TenancyService } from '@bulkhead/tenancy';
import { ACTOR_ID_SETTING, ACTOR_TYPE_SETTING, CORRELATION_ID_SETTING } from './audit.constants';
import { AUDIT_DATA_SOURCE } from './audit.internal-constants';
import {
  AUDIT_ASYNC_OPTIONS_TYPE,
  AUDIT_MODULE_OPTIONS,
  AUDIT_OPTIONS_TYPE,
  AuditConfigurableModule,
} from './audit.module-definition';
import type { AuditModuleOptions } from './audit-options.interface';
import { AuditService } from './audit.service';
import { labelWritePaths } from './capture/audit-path.hook';
import { AuditNotInstalledError } from './errors/audit.errors';
import { auditedTables } from './schema/audit-schema';
import { AuditSealer } from './sealing/audit-sealer';

/**
 * A complete, atomic, tamper-evident history of every mutation: capture triggers record each changed row in
 * the writing transaction (ORM, bulk query builder, raw SQL and other clients alike), attributed to the
 * tenancy context's actor; a sealer chains the entries per tenant with SHA-256. Needs TenancyModule.
 *
 * ```ts
 * AuditModule.forRoot({ sinks: [new MyBrokerSink()] })
 * // once, in a migration run by the table owner:
 * await applyAuditSchema(queryRunner, { appRole: 'app', rls: true });
 * ```
 */
@Module({
  providers: [
    {
      provide: AUDIT_DATA_SOURCE,
      useFactory: (options: AuditModuleOptions, moduleRef: ModuleRef, defaultDataSource?: DataSource) => {
        if (typeof options.dataSource === 'object') return options.dataSource;
        if (!options.dataSource || options.dataSource === 'default') return defaultDataSource;
        return moduleRef.get<DataSource>(getDataSourceToken(options.dataSource), { strict: false });
      },
      inject: [AUDIT_MODULE_OPTIONS, ModuleRef, { token: getDataSourceToken(), optional: true }],
    },
    AuditService,
    AuditSealer,
  ],
  exports: [AuditService, AuditSealer],
})
export class AuditModule extends AuditConfigurableModule implements OnModuleInit {
  constructor(
    @Inject(AUDIT_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(AUDIT_MODULE_OPTIONS) private readonly options: AuditModuleOptions,
    private readonly tenancy: TenancyService,
  ) {
    super();
  }

  static override forRoot(options: typeof AUDIT_OPTIONS_TYPE) {
    return super.forRoot(options);
  }

  static override forRootAsync(options: typeof AUDIT_ASYNC_OPTIONS_TYPE) {
    return super.forRootAsync(options);
  }

  async onModuleInit(): Promise<void> {
    registerAuditSettings(this.tenancy);
    labelWritePaths(this.dataSource);
    if (this.options.checkSchema !== false) await checkAuditSchema(this.dataSource);
  }
}

/**
 * Makes the tenancy layer bind the actor and correlation id on the connection before every write, where
 * the capture triggers read them. AuditModule does this itself; call it in scripts that use
 * `createTenancyService()` without Nest.
 */
export function registerAuditSettings(tenancy: TenancyService): void {
  tenancy.addConnectionSetting({ name: ACTOR_ID_SETTING, value: (c) => c?.actor?.id ?? '' });
  tenancy.addConnectionSetting({ name: ACTOR_TYPE_SETTING, value: (c) => c?.actor?.type ?? '' });
  tenancy.addConnectionSetting({ name: CORRELATION_ID_SETTING, value: (c) => c?.correlationId ?? '' });
}

/**
 * An AuditService for code that runs without Nest (scripts, workers): binds the actor settings on the
 * tenancy layer, labels write paths, and checks the schema. `tenancy` must already be attached to `dataSource`.
 */
export async function createAuditService(
  dataSource: DataSource,
  tenancy: TenancyService,
): Promise<AuditService> {
  registerAuditSettings(tenancy);
  labelWritePaths(dataSource);
  await checkAuditSchema(dataSource);
  return new AuditService(dataSource, tenancy);
}

/** Refuses to start when the audit schema or a capture trigger is missing. */
export async function checkAuditSchema(dataSource: DataSource): Promise<void> {
  const missing: string[] = [];
  const [fn] = (await dataSource.query(
    "SELECT count(*)::int AS n FROM pg_proc WHERE proname IN ('bulkhead_audit_seal', 'bulkhead_audit_canonical', 'bulkhead_audit_pending', 'bulkhead_audit_record')",
  )) as { n: number }[];
  if (fn.n < 4) missing.push('audit tables and functions');
  for (const t of auditedTables(dataSource)) {
    const [row] = (await dataSource.query(
      `SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname LIKE 'bulkhead_audit_%'`,
      [t.table],
    )) as { n: number }[];
    if (row.n < 3) missing.push(`capture triggers on ${t.table}`);
  }
  if (missing.length) throw new AuditNotInstalledError(missing);
}
