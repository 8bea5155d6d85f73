import { Logger } from '@nestjs/common';
import { Client, type ClientConfig } from 'pg';
import type { DataSource } from 'typeorm';

interface TenantEntry<R, M> {
  rules?: Promise<R>;
  rulesValue?: R;
  members: Map<string, Promise<M>>;
  memberValues: Map<string, M>;
}

/**
 * Per-tenant cache of stored rules and principals' memberships. Every key includes the tenant. Entries are
 * dropped on a local change at once, and on a change in another process when its NOTIFY arrives on the
 * dedicated LISTEN connection. While that connection is down the cache is off (every decision reads the
 * store), so a lost notification can never keep a revoked role alive. @internal
 */
export class RulesCache<R, M> {
  private readonly logger = new Logger('Bulkhead:Rules');
  private readonly tenants = new Map<string, TenantEntry<R, M>>();
  private readonly generations = new Map<string, number>();
  private listening = false;
  private client: Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private readonly waiters = new Map<string, () => void>();

  constructor(
    private readonly enabled: boolean,
    readonly channel: string,
  ) {}

  /** Whether cached entries are served (cache on and the LISTEN connection up). */
  get active(): boolean {
    return this.enabled && this.listening;
  }

  rules(tenantId: string, load: () => Promise<R>): Promise<R> {
    if (!this.active) return load();
    const entry = this.entry(tenantId);
    if (entry.rules) return entry.rules;
    const pending = this.track(
      tenantId,
      load,
      (p) => (entry.rules = p),
      () => (entry.rules = undefined),
    );
    return pending;
  }

  members(tenantId: string, principalId: string, load: () => Promise<M>): Promise<M> {
    if (!this.active) return load();
    const entry = this.entry(tenantId);
    const hit = entry.members.get(principalId);
    if (hit) return hit;
    if (entry.members.size > 10_000) {
      entry.members.clear();
      entry.memberValues.clear();
    }
    const pending = this.track(
      tenantId,
      load,
      (p) => entry.members.set(principalId, p),
      () => entry.members.delete(principalId),
    );
    pending.then((v) => {
      if (entry.members.get(principalId) === pending) entry.memberValues.set(principalId, v);
    }, noop);
    return pending;
  }

  /** The cached, already loaded rules and memberships, when both are there (the synchronous fast path). */
  peek(tenantId: string, principalId: string): { rules: R; members: M } | undefined {
    if (!this.active) return undefined;
    const entry = this.tenants.get(tenantId);
    if (!entry || entry.rulesValue === undefined) return undefined;
    const members = entry.memberValues.get(principalId);
    return members === undefined ? undefined : { rules: entry.rulesValue, members };
  }

  /** Drops everything cached for a tenant (and stops loads in flight from filling it with stale data). */
  invalidate(tenantId: string): void {
    this.generations.set(tenantId, (this.generations.get(tenantId) ?? 0) + 1);
    this.tenants.delete(tenantId);
  }

  clear(): void {
    for (const tenantId of [...this.tenants.keys()]) this.invalidate(tenantId);
  }

  /** Opens the LISTEN connection with the DataSource's connection settings. */
  async listen(dataSource: DataSource): Promise<void> {
    if (!this.enabled || this.closed) return;
    const client = new Client(clientConfig(dataSource));
    client.on('notification', (msg) => {
      if (msg.channel !== this.channel || !msg.payload) return;
      try {
        const { t, n } = JSON.parse(msg.payload) as { t?: unknown; n?: unknown };
        if (typeof t === 'string') this.invalidate(t);
        else this.clear();
        if (typeof n === 'string') this.waiters.get(n)?.();
      } catch {
        this.clear();
      }
    });
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.listening = false;
      this.client = undefined;
      this.clear();
      if (this.closed) return;
      this.logger.warn(
        `Rules cache invalidation connection lost (${err?.message ?? 'closed'}); cache off until it is back.`,
      );
      client.end().catch(() => undefined);
      this.retry = setTimeout(() => void this.listen(dataSource).catch(() => undefined), 1000);
      this.retry.unref();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel.replace(/"/g, '""')}"`);
      this.clear();
      this.listening = true;
    } catch (err) {
      lost(err as Error);
      throw err;
    }
  }

  /**
   * Registers a change (before its transaction commits); the returned function resolves once this process's
   * LISTEN connection has received the change's NOTIFY (or after `timeoutMs`), i.e. once every listening process
   * has been signalled.
   */
  expect(nonce: string, timeoutMs = 2000): () => Promise<void> {
    if (!this.active) return () => Promise.resolve();
    let done!: () => void;
    const received = new Promise<void>((resolve) => (done = resolve));
    this.waiters.set(nonce, done);
    return async () => {
      const timer = setTimeout(() => {
        this.logger.warn(
          'A rules change notification did not come back within 2 s; other processes may lag.',
        );
        done();
      }, timeoutMs);
      try {
        await received;
      } finally {
        clearTimeout(timer);
        this.waiters.delete(nonce);
      }
    };
  }

  /** Serves cached entries without a LISTEN connection (custom stores: call `invalidate()` on change). */
  localOnly(): void {
    if (this.enabled) this.listening = true;
  }

  async close(): Promise<void> {
    for (const done of this.waiters.values()) done();
    this.closed = true;
    this.listening = false;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    this.clear();
    await client?.end().catch(() => undefined);
  }

  private entry(tenantId: string): TenantEntry<R, M> {
    let entry = this.tenants.get(tenantId);
    if (!entry) this.tenants.set(tenantId, (entry = { members: new Map(), memberValues: new Map() }));
    return entry;
  }

  private track<T>(
    tenantId: string,
    load: () => Promise<T>,
    set: (p: Promise<T>) => void,
    unset: () => void,
  ): Promise<T> {
    const generation = this.generations.get(tenantId) ?? 0;
    const pending = load();
    set(pending);
    pending.then(
      () => {
        if ((this.generations.get(tenantId) ?? 0) !== generation) unset();
      },
      () => unset(),
    );
    return pending;
  }
}

const noop = () => undefined;

/** pg client settings equivalent to a TypeORM postgres DataSource's. @internal */
export function clientConfig(dataSource: DataSource): ClientConfig {
  const o = dataSource.driver.options as {
    url?: string;
    host?: string;
    port?: number;
    username?: string;
    password?: string | (() => string | Promise<string>);
    database?: string;
    ssl?: ClientConfig['ssl'];
  };
  return {
    connectionString: o.url,
    host: o.host,
    port: o.port,
    user: o.username,
    password: o.password,
    database: o.database,
    ssl: o.ssl,
    application_name: 'bulkhead-rules-listener',
  };
}
