import 'reflect-metadata';
import {
  Controller,
  Get,
  INestApplication,
  Injectable,
  Module,
  NotFoundException,
  Param,
  Post,
  type ModuleMetadata,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { SignJWT } from 'jose';
import { Column, DataSource, Entity, PrimaryColumn, Repository } from 'typeorm';
import {
  applyRlsPolicies,
  fromHeader,
  fromJwt,
  NoTenant,
  TenancyModule,
  TenantAware,
} from '@bulkhead/tenancy';
import {
  Public,
  RequirePermission,
  RequireRole,
  RULES_ENTITIES,
  RulesModule,
  RulesService,
  type RulesModuleOptions,
} from '@bulkhead/rules';
import type { TestDatabase } from '../db/test-database';

export const JWT_SECRET = 'rules-test-secret-rules-test-secret!';

@TenantAware()
@Entity('invoice')
export class Invoice {
  @PrimaryColumn() id: number;
  @Column({ name: 'tenant_id' }) tenantId: string;
  @Column({ type: 'integer' }) amount: number;
  @Column({ name: 'created_by' }) createdBy: string;
  @Column({ type: 'varchar', nullable: true }) status: string | null;
}

@TenantAware()
@Entity('organization')
export class Organization {
  @PrimaryColumn() id: string;
  @Column({ name: 'tenant_id' }) tenantId: string;
}

@TenantAware()
@Entity('project')
export class Project {
  @PrimaryColumn() id: string;
  @Column({ name: 'tenant_id' }) tenantId: string;
  @Column({ name: 'organization_id' }) organizationId: string;
}

@TenantAware()
@Entity('document')
export class Document {
  @PrimaryColumn() id: string;
  @Column({ name: 'tenant_id' }) tenantId: string;
  @Column({ name: 'project_id' }) projectId: string;
  @Column({ default: false }) archived: boolean;
}

export const APP_ENTITIES = [Invoice, Organization, Project, Document, ...RULES_ENTITIES];

/** The policy of every rules test: owner > admin > member > viewer, an auditor role, and a few rules. */
export function testPolicy(): RulesModuleOptions {
  return {
    roles: {
      viewer: { permissions: ['invoice:read', 'document:read'] },
      member: { includes: ['viewer'], permissions: ['invoice:create', 'document:edit'] },
      admin: { includes: ['member'], permissions: ['invoice:*'] },
      owner: { includes: ['admin'], permissions: ['*'] },
      auditor: {},
    },
    permissions: [
      'invoice:read',
      'invoice:create',
      'invoice:approve',
      'invoice:delete',
      'document:read',
      'document:edit',
      'project:read',
      'organization:read',
      'report:export',
    ],
    resources: {
      organization: { entity: Organization },
      project: { parent: 'organization', parentField: 'organizationId', entity: Project },
      document: { parent: 'project', parentField: 'projectId', entity: Document },
    },
    rules: [
      {
        id: 'deny-huge-approvals',
        effect: 'deny',
        actions: ['invoice:approve'],
        conditions: 'resource.amount > 1000000',
        priority: 1,
      },
      {
        id: 'allow-own-approve',
        effect: 'allow',
        actions: ['approve'],
        resourceType: 'invoice',
        conditions: ['resource.createdBy == principal.id'],
        priority: 100,
        bind: { type: 'role', role: 'member' },
      },
      {
        id: 'auditor-read',
        effect: 'allow',
        actions: ['invoice:read'],
        bind: { type: 'role', role: 'auditor' },
      },
      {
        id: 'public-invoices',
        effect: 'allow',
        actions: ['invoice:read'],
        conditions: "resource.status in ['public']",
      },
      { id: 'deny-archived-docs', effect: 'deny', actions: ['document:*'], conditions: 'resource.archived' },
      {
        id: 't2-export',
        effect: 'allow',
        actions: ['report:export'],
        bind: { type: 'tenant', tenantId: 't2' },
      },
      {
        id: 'carol-export',
        effect: 'allow',
        actions: ['report:export'],
        bind: { type: 'principal', principalId: 'carol' },
      },
      {
        id: 'deny-delete-from-bad-ip',
        effect: 'deny',
        actions: ['invoice:delete'],
        conditions: "context.ip == '10.0.0.66'",
      },
      // deny listed first, allow with a high priority, deny listed last with a lower priority
      {
        id: 'proj-deny-first',
        effect: 'deny',
        actions: ['project:read'],
        conditions: "principal.id == 'bob'",
      },
      { id: 'proj-allow', effect: 'allow', actions: ['project:read'], priority: 50 },
      {
        id: 'proj-deny-last',
        effect: 'deny',
        actions: ['project:read'],
        conditions: "principal.id == 'carol'",
        priority: -10,
      },
      {
        id: 'org-deny-a',
        effect: 'deny',
        actions: ['organization:read'],
        conditions: "principal.type == 'service'",
        priority: 5,
      },
      {
        id: 'org-deny-b',
        effect: 'deny',
        actions: ['organization:*'],
        conditions: "principal.type == 'service'",
        priority: 10,
      },
      { id: 'org-allow', effect: 'allow', actions: ['organization:read'], priority: 1000 },
    ],
  };
}

/** Creates the tables (as the superuser) with their RLS policies, and the resource hierarchy rows. */
export async function createRulesSchema(db: TestDatabase): Promise<void> {
  const admin = new DataSource({
    type: 'postgres',
    url: db.adminUrl,
    entities: APP_ENTITIES,
    synchronize: true,
  });
  await admin.initialize();
  try {
    await applyRlsPolicies(admin);
    await admin.query(`INSERT INTO organization (id, tenant_id) VALUES ('o1', 't1'), ('o2', 't1')`);
    await admin.query(
      `INSERT INTO project (id, tenant_id, organization_id) VALUES ('p1', 't1', 'o1'), ('p2', 't1', 'o1'), ('p3', 't1', 'o2')`,
    );
    await admin.query(
      `INSERT INTO document (id, tenant_id, project_id, archived) VALUES
         ('d1', 't1', 'p1', false), ('d2', 't1', 'p1', true), ('d3', 't1', 'p2', false), ('d4', 't1', 'p3', false)`,
    );
  } finally {
    await admin.destroy();
  }
}

@Injectable()
class InvoiceService {
  constructor(
    @InjectRepository(Invoice) private readonly invoices: Repository<Invoice>,
    private readonly rules: RulesService,
  ) {}

  async approve(id: number): Promise<{ approved: number }> {
    const invoice = await this.invoices.findOneBy({ id });
    if (!invoice) throw new NotFoundException();
    await this.rules.authorize('invoice:approve', invoice);
    return { approved: id };
  }
}

@Controller()
class RulesTestController {
  constructor(private readonly service: InvoiceService) {}

  @Get('health')
  @Public()
  @NoTenant()
  health() {
    return { ok: true };
  }

  @Get('open')
  open() {
    return { ok: true };
  }

  @Get('invoices')
  @RequirePermission('invoice:read')
  list() {
    return { ok: 'list' };
  }

  @Post('invoices')
  @RequirePermission('invoice:create')
  create() {
    return { ok: 'create' };
  }

  @Post('invoices/:id/approve')
  @RequirePermission('invoice:read')
  approve(@Param('id') id: string) {
    return this.service.approve(Number(id));
  }

  @Get('admin')
  @RequireRole('admin')
  admin() {
    return { ok: 'admin' };
  }
}

@Controller('settings')
@RequireRole('owner')
class SettingsController {
  @Get()
  get() {
    return { ok: 'settings' };
  }

  @Get('public')
  @Public()
  open() {
    return { ok: 'public' };
  }

  @Get('members')
  @RequireRole(['member', 'auditor'])
  members() {
    return { ok: 'members' };
  }
}

export interface RulesAppOptions {
  platform: 'express' | 'fastify';
  db: TestDatabase;
  rules?: Partial<RulesModuleOptions>;
  /** Import RulesModule before TenancyModule (its global guard may then be registered first). */
  rulesFirst?: boolean;
  listen?: boolean;
}

/** Boots the test app (TypeORM + TenancyModule with RLS + RulesModule). */
export async function startRulesApp(
  options: RulesAppOptions,
): Promise<{ app: INestApplication; url: string }> {
  const tenancy = TenancyModule.forRoot({
    strategies: [fromHeader(), fromJwt({ secret: JWT_SECRET })],
    acceptAnyTenant: true,
    rls: true,
  });
  const rules = RulesModule.forRoot({ ...testPolicy(), ...options.rules });
  const imports: ModuleMetadata['imports'] = [
    TypeOrmModule.forRoot({ type: 'postgres', url: options.db.appUrl, entities: APP_ENTITIES, poolSize: 4 }),
    TypeOrmModule.forFeature([Invoice]),
    ...(options.rulesFirst ? [rules, tenancy] : [tenancy, rules]),
  ];
  @Module({ imports, controllers: [RulesTestController, SettingsController], providers: [InvoiceService] })
  class RulesTestModule {}
  const app =
    options.platform === 'fastify'
      ? await NestFactory.create(RulesTestModule, new FastifyAdapter(), { logger: false })
      : await NestFactory.create(RulesTestModule, { logger: false });
  if (options.listen === false) {
    await app.init();
    return { app, url: '' };
  }
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

/** A token for `sub` in tenant `tid`. */
export async function token(sub: string, tid: string): Promise<string> {
  return new SignJWT({ sub, tid })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(JWT_SECRET));
}
