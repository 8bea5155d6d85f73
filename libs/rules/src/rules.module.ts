import { Inject, Module, OnModuleInit, Provider } from '@nestjs/common';
import {
  APP_FILTER,
  APP_GUARD,
  DiscoveryModule,
  DiscoveryService,
  MetadataScanner,
  Reflector,
} from '@nestjs/core';
import { RequirePermission, RequireRole } from './decorators/rules.decorators';
import { RulesConfigurationError } from './errors/rules.errors';
import { RulesExceptionFilter } from './filters/rules-exception.filter';
import { RulesGuard } from './guard/rules.guard';
import {
  RULES_ASYNC_OPTIONS_TYPE,
  RULES_MODULE_OPTIONS,
  RULES_OPTIONS_TYPE,
  RulesConfigurableModule,
} from './rules.module-definition';
import type { RulesModuleOptions } from './rules-options.interface';
import { RulesService } from './rules.service';
import { MembershipStore, ResourceHierarchy, RuleStore } from './store/rules-store.interface';

const enhancers: Provider[] = [
  {
    provide: APP_GUARD,
    useFactory: (options: RulesModuleOptions, guard: RulesGuard) =>
      options.registerGuard === false ? { canActivate: () => true } : guard,
    inject: [RULES_MODULE_OPTIONS, RulesGuard],
  },
  {
    provide: APP_FILTER,
    useFactory: (options: RulesModuleOptions, filter: RulesExceptionFilter) =>
      options.registerExceptionFilter === false
        ? {
            catch: (e: unknown) => {
              throw e;
            },
          }
        : filter,
    inject: [RULES_MODULE_OPTIONS, RulesExceptionFilter],
  },
];

/** The stores are chosen when the module starts; these tokens hand out whichever is in use. */
const storeTokens: Provider[] = [
  {
    provide: MembershipStore,
    useFactory: (rules: RulesService): MembershipStore => ({
      membershipsOf: (t, p) => rules.membershipStore.membershipsOf(t, p),
      grant: (m, w) => rules.membershipStore.grant!(m, w),
      revoke: (m, w) => rules.membershipStore.revoke!(m, w),
    }),
    inject: [RulesService],
  },
  {
    provide: RuleStore,
    useFactory: (rules: RulesService): RuleStore => ({
      rulesOf: (t) => rules.rulesStore.rulesOf(t),
      saveRule: (t, r, w) => rules.rulesStore.saveRule!(t, r, w),
      removeRule: (t, id, w) => rules.rulesStore.removeRule!(t, id, w),
    }),
    inject: [RulesService],
  },
  {
    provide: ResourceHierarchy,
    useFactory: (rules: RulesService): ResourceHierarchy => ({
      parentOf: (r, t) => rules.resourceHierarchy.parentOf(r, t),
    }),
    inject: [RulesService],
  },
];

/**
 * Tenant-scoped roles, permission and role guards, and a deny-overrides policy engine with `explain()`. Needs
 * TenancyModule (the principal is the tenancy context's actor) and, for the default store, a TypeORM DataSource
 * holding `RULES_ENTITIES`.
 *
 * ```ts
 * RulesModule.forRoot({
 *   roles: {
 *     viewer: { permissions: ['invoice:read'] },
 *     member: { includes: ['viewer'], permissions: ['invoice:create'] },
 *     admin: { includes: ['member'], permissions: ['invoice:*'] },
 *   },
 *   permissions: ['invoice:read', 'invoice:create', 'invoice:approve'],
 *   rules: [{ id: 'big-approvals', effect: 'deny', actions: ['invoice:approve'], conditions: 'resource.amount > 1000000' }],
 *   denyWithoutDecorator: true,
 * })
 * ```
 *
 * Start-up refuses an invalid configuration (`RulesConfigurationError` naming the culprit), including a
 * `@RequireRole()` or `@RequirePermission()` that names an unknown role or permission.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [RulesService, RulesGuard, RulesExceptionFilter, ...enhancers, ...storeTokens],
  exports: [RulesService, RulesGuard, MembershipStore, RuleStore, ResourceHierarchy],
})
export class RulesModule extends RulesConfigurableModule implements OnModuleInit {
  constructor(
    private readonly rules: RulesService,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Inject(RULES_MODULE_OPTIONS) private readonly options: RulesModuleOptions,
  ) {
    super();
  }

  static override forRoot(options: typeof RULES_OPTIONS_TYPE) {
    return super.forRoot(options);
  }

  static override forRootAsync(options: typeof RULES_ASYNC_OPTIONS_TYPE) {
    return super.forRootAsync(options);
  }

  onModuleInit(): void {
    this.checkDecorators();
  }

  /** Refuses route decorators naming unknown roles or permissions. */
  private checkDecorators(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const type = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!type) continue;
      const targets: [string, object][] = [[type.name, type]];
      for (const name of this.scanner.getAllMethodNames(type.prototype as object)) {
        targets.push([`${type.name}.${name}()`, (type.prototype as Record<string, object>)[name]]);
      }
      for (const [where, target] of targets) {
        for (const role of this.reflector.get(RequireRole, target as never) ?? []) {
          if (!this.options.roles[role]) {
            throw new RulesConfigurationError(`@RequireRole() on ${where} names unknown role "${role}".`);
          }
        }
        for (const permission of this.reflector.get(RequirePermission, target as never) ?? []) {
          if (!this.rules.knowsPermission(permission)) {
            throw new RulesConfigurationError(
              `@RequirePermission() on ${where} names unknown permission "${permission}". Declare it in option permissions.`,
            );
          }
        }
      }
    }
  }
}
