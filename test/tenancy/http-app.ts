import 'reflect-metadata';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Injectable,
  INestApplication,
  Module,
  Param,
  ParseIntPipe,
  Post,
  Query,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { InjectDataSource, InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { SignJWT } from 'jose';
import { setTimeout as sleep } from 'node:timers/promises';
import { Column, DataSource, Entity, Index, PrimaryGeneratedColumn, Repository } from 'typeorm';
import {
  applyRlsPolicies,
  fromHeader,
  fromJwt,
  NoTenant,
  TenancyModule,
  TenancyService,
  TenantAware,
  type TenancyEvent,
  type TenancyModuleOptions,
} from '@bulkhead/tenancy';
import { adminQuery, type TestDatabase } from '../db/test-database';

export const JWT_SECRET = 'test-secret-test-secret-test-secret!';

@TenantAware()
@Entity('item')
@Index(['tenantId', 'id'])
export class Item {
  @PrimaryGeneratedColumn() id: number;
  @Column({ name: 'tenant_id' }) tenantId: string;
  @Column() title: string;
}

/** Tenants t0..t49 exist; user `u<n>` is a member of tenant `t<n>` only; `admin` is a member of all. */
export const TENANTS = Array.from({ length: 50 }, (_, i) => `t${i}`);
export const ROWS_PER_TENANT = 3;

export async function createItemSchema(db: TestDatabase): Promise<void> {
  const admin = new DataSource({ type: 'postgres', url: db.adminUrl, entities: [Item], synchronize: true });
  await admin.initialize();
  await applyRlsPolicies(admin);
  await admin.destroy();
  const values = TENANTS.flatMap((t) =>
    Array.from({ length: ROWS_PER_TENANT }, (_, i) => `('${t}', '${t}-item-${i}')`),
  );
  await adminQuery(db, `INSERT INTO item (tenant_id, title) VALUES ${values.join(',')}`);
}

@Injectable()
class ItemService {
  constructor(@InjectRepository(Item) private readonly items: Repository<Item>) {}

  /** Two queries separated by a timer, so concurrent requests interleave on the pool. */
  async listSlowly(delayMs: number): Promise<{ items: Item[]; count: number }> {
    const items = await this.items.find({ order: { id: 'ASC' } });
    await sleep(delayMs);
    const count = await this.items.count();
    return { items, count };
  }
}

@Controller()
class ItemController {
  constructor(
    @InjectRepository(Item) private readonly items: Repository<Item>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly service: ItemService,
    private readonly tenancy: TenancyService,
  ) {}

  @Get('health')
  @NoTenant()
  health() {
    return { ok: true };
  }

  @Get('items')
  list(@Query('delay') delay?: string) {
    return this.service.listSlowly(Number(delay ?? 0));
  }

  @Get('items/:id')
  one(@Param('id', ParseIntPipe) id: number) {
    return this.items.findOneByOrFail({ id });
  }

  @Post('items')
  @HttpCode(201)
  create(@Body() body: { title: string; tenantId?: string }) {
    return this.items.save(this.items.create(body));
  }

  @Get('raw')
  raw() {
    return this.dataSource.query('SELECT tenant_id, title FROM item ORDER BY id');
  }

  @Get('context')
  context() {
    const c = this.tenancy.current();
    return { tenantIds: c?.tenantIds, actor: c?.actor ?? null, correlationId: c?.correlationId };
  }
}

export interface HttpAppOptions {
  platform: 'express' | 'fastify';
  db: TestDatabase;
  poolSize?: number;
  tenancy?: Partial<TenancyModuleOptions>;
  events?: TenancyEvent[];
}

/** Boots the test app on a random port; returns it with its base URL. */
export async function startHttpApp(options: HttpAppOptions): Promise<{ app: INestApplication; url: string }> {
  const events = options.events;
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        type: 'postgres',
        url: options.db.appUrl,
        entities: [Item],
        poolSize: options.poolSize ?? 4,
      }),
      TypeOrmModule.forFeature([Item]),
      TenancyModule.forRoot({
        strategies: [fromHeader(), fromJwt({ secret: JWT_SECRET })],
        validateTenant: ({ tenantId, actor }) => {
          if (!TENANTS.includes(tenantId)) return 'unknown-tenant';
          if (!actor || actor.id === 'admin' || actor.id === `u${tenantId.slice(1)}`) return 'allow';
          return 'not-member';
        },
        rls: true,
        listeners: events ? [{ onTenancyEvent: (e) => events.push(e) }] : [],
        ...options.tenancy,
      }),
    ],
    controllers: [ItemController],
    providers: [ItemService],
  })
  class HttpTestModule {}

  const app =
    options.platform === 'fastify'
      ? await NestFactory.create(HttpTestModule, new FastifyAdapter(), { logger: false })
      : await NestFactory.create(HttpTestModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url };
}

/** Signs a token the app accepts (or not: pass another secret, a past expiry...). */
export async function token(
  claims: { sub?: string; tid?: string },
  options: { secret?: string; expiresIn?: string | number } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '5m')
    .sign(new TextEncoder().encode(options.secret ?? JWT_SECRET));
}
