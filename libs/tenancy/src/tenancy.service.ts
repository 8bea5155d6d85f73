import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ContextFrame, TenancyContextStore } from './context/tenancy-context.store';
import type { ContextSource, RunContextInput, TenancyContext } from './context/tenancy-context.interface';
import {
  InvalidTenantIdError,
  MissingTenantContextError,
  RlsMisconfiguredError,
  TenancyConfigurationError,
  TenancyError,
} from './errors/tenancy.errors';
import { TenancyEventBus, type TenancyEventListener } from './events/tenancy-events';
import { ConnectionGuard, type ConnectionSetting } from './rls/connection-guard';
import { findRlsProblems, generateRlsDdl } from './rls/rls-policy';
import { TenancySubscriber } from './scoping/tenancy.subscriber';
import { attachScoping, detachScoping } from './scoping/typeorm-scoping';
import { DEFAULT_TENANT_ID_PATTERN } from './tenancy.constants';
import { TENANCY_MODULE_OPTIONS } from './tenancy.module-definition';
import type { TenancyModuleOptions } from './tenancy-options.interface';

const SYSTEM_ACTOR = { id: 'system', type: 'system' } as const;

/**
 * The tenancy context of the current call chain, and the ways to bind one outside HTTP requests.
 *
 * ```ts
 * await tenancy.run({ tenant: 'acme', actor: { type: 'service', id: 'billing' } }, () => invoices.find());
 * await tenancy.runUnscoped('nightly usage report', () => invoices.count());
 * ```
 */
@Injectable()
export class TenancyService implements OnApplicationShutdown {
  private readonly guards = new Map<DataSource, ConnectionGuard>();
  private writeSettings: readonly ConnectionSetting[] = [];
  private readonly pattern: RegExp;

  constructor(
    private readonly store: TenancyContextStore,
    private readonly events: TenancyEventBus,
    @Inject(TENANCY_MODULE_OPTIONS) private readonly options: TenancyModuleOptions,
  ) {
    this.pattern = options.tenantIdPattern ?? DEFAULT_TENANT_ID_PATTERN;
    for (const listener of options.listeners ?? []) events.subscribe(listener);
  }

  /** The context of the current call chain, or `undefined` outside any request or job. */
  current(): TenancyContext | undefined {
    const frame = this.store.frame();
    return frame && !frame.pending ? frame : undefined;
  }

  /** The single tenant in context. Throws `MissingTenantContextError` when there is none or several. */
  requireTenantId(): string {
    const id = this.current()?.tenantId;
    if (id === undefined)
      throw this.refuse(new MissingTenantContextError('(TenancyService.requireTenantId)'));
    return id;
  }

  /**
   * Runs `fn` with a tenant bound: for jobs, queue consumers, cron and scripts. The context follows every
   * `await`, timer, event emitter and stream started inside `fn`, and ends with it.
   */
  run<T>(input: RunContextInput, fn: () => T): T {
    const tenants = typeof input.tenant === 'string' ? [input.tenant] : [...input.tenant];
    if (tenants.length === 0 || tenants.some((t) => typeof t !== 'string' || !this.pattern.test(t))) {
      throw this.refuse(new InvalidTenantIdError('TenancyService.run()'));
    }
    const parent = this.store.frame();
    const frame = new ContextFrame(input.correlationId ?? parent?.correlationId ?? randomUUID(), 'job');
    frame.tenantIds = [...new Set(tenants)];
    frame.actor = input.actor ?? parent?.actor ?? SYSTEM_ACTOR;
    return this.bind(frame, fn);
  }

  /**
   * Runs `fn` with tenant scoping off: every tenant's rows are visible and writable. Nestable; the reason is
   * required, kept in the context and reported as a `bypass.used` security event. There is no global switch.
   */
  runUnscoped<T>(reason: string, fn: () => T): T {
    const frame = this.derive(reason, 'unscoped');
    frame.unscopedReason = reason;
    this.emit({ type: 'bypass.used', kind: 'unscoped', reason }, frame);
    return this.store.run(frame, fn);
  }

  /**
   * Allows hand-written SQL on tenant-aware tables inside `fn` while the RLS backstop is off. The statements
   * are yours to scope; the reason is reported as a `bypass.used` security event.
   */
  runWithRawSql<T>(reason: string, fn: () => T): T {
    const frame = this.derive(reason, this.store.frame()?.source ?? 'job');
    frame.rawSqlReason = reason;
    this.emit({ type: 'bypass.used', kind: 'raw-sql', reason }, frame);
    return this.store.run(frame, fn);
  }

  /**
   * Binds one more PostgreSQL setting on the connection before every statement that may write, computed from
   * the context (AuditModule binds the actor and correlation id this way, for its triggers). The value is
   * sent as a bound parameter, or as an escaped literal when merged into a transaction's first statement.
   */
  addConnectionSetting(setting: ConnectionSetting): void {
    if (!/^[a-z_][a-z0-9_]*\.[a-z0-9_]+$/i.test(setting.name)) {
      throw new TenancyConfigurationError(
        `Connection setting "${setting.name}" must be a custom setting name like "myapp.actor_id".`,
      );
    }
    if (this.writeSettings.some((s) => s.name === setting.name)) return;
    this.writeSettings = [...this.writeSettings, setting];
  }

  /** Subscribes a security event listener; returns the function that unsubscribes it. */
  subscribe(listener: TenancyEventListener): () => void {
    return this.events.subscribe(listener);
  }

  /**
   * Scopes a DataSource: tenant-aware entities on it are filtered by the context, and its pooled connections
   * are guarded (RLS binding, or raw-SQL refusal). TenancyModule attaches its configured DataSources at
   * start-up; scripts without Nest call this themselves. With RLS on, refuses a database that is not ready.
   */
  async attach(dataSource: DataSource): Promise<void> {
    if (this.guards.has(dataSource)) return;
    if (!dataSource.isInitialized) {
      throw new TenancyConfigurationError('TenancyService.attach() needs an initialized DataSource.');
    }
    if (dataSource.driver.options.type !== 'postgres') {
      throw new TenancyConfigurationError(
        `Bulkhead supports PostgreSQL only; DataSource type is "${dataSource.driver.options.type}".`,
      );
    }
    const rls = this.options.rls ?? false;
    if (rls) {
      const problems = await findRlsProblems(dataSource);
      if (problems.length) {
        const ddl = generateRlsDdl(dataSource).up.map((s) => `  ${s};`);
        throw new RlsMisconfiguredError(
          problems,
          'Install the policies as the table owner (a migration calling applyRlsPolicies(queryRunner)), e.g.:\n' +
            ddl.join('\n'),
        );
      }
    }
    const guard = new ConnectionGuard(dataSource, {
      rls,
      writeSettings: () => this.writeSettings,
      frame: () => this.store.frame(),
      refuse: (error) => this.refuse(error),
    });
    this.guards.set(dataSource, guard);
    if (!dataSource.subscribers.some((s) => s instanceof TenancySubscriber)) {
      dataSource.subscribers.push(new TenancySubscriber());
    }
    attachScoping(dataSource, {
      frame: () => this.store.frame(),
      refuse: (error) => this.refuse(error),
      onScopedSql: (sql) => guard.markScoped(sql),
    });
  }

  /** Stops scoping a DataSource (its tenant-aware entities then refuse every query). */
  detach(dataSource: DataSource): void {
    this.guards.get(dataSource)?.detach();
    this.guards.delete(dataSource);
    detachScoping(dataSource);
  }

  /** @internal */
  onApplicationShutdown(): void {
    for (const dataSource of [...this.guards.keys()]) this.detach(dataSource);
  }

  private refuse<E extends TenancyError>(error: E): E {
    this.emit({ type: 'violation.refused', error: error.name, message: error.message }, this.store.frame());
    return error;
  }

  private emit(
    event: Parameters<TenancyEventBus['report']>[0],
    frame: TenancyContext | undefined = this.store.frame(),
  ): void {
    this.events.report(event, frame);
  }

  private derive(reason: string, source: ContextSource): ContextFrame {
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new TenancyConfigurationError(
        'A bypass needs a reason: say why this code must leave tenant scoping.',
      );
    }
    const parent = this.store.frame();
    const frame = parent ? parent.derive(source) : new ContextFrame(randomUUID(), source);
    frame.pending = false;
    frame.actor ??= SYSTEM_ACTOR;
    return frame;
  }

  private bind<T>(frame: ContextFrame, fn: () => T): T {
    if (!this.events.active) return this.store.run(frame, fn);
    this.emit({ type: 'context.bound', source: frame.source }, frame);
    const release = () => this.emit({ type: 'context.released', source: frame.source }, frame);
    let result: T;
    try {
      result = this.store.run(frame, fn);
    } catch (err) {
      release();
      throw err;
    }
    if (result instanceof Promise) {
      return result.finally(release) as T;
    }
    release();
    return result;
  }
}

/**
 * A TenancyService for code that runs without Nest (scripts, workers, tests): attach DataSources with
 * `attach()`, bind tenants with `run()`.
 */
export function createTenancyService(options: TenancyModuleOptions = {}): TenancyService {
  return new TenancyService(new TenancyContextStore(), new TenancyEventBus(), options);
}
