import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { ContextFrame } from '../context/tenancy-context.store';
import type { TenancyContext } from '../context/tenancy-context.interface';
import { RawSqlRefusedError, TenancyError, TenantBindingError } from '../errors/tenancy.errors';
import { RLS_TENANT_SETTING, RLS_TENANTS_SETTING, RLS_UNSCOPED_SETTING } from '../tenancy.constants';
import { tenantColumnOf } from '../scoping/tenant-aware.metadata';

/**
 * A PostgreSQL setting bound on the connection before every statement that may write (INSERT, UPDATE,
 * DELETE, a transaction start...), so triggers can read it with `current_setting(name, true)`: the actor and
 * correlation id for the audit trail, for example. Reads do not wait for it.
 */
export interface ConnectionSetting {
  /** Custom setting name with a prefix, e.g. `bulkhead.actor_id`. */
  readonly name: string;
  /** The value for a context (`''` when there is none). */
  value(context: TenancyContext | undefined): string;
}

/** What the connection guard needs from its TenancyModule. @internal */
export interface ConnectionGuardRuntime {
  frame(): ContextFrame | undefined;
  refuse<E extends TenancyError>(error: E): E;
  /** Bind the tenant on every connection for the RLS backstop (otherwise refuse unscoped raw SQL). */
  readonly rls: boolean;
  /** Settings bound before statements that may write. */
  writeSettings(): readonly ConnectionSetting[];
}

type Callback = (err: Error | null, result?: unknown) => void;
interface Submittable {
  submit: (...args: unknown[]) => void;
  handleError?: (err: Error, connection?: unknown) => void;
  text?: string;
}
interface PgClient {
  query: (...args: unknown[]) => unknown;
  escapeLiteral(value: string): string;
}
interface PgPool {
  connect: (
    cb?: (err: Error | undefined, client?: PgClient, done?: unknown) => void,
  ) => Promise<PgClient> | void;
}

interface GuardedDriver {
  master?: PgPool;
  slaves?: PgPool[];
  connect(): Promise<void>;
}

interface ClientState {
  /** tenant part of the binding the server has, `undefined` when unknown */
  key: string | undefined;
  /** write-settings part of the binding the server has, `undefined` when unknown */
  writeKey: string | undefined;
  /** the last bind issued, until it settles */
  ready: Promise<void> | undefined;
  inTransaction: boolean;
  /** a bind was issued inside the open transaction: a rollback may undo it */
  boundInTransaction: boolean;
}

const BASE_SETTINGS = [RLS_TENANT_SETTING, RLS_TENANTS_SETTING, RLS_UNSCOPED_SETTING];
const CLEARED = '';
const NOT_BOUND = '-';
const UNSCOPED = 'u';

const TX_BEGIN = /^\s*(BEGIN|START\s+TRANSACTION)\b/i;
const TX_END = /^\s*(COMMIT|END|ROLLBACK|ABORT|PREPARE\s+TRANSACTION)\b/i;
const TX_END_OR_SAVEPOINT = /^\s*(COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE|PREPARE\s+TRANSACTION)\b/i;
const ROLLBACK_TO = /^\s*ROLLBACK\s+TO\b/i;
const RESETS_SETTINGS = /\b(RESET|DISCARD)\b|bulkhead\.|set_config/i;
const LEADING_COMMENTS = /^(\s*\/\*[\s\S]*?\*\/)*\s*/;
/** Statements that cannot write rows: they need the tenant, not the write settings. */
const READ_ONLY =
  /^(SELECT|SHOW|EXPLAIN|VALUES|TABLE|FETCH|DECLARE|CLOSE|MOVE|LISTEN|UNLISTEN|SET\s+TRANSACTION)\b/i;

function mayWrite(text: string): boolean {
  return !READ_ONLY.test(text.replace(LEADING_COMMENTS, ''));
}

/** Encodes tenant ids as a PostgreSQL text-array literal (sent as a bound parameter, never spliced into SQL). */
export function tenantArrayLiteral(ids: readonly string[]): string {
  return '{' + ids.map((id) => '"' + id.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"').join(',') + '}';
}

function bindSql(names: readonly string[]): string {
  return 'SELECT ' + names.map((n, i) => `set_config('${n}', $${i + 1}, false)`).join(', ');
}

function bindingKey(frame: ContextFrame | undefined): string {
  if (!frame) return CLEARED;
  if (frame.unscopedReason !== undefined) return UNSCOPED;
  if (frame.pending || frame.tenantIds.length === 0) return CLEARED;
  return frame.tenantIds.length === 1 ? frame.tenantIds[0] : tenantArrayLiteral(frame.tenantIds);
}

function bindingValues(frame: ContextFrame | undefined, key: string): [string, string, string] {
  if (key === CLEARED) return ['', '', ''];
  if (key === UNSCOPED) return ['', '', 'on'];
  const ids = frame!.tenantIds;
  return ids.length === 1 ? [ids[0], '', ''] : ['', tenantArrayLiteral(ids), ''];
}

function writeKeyOf(settings: readonly ConnectionSetting[], frame: ContextFrame | undefined): string {
  return settings.map((s) => s.value(frame)).join('\u0001');
}

function isSubmittable(value: unknown): value is Submittable {
  return typeof value === 'object' && value !== null && typeof (value as Submittable).submit === 'function';
}

function textOf(config: unknown): string {
  if (typeof config === 'string') return config;
  if (typeof config === 'object' && config !== null) return String((config as { text?: unknown }).text ?? '');
  return '';
}

/**
 * Guards every statement sent on the pooled connections of a DataSource, whoever sends it (repositories,
 * query builders, `manager.query`, or code that checks a client out of the pool directly):
 *
 * - RLS backstop on: the connection carries the tenant(s) of the statement's context. A connection is bound
 *   once and re-bound only when the context differs from what it carries, with one prepared statement that
 *   the statement waits for; a statement outside any context first clears a bound connection, so a pooled
 *   connection never carries a tenant into the next user's statements. A bind that fails fails the statement.
 * - RLS backstop off: hand-written SQL that names a tenant-aware table inside a tenant context is refused
 *   unless it runs in `runWithRawSql()`. SQL rendered by the scoped query builders passes.
 * @internal
 */
export class ConnectionGuard {
  private readonly states = new WeakMap<PgClient, ClientState>();
  private readonly scopedSql = new Set<string>();
  private readonly tablePattern: RegExp | undefined;
  private readonly tableNames: Map<string, string>;
  private readonly pools: { pool: PgPool; connect: PgPool['connect'] }[] = [];
  private layout: {
    settings: readonly ConnectionSetting[];
    names: string[];
    sql: string;
    statement: string;
  } = {
    settings: [],
    names: BASE_SETTINGS,
    sql: bindSql(BASE_SETTINGS),
    statement: 'bulkhead_bind_2',
  };

  constructor(
    dataSource: DataSource,
    private readonly runtime: ConnectionGuardRuntime,
  ) {
    this.tableNames = new Map(
      dataSource.entityMetadatas
        .filter((m) => tenantColumnOf(m))
        .map((m) => [m.tableName.toLowerCase(), m.tablePath] as const),
    );
    const names = [...this.tableNames.keys()].map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.tablePattern = names.length
      ? new RegExp(`(?<![\\w$])"?(${names.join('|')})"?(?![\\w$])`, 'gi')
      : undefined;
    this.driver = dataSource.driver as unknown as GuardedDriver;
    this.instrumentPools();
    // a DataSource that is destroyed and initialized again gets new pools: guard them too
    const connect = this.driver.connect;
    this.driverConnect = connect;
    this.driver.connect = async () => {
      await connect.call(this.driver);
      this.instrumentPools();
    };
  }

  private readonly driver: GuardedDriver;
  private readonly driverConnect: GuardedDriver['connect'];

  private instrumentPools(): void {
    for (const pool of [this.driver.master, ...(this.driver.slaves ?? [])]) {
      if (pool && !this.pools.some((p) => p.pool === pool)) this.instrumentPool(pool);
    }
  }

  /** Records SQL text that a query builder rendered under a tenant scope. */
  markScoped(sql: string): void {
    if (this.runtime.rls) return;
    if (this.scopedSql.size >= 10_000) this.scopedSql.clear();
    this.scopedSql.add(sql);
  }

  /** Restores the pools' own `connect`. */
  detach(): void {
    for (const { pool, connect } of this.pools) pool.connect = connect;
    this.pools.length = 0;
    this.driver.connect = this.driverConnect;
  }

  private instrumentPool(pool: PgPool): void {
    const connect = pool.connect;
    this.pools.push({ pool, connect });
    const original = connect.bind(pool);
    pool.connect = ((cb?: (err: Error | undefined, client?: PgClient, done?: unknown) => void) => {
      if (cb) {
        return original((err, client, done) => {
          if (client) this.instrumentClient(client);
          cb(err, client, done);
        });
      }
      return (original() as Promise<PgClient>).then((client) => {
        this.instrumentClient(client);
        return client;
      });
    }) as PgPool['connect'];
  }

  private instrumentClient(client: PgClient): void {
    if (this.states.has(client)) return;
    const state: ClientState = {
      key: CLEARED,
      writeKey: undefined,
      ready: undefined,
      inTransaction: false,
      boundInTransaction: false,
    };
    this.states.set(client, state);
    const original = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = (...args: unknown[]): unknown => {
      const text = textOf(args[0]);
      const frame = this.runtime.frame();
      if (!this.runtime.rls) {
        const refused = this.checkRawSql(frame, text);
        if (refused) return this.fail(args, refused);
      }
      const layout = this.currentLayout();
      if (!this.runtime.rls && layout.settings.length === 0) return original(...args);
      if (TX_END_OR_SAVEPOINT.test(text)) {
        // never bind in front of these: inside an aborted transaction the bind would fail and block the ROLLBACK
        return this.endTransaction(state, text, this.send(state, original, args));
      }
      const key = this.runtime.rls ? bindingKey(frame) : NOT_BOUND;
      const writes = layout.settings.length > 0 && mayWrite(text);
      const writeKey = writes ? writeKeyOf(layout.settings, frame) : undefined;
      const stale = key !== state.key || (writes && writeKey !== state.writeKey);
      const begins = TX_BEGIN.test(text);
      let result: unknown;
      const plainText =
        typeof args[0] === 'string' &&
        args.length <= 2 &&
        (args[1] === undefined || (Array.isArray(args[1]) && args[1].length === 0));
      if (stale && begins && plainText) {
        // one round trip: the transaction start and the bind travel in one simple-protocol message
        const values = this.values(layout, frame, key);
        const merged = `${text}; SELECT ${layout.names
          .map((n, i) => `set_config('${n}', ${client.escapeLiteral(values[i])}, false)`)
          .join(', ')}`;
        this.record(state, key, writeKeyOf(layout.settings, frame));
        result = this.send(state, original, [merged]);
        state.inTransaction = true;
        state.boundInTransaction = true;
        return result;
      }
      if (stale) this.bind(original, state, layout, frame, key);
      result = this.send(state, original, args);
      if (begins) {
        // bound before BEGIN, so a rollback cannot undo it
        state.inTransaction = true;
        state.boundInTransaction = false;
      } else if (RESETS_SETTINGS.test(text)) {
        state.key = undefined;
        state.writeKey = undefined;
      }
      return result;
    };
  }

  /** The bind statement for the settings registered now (they may grow after start-up). */
  private currentLayout() {
    const settings = this.runtime.writeSettings();
    if (settings !== this.layout.settings) {
      const names = [...BASE_SETTINGS, ...settings.map((s) => s.name)];
      this.layout = {
        settings,
        names,
        sql: bindSql(names),
        statement: `bulkhead_bind_${createHash('sha1').update(names.join(',')).digest('hex').slice(0, 12)}`,
      };
    }
    return this.layout;
  }

  private values(layout: ConnectionGuard['layout'], frame: ContextFrame | undefined, key: string): string[] {
    const base = this.runtime.rls ? bindingValues(frame, key) : ['', '', ''];
    return [...base, ...layout.settings.map((s) => s.value(frame))];
  }

  private record(state: ClientState, key: string, writeKey: string): void {
    state.key = key;
    state.writeKey = writeKey;
    if (state.inTransaction) state.boundInTransaction = true;
  }

  /** After COMMIT, ROLLBACK or a savepoint command: forget a binding the server may have undone. */
  private endTransaction(state: ClientState, text: string, result: unknown): unknown {
    const undone = state.boundInTransaction;
    const forget = () => {
      state.key = undefined;
      state.writeKey = undefined;
    };
    if (ROLLBACK_TO.test(text)) {
      if (undone) forget();
      return result;
    }
    if (!TX_END.test(text)) return result;
    state.inTransaction = false;
    state.boundInTransaction = false;
    if (!undone) return result;
    if (/^\s*(COMMIT|END)\b/i.test(text) && result instanceof Promise) {
      // a COMMIT of a failed transaction answers ROLLBACK: only then was the bind undone
      return result.then(
        (r: { command?: string }) => {
          if (r?.command !== 'COMMIT') forget();
          return r;
        },
        (err: unknown) => {
          forget();
          throw err;
        },
      );
    }
    forget();
    return result;
  }

  private send(state: ClientState, original: (...args: unknown[]) => unknown, args: unknown[]): unknown {
    return state.ready ? this.after(state.ready, original, args) : original(...args);
  }

  /** Queues the bind after any bind in flight and records it as the connection's binding. */
  private bind(
    original: (...args: unknown[]) => unknown,
    state: ClientState,
    layout: ConnectionGuard['layout'],
    frame: ContextFrame | undefined,
    key: string,
  ): Promise<void> {
    const previous = state.ready ?? Promise.resolve();
    const values = this.values(layout, frame, key);
    const ready = previous
      .then(() => original({ name: layout.statement, text: layout.sql, values }) as Promise<unknown>)
      .then(
        () => {
          if (state.ready === ready) state.ready = undefined;
        },
        (err: unknown) => {
          if (state.ready === ready) state.ready = undefined;
          state.key = undefined;
          state.writeKey = undefined;
          throw this.runtime.refuse(new TenantBindingError(err));
        },
      );
    this.record(state, key, writeKeyOf(layout.settings, frame));
    state.ready = ready;
    return ready;
  }

  /** Sends the statement once `ready` has settled; a failed bind fails the statement, which is never sent. */
  private after(ready: Promise<void>, original: (...args: unknown[]) => unknown, args: unknown[]): unknown {
    const [config, values, callback] = args;
    if (isSubmittable(config)) {
      ready.then(
        () => original(config),
        (err: Error) => config.handleError?.(err),
      );
      return config;
    }
    const cb = (typeof values === 'function' ? values : callback) as Callback | undefined;
    if (cb) {
      ready.then(
        () => original(...args),
        (err: Error) => cb(err),
      );
      return undefined;
    }
    return ready.then(() => original(...args));
  }

  private checkRawSql(frame: ContextFrame | undefined, text: string): RawSqlRefusedError | undefined {
    if (!this.tablePattern || !frame || frame.tenantIds.length === 0) return undefined;
    if (frame.unscopedReason !== undefined || frame.rawSqlReason !== undefined) return undefined;
    if (this.scopedSql.has(text)) return undefined;
    const tables = new Set<string>();
    for (const match of text.matchAll(this.tablePattern))
      tables.add(this.tableNames.get(match[1].toLowerCase())!);
    return tables.size ? this.runtime.refuse(new RawSqlRefusedError([...tables])) : undefined;
  }

  private fail(args: unknown[], error: Error): unknown {
    const [config, values, callback] = args;
    if (isSubmittable(config)) {
      process.nextTick(() => config.handleError?.(error));
      return config;
    }
    const cb = (typeof values === 'function' ? values : callback) as Callback | undefined;
    if (cb) {
      process.nextTick(() => cb(error));
      return undefined;
    }
    return Promise.reject(error);
  }
}
