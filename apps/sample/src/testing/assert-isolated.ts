import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { HttpClient, type HttpResponse } from './http-client';

/** How the check acts as one tenant: a label and the headers that authenticate it (token, tenant header). */
export interface TenantCredentials {
  readonly name: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** A route to check. A path with `:id` is called with the other tenant's ids; any other path is read. */
export type IsolationRoute =
  | string
  | {
      readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
      readonly path: string;
      /** Body sent with the request. */
      readonly body?: unknown;
      /**
       * Paths without `:id`: the answer must also contain the caller's own data, which proves the route shows
       * data at all (a route that returns nothing would otherwise pass). Default: `true` for GET.
       */
      readonly expectOwn?: boolean;
      /** Status expected for another tenant's id. Default: `404`. */
      readonly foreignStatus?: number;
    };

/** Options of {@link assertIsolated}. */
export interface IsolationOptions {
  /** Two (or more) tenants' credentials. */
  readonly tenants: readonly TenantCredentials[];
  /** The routes to check. */
  readonly routes: readonly IsolationRoute[];
  /**
   * How data is created as each tenant: POSTed to `path` with `body(marker, i)`; the answer's `idField`
   * (default `id`) is the record's id. Strings in the body should include `marker`: no other tenant may see it.
   */
  readonly create: {
    readonly path: string;
    readonly body: (marker: string, index: number) => unknown;
    readonly idField?: string;
    /** Records per tenant. Default: 2. */
    readonly count?: number;
  };
  /**
   * After every check, each record is read back by its owner here and must be unchanged (mutating routes
   * called with foreign ids must not have touched it). Default: the first GET route with `:id`.
   */
  readonly readBack?: string;
}

/** What the check did. */
export interface IsolationReport {
  readonly requests: number;
  readonly records: Readonly<Record<string, readonly string[]>>;
}

/** One or more isolation failures, listed. */
export class IsolationError extends Error {
  constructor(readonly failures: readonly string[]) {
    super(`Tenant isolation failed (${failures.length}):\n- ${failures.join('\n- ')}`);
    this.name = 'IsolationError';
  }
}

interface Created {
  readonly tenant: TenantCredentials;
  readonly marker: string;
  readonly ids: string[];
  readonly snapshots: Map<string, string>;
}

/**
 * Proves that tenants cannot see or touch each other's data through the listed routes: creates records as each
 * tenant, then, as each tenant, reads every route without `:id` (no other tenant's id or marker may appear in
 * the answer, and its own data must) and calls every `:id` route with each other tenant's ids (404 expected;
 * own ids answer 2xx on GET routes, proving the route works). Finally every record must read back unchanged.
 * Throws {@link IsolationError} listing every failure.
 *
 * ```ts
 * await assertIsolated(app, {
 *   tenants: [{ name: 'acme', headers: { authorization: `Bearer ${a}` } }, { name: 'globex', headers: { ... } }],
 *   create: { path: '/invoices', body: (m) => ({ customer: m, amount: 100 }) },
 *   routes: ['/invoices', '/invoices/:id', { method: 'DELETE', path: '/invoices/:id' }],
 * });
 * ```
 */
export async function assertIsolated(
  app: INestApplication | string,
  options: IsolationOptions,
): Promise<IsolationReport> {
  if (options.tenants.length < 2) throw new Error('assertIsolated() needs at least two tenants.');
  const http = new HttpClient(typeof app === 'string' ? app : await baseUrl(app));
  const failures: string[] = [];
  let requests = 0;
  const call = async (t: TenantCredentials, method: string, path: string, body?: unknown) => {
    requests++;
    return http.request(method, path, { headers: t.headers, body });
  };
  const idField = options.create.idField ?? 'id';
  const routes = options.routes.map((r) => (typeof r === 'string' ? { path: r } : r));
  const readBack =
    options.readBack ?? routes.find((r) => (r.method ?? 'GET') === 'GET' && r.path.includes(':id'))?.path;

  const created: Created[] = [];
  for (const tenant of options.tenants) {
    const marker = `iso-${tenant.name}-${randomBytes(6).toString('hex')}`;
    const entry: Created = { tenant, marker, ids: [], snapshots: new Map() };
    for (let i = 0; i < (options.create.count ?? 2); i++) {
      const res = await call(tenant, 'POST', options.create.path, options.create.body(marker, i));
      const id = (res.body as Record<string, unknown> | undefined)?.[idField];
      if (res.status >= 300 || (typeof id !== 'string' && typeof id !== 'number')) {
        throw new Error(
          `assertIsolated(): creating data as ${tenant.name} failed: ${res.status} ${res.text.slice(0, 300)}`,
        );
      }
      entry.ids.push(String(id));
    }
    created.push(entry);
  }
  if (readBack) {
    for (const c of created) {
      for (const id of c.ids) c.snapshots.set(id, (await call(c.tenant, 'GET', withId(readBack, id))).text);
    }
  }

  for (const own of created) {
    const others = created.filter((c) => c !== own);
    for (const route of routes) {
      const method = route.method ?? 'GET';
      if (route.path.includes(':id')) {
        for (const other of others) {
          for (const id of other.ids) {
            const res = await call(own.tenant, method, withId(route.path, id), route.body);
            const want = route.foreignStatus ?? 404;
            if (res.status !== want) {
              failures.push(
                `${own.tenant.name}: ${method} ${route.path} with ${other.tenant.name}'s id ${id} answered ${res.status}, expected ${want}`,
              );
            }
            leaks(res, others, own.tenant.name, `${method} ${route.path}`, failures);
          }
        }
        if (method === 'GET') {
          const res = await call(own.tenant, method, withId(route.path, own.ids[0]), route.body);
          if (res.status >= 300) {
            failures.push(
              `${own.tenant.name}: ${method} ${route.path} with its own id answered ${res.status} (the check proves nothing)`,
            );
          }
        }
      } else {
        const res = await call(own.tenant, method, route.path, route.body);
        if (res.status >= 300) {
          failures.push(`${own.tenant.name}: ${method} ${route.path} answered ${res.status}`);
          continue;
        }
        leaks(res, others, own.tenant.name, `${method} ${route.path}`, failures);
        const expectOwn = route.expectOwn ?? method === 'GET';
        if (expectOwn && !mentions(res.text, own)) {
          failures.push(
            `${own.tenant.name}: ${method} ${route.path} shows none of its own data (the check proves nothing)`,
          );
        }
      }
    }
  }

  if (readBack) {
    for (const c of created) {
      for (const [id, before] of c.snapshots) {
        const after = (await call(c.tenant, 'GET', withId(readBack, id))).text;
        if (after !== before) {
          failures.push(
            `${c.tenant.name}'s record ${id} changed while other tenants were calling routes with it`,
          );
        }
      }
    }
  }
  if (failures.length) throw new IsolationError(failures);
  return { requests, records: Object.fromEntries(created.map((c) => [c.tenant.name, [...c.ids]])) };
}

function withId(path: string, id: string): string {
  return path.replace(':id', encodeURIComponent(id));
}

function mentions(text: string, c: Created): boolean {
  return text.includes(c.marker) || c.ids.some((id) => text.includes(id));
}

function leaks(res: HttpResponse, others: readonly Created[], who: string, what: string, failures: string[]) {
  for (const other of others) {
    if (mentions(res.text, other)) {
      failures.push(`${who}: ${what} returned data of ${other.tenant.name}: ${res.text.slice(0, 200)}`);
    }
  }
}

async function baseUrl(app: INestApplication): Promise<string> {
  const server = app.getHttpServer() as { listening?: boolean };
  if (!server.listening) await app.listen(0, '127.0.0.1');
  return (await app.getUrl()).replace('[::1]', '127.0.0.1');
}
