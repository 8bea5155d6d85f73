import type { MeasureResult } from './measure';

/**
 * What a worker process runs; each kind lives in a process of its own, so Bulkhead's process-wide TypeORM
 * hooks never touch the baseline and no variant inherits another's JIT or heap state.
 *
 * - `plain`: plain TypeORM, hand-written `where: { tenantId }`, superuser, no RLS (the baseline)
 * - `bulkhead`: Bulkhead with `rls: false`, superuser
 * - `bulkhead-rls`: Bulkhead with `rls: true`, application role, policies installed
 * - `avallone`: `@avallone-io/rls` (`RLSConnection` per request), application role, its own policy
 */
export type WorkerKind = 'plain' | 'bulkhead' | 'bulkhead-rls' | 'avallone';

/** `hot`: every request on tenant `t1`; `many`: a random tenant of 100 per request. */
export type TenantMode = 'hot' | 'many';

/** The index of the tenant of `hot` runs (`t1`). */
export const HOT_TENANT = 1;

/** Passed to a worker process as its one argument (JSON). */
export interface WorkerOptions {
  readonly kind: WorkerKind;
  /** Connection string: superuser for `plain` and `bulkhead`, the application role otherwise. */
  readonly url: string;
  readonly poolSize: number;
}

/** Parent-to-worker messages. */
export type Command =
  | {
      readonly type: 'measure';
      readonly tenants: TenantMode;
      readonly warmupSeconds: number;
      readonly seconds: number;
      readonly concurrency: number;
    }
  | {
      readonly type: 'heap';
      readonly firstRequests: number;
      readonly totalRequests: number;
      readonly concurrency: number;
    }
  | { readonly type: 'close' };

/** Worker-to-parent messages. */
export type Reply =
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly error: string }
  | { readonly type: 'measured'; readonly result: MeasureResult }
  | { readonly type: 'heap'; readonly firstMb: number; readonly totalMb: number }
  | { readonly type: 'error'; readonly error: string }
  | { readonly type: 'closed' };

/** A readable description of a thrown value, with the stack's first frames for unexpected errors. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const frames = (err.stack ?? '').split('\n').slice(1, 4).join('\n');
  return `${err.name}: ${err.message}${frames ? `\n${frames}` : ''}`;
}
