import {
  Inject,
  MiddlewareConsumer,
  Module,
  NestModule,
  OnModuleInit,
  Provider,
  RequestMethod,
} from '@nestjs/common';
import {
  APP_FILTER,
  APP_GUARD,
  DiscoveryModule,
  DiscoveryService,
  MetadataScanner,
  ModuleRef,
} from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TenancyContextStore } from './context/tenancy-context.store';
import { TenancyEventBus } from './events/tenancy-events';
import { TenancyExceptionFilter } from './filters/tenancy-exception.filter';
import { TenancyGuard } from './resolution/tenancy.guard';
import { TenancyMiddleware } from './resolution/tenancy.middleware';
import { TenantResolver } from './resolution/tenant-resolver';
import { TenancyRequestBinder } from './resolution/tenancy-request.binder';
import { JOB_TENANCY_REF } from './tenancy.internal-constants';
import {
  TENANCY_ASYNC_OPTIONS_TYPE,
  TENANCY_MODULE_OPTIONS,
  TENANCY_OPTIONS_TYPE,
  TenancyConfigurableModule,
} from './tenancy.module-definition';
import type { TenancyModuleOptions } from './tenancy-options.interface';
import { TenancyService } from './tenancy.service';

const enhancers: Provider[] = [
  {
    provide: APP_GUARD,
    useFactory: (options: TenancyModuleOptions, guard: TenancyGuard) =>
      options.registerGuard === false ? { canActivate: () => true } : guard,
    inject: [TENANCY_MODULE_OPTIONS, TenancyGuard],
  },
  {
    provide: APP_FILTER,
    useFactory: (options: TenancyModuleOptions, filter: TenancyExceptionFilter) =>
      options.registerExceptionFilter === false
        ? {
            catch: (e: unknown) => {
              throw e;
            },
          }
        : filter,
    inject: [TENANCY_MODULE_OPTIONS, TenancyExceptionFilter],
  },
];

/**
 * Tenant isolation for NestJS + TypeORM + PostgreSQL: resolves the tenant of every request, keeps it in
 * AsyncLocalStorage and scopes every TypeORM read and write of `@TenantAware()` entities to it.
 *
 * ```ts
 * TenancyModule.forRoot({
 *   strategies: [fromHeader('X-Tenant-ID'), fromJwt({ secret: process.env.JWT_SECRET })],
 *   validateTenant: ({ tenantId, actor }) => memberships.check(tenantId, actor),
 *   rls: true,
 * })
 * ```
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    TenancyContextStore,
    TenancyEventBus,
    TenancyService,
    TenantResolver,
    TenancyRequestBinder,
    TenancyGuard,
    TenancyMiddleware,
    TenancyExceptionFilter,
    ...enhancers,
  ],
  exports: [TenancyService, TenantResolver, TenancyGuard],
})
export class TenancyModule extends TenancyConfigurableModule implements NestModule, OnModuleInit {
  constructor(
    private readonly tenancy: TenancyService,
    private readonly moduleRef: ModuleRef,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    @Inject(TENANCY_MODULE_OPTIONS) private readonly options: TenancyModuleOptions,
  ) {
    super();
  }

  static override forRoot(options: typeof TENANCY_OPTIONS_TYPE) {
    return super.forRoot(options);
  }

  static override forRootAsync(options: typeof TENANCY_ASYNC_OPTIONS_TYPE) {
    return super.forRootAsync(options);
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(TenancyMiddleware).forRoutes({ path: '*path', method: RequestMethod.ALL });
  }

  async onModuleInit(): Promise<void> {
    for (const ref of this.options.dataSources ?? ['default']) {
      const dataSource =
        typeof ref === 'string'
          ? this.moduleRef.get<DataSource>(getDataSourceToken(ref === 'default' ? undefined : ref), {
              strict: false,
            })
          : ref;
      await this.tenancy.attach(dataSource);
    }
    this.linkJobMethods();
  }

  /** Gives providers that use @WithTenant()/@Unscoped() the TenancyService their methods run through. */
  private linkJobMethods(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string | symbol, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      const uses = this.scanner
        .getAllMethodNames(prototype)
        .some((name) => Reflect.hasMetadata(JOB_TENANCY_REF, instance[name] as object));
      if (uses) {
        Object.defineProperty(instance, JOB_TENANCY_REF, { value: this.tenancy, enumerable: false });
      }
    }
  }
}
