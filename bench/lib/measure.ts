import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** One request of a variant: resolves when done, rejects when it failed or returned wrong rows. */
export type Request = () => Promise<void>;

/** The outcome of one timed run. */
export interface MeasureResult {
  /** Requests completed without error. */
  readonly requests: number;
  /** Requests that failed. */
  readonly errors: number;
  /** Message of the first failure, if any. */
  readonly firstError?: string;
  /** Wall time from the start until the last loop finished, in seconds. */
  readonly seconds: number;
  /** Successful requests per second. */
  readonly rps: number;
  /**
   * CPU time of this whole process (user + system) per successful request, in microseconds: the Node side of
   * the cost (TypeORM, pg, the tenancy layer, GC), which the throughput alone does not separate from the
   * database's. Meaningful because each variant runs in a worker process of its own.
   */
  readonly cpuMicrosPerRequest: number;
}

function message(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Runs `concurrency` loops that each send `request` back to back until `seconds` have passed (a request
 * started before the deadline finishes and counts), and returns the throughput over the actual wall time.
 */
export async function measure(
  request: Request,
  seconds: number,
  concurrency: number,
): Promise<MeasureResult> {
  let requests = 0;
  let errors = 0;
  let firstError: string | undefined;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      try {
        await request();
        requests++;
      } catch (err) {
        errors++;
        firstError ??= message(err);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    requests,
    errors,
    firstError,
    seconds: elapsed,
    rps: requests / elapsed,
    cpuMicrosPerRequest: (used.user + used.system) / Math.max(requests, 1),
  };
}

/**
 * Sends exactly `total` requests through `concurrency` loops. Throws the first failure once all loops
 * stopped (a loop stops at its first failure).
 */
export async function runCount(request: Request, total: number, concurrency: number): Promise<void> {
  let started = 0;
  let failure: unknown;
  const loop = async (): Promise<void> => {
    while (started < total && failure === undefined) {
      started++;
      try {
        await request();
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  if (failure !== undefined) throw failure;
}

/** The median of `values` (the mean of the two middle values for an even count); `NaN` when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Used heap in MiB after full garbage collections. Needs `node --expose-gc`; returns `undefined` without it
 * (a heap figure taken without collecting first would mostly measure garbage).
 */
export async function heapUsedAfterGc(): Promise<number | undefined> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  for (let i = 0; i < 3; i++) {
    gc();
    await nextTurn(); // let finalizers and weak-reference cleanups run between collections
  }
  return process.memoryUsage().heapUsed / 2 ** 20;
}
