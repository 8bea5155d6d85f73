import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, ModuleRef } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  fromHeader,
  fromJwt,
  InvalidTenantTokenError,
  TenancyModule,
  type TenantValidationInput,
} from '@bulkhead/tenancy';
import { AuditModule } from '@bulkhead/audit';
import { RulesMembership, RulesModule, RulesService } from '@bulkhead/rules';
import { AuditController } from './audit/audit.controller';
import { AuditExceptionFilter } from './audit/audit-exception.filter';
import { AuditUiController } from './audit/audit-ui.controller';
import { AuthController } from './auth/auth.controller';
import { AuthService } from './auth/auth.service';
import { Invoice, SAMPLE_ENTITIES, User } from './entities';
import { HealthController } from './health/health.controller';
import { InvoicesController } from './invoices/invoices.controller';
import { InvoicesService } from './invoices/invoices.service';
import { MembersController } from './members/members.controller';
import { MembersService } from './members/members.service';
import { samplePolicy } from './policy/sample.policy';
import { SAMPLE_OPTIONS, type SampleOptions } from './sample.constants';

/**
 * Membership check of TenancyModule: the token's user must hold a role in the tenant it names (its `tid`, or
 * the `X-Tenant-ID` header). The rules store is the one source of memberships, read through the rules cache,
 * so a revoked member is refused on the next request.
 */
function validateMembership(moduleRef: ModuleRef) {
  return async ({ tenantId, actor }: TenantValidationInput) => {
    // a tenant header alone authenticates nobody
    if (!actor) throw new InvalidTenantTokenError('a bearer token is required');
    const rules = moduleRef.get(RulesService, { strict: false });
    return (await rules.hasRole(actor, 'viewer', { tenantId })) ? 'allow' : 'not-member';
  };
}

/** The multi-tenant invoicing API: TenancyModule (RLS on), AuditModule and RulesModule, used as an app would. */
@Module({})
export class SampleModule {
  static forRoot(options: SampleOptions): DynamicModule {
    return {
      module: SampleModule,
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: options.databaseUrl,
          entities: SAMPLE_ENTITIES,
          poolSize: options.poolSize ?? 10,
          installExtensions: false,
        }),
        TypeOrmModule.forFeature([Invoice, User, RulesMembership]),
        TenancyModule.forRootAsync({
          inject: [ModuleRef],
          useFactory: (moduleRef: ModuleRef) => ({
            strategies: [fromHeader('X-Tenant-ID'), fromJwt({ secret: options.jwtSecret, claim: 'tid' })],
            validateTenant: validateMembership(moduleRef),
            rls: true,
          }),
        }),
        AuditModule.forRoot({ sealIntervalMs: options.sealIntervalMs ?? 100 }),
        RulesModule.forRoot({ ...samplePolicy(), cache: options.rulesCache ?? false }),
      ],
      controllers: [
        HealthController,
        AuthController,
        InvoicesController,
        AuditController,
        MembersController,
        AuditUiController,
      ],
      providers: [
        { provide: SAMPLE_OPTIONS, useValue: options },
        { provide: APP_FILTER, useClass: AuditExceptionFilter },
        AuthService,
        InvoicesService,
        MembersService,
      ],
    };
  }
}
