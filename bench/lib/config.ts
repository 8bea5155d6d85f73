import path from 'node:path';

/** Where the bench connects when `DATABASE_URL` is not set. */
export const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/test';
/** The throwaway database the bench creates and drops. */
export const BENCH_DATABASE = 'bulkhead_bench';
/** The non-superuser role the RLS variants connect as (superusers bypass RLS). */
export const APP_ROLE = 'bulkhead_bench_app';
/** Password of {@link APP_ROLE}. */
export const APP_ROLE_PASSWORD = 'bench';
/** Repository root (the bench runs with it as working directory). */
export const ROOT = path.resolve(__dirname, '..', '..');
/** Directory of the result files. */
export const RESULTS_DIR = path.join(ROOT, 'bench', 'results');

/** How long and how often the bench measures. */
export interface BenchConfig {
  /** `BENCH_QUICK=1`: a short smoke run, with its own result file. */
  readonly quick: boolean;
  /** Superuser connection string to the server (any database on it). */
  readonly serverUrl: string;
  /** Measured runs per variant; each figure is the median over them. */
  readonly runs: number;
  /** Length of one measured run, in seconds. */
  readonly seconds: number;
  /** Warm-up before every measured run (refills the pool after it drained), in seconds. */
  readonly warmupSeconds: number;
  /** Extra warm-up of every variant before the first round (JIT, plan and metadata caches), in seconds. */
  readonly firstWarmupSeconds: number;
  /** Concurrent request loops sharing one DataSource. */
  readonly concurrency: number;
  /** Connection pool size of every DataSource. */
  readonly poolSize: number;
  /** Requests after which the heap is first measured. */
  readonly heapFirstRequests: number;
  /** Requests after which the heap is measured again. */
  readonly heapTotalRequests: number;
  /** The JSON file the results are written to. */
  readonly resultFile: string;
}

/** The configuration for this process, from `BENCH_QUICK` and `DATABASE_URL`. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const common = {
    quick,
    serverUrl: env.DATABASE_URL || DEFAULT_SERVER_URL,
    concurrency: 16,
    poolSize: 16,
    heapFirstRequests: 1_000,
  };
  return quick
    ? {
        ...common,
        runs: 3,
        seconds: 1,
        warmupSeconds: 0.3,
        firstWarmupSeconds: 0.7,
        heapTotalRequests: 10_000,
        resultFile: path.join(RESULTS_DIR, 'latest-quick.json'),
      }
    : {
        ...common,
        // this 2-core VM drifts by +-20% within a minute: more, shorter interleaved runs give steadier medians
        runs: 9,
        seconds: 2,
        warmupSeconds: 0.5,
        firstWarmupSeconds: 2,
        heapTotalRequests: 100_000,
        resultFile: path.join(RESULTS_DIR, 'latest.json'),
      };
}

/** `url` pointing at `database`, optionally as another user. */
export function withDatabase(
  url: string,
  database: string,
  user?: { name: string; password: string },
): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  if (user) {
    u.username = user.name;
    u.password = user.password;
  }
  return u.toString();
}

/** Superuser and application-role connection strings to the bench database. */
export interface BenchUrls {
  readonly admin: string;
  readonly app: string;
}

/** The connection strings of the bench database on `serverUrl`. */
export function benchUrls(serverUrl: string): BenchUrls {
  return {
    admin: withDatabase(serverUrl, BENCH_DATABASE),
    app: withDatabase(serverUrl, BENCH_DATABASE, { name: APP_ROLE, password: APP_ROLE_PASSWORD }),
  };
}
