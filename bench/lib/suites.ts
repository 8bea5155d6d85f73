import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './config';
import type { Figure } from './report';

const run = promisify(execFile);

/** A benchmark module run in a child process of its own; it prints its figures as JSON on the last line. */
export interface Suite {
  readonly name: string;
  /** Path of the module, relative to bench/. */
  readonly file: string;
}

/** The suites after the tenancy throughput bench, in order. */
export const SUITES: readonly Suite[] = [
  { name: 'audit', file: 'audit.bench.ts' },
  { name: 'rules', file: 'rules.bench.ts' },
  { name: 'sample', file: 'sample.bench.ts' },
];

/** Targets by figure name (from the issues). */
const TARGETS: Record<string, { target: number; atMost?: boolean }> = {
  'audit.write.ratio': { target: 0.85 },
  'audit.write.hot.ratio': { target: 0.8 },
  'audit.bulk.ratio': { target: 0.5 },
  'audit.verify.rate': { target: 200_000 },
  'audit.chain.lag.p99_ms': { target: 1000, atMost: true },
  'rules.decision.p50_us': { target: 2, atMost: true },
  'rules.vs.casbin': { target: 1 },
  'rules.vs.casl': { target: 1 },
  'rules.vs.cedar': { target: 1 },
  'sample.http.ratio': { target: 0.85 },
};

function unitOf(name: string): Figure['unit'] {
  if (name.endsWith('_us')) return 'us';
  if (name.endsWith('_ms')) return 'ms';
  if (name.endsWith('.rps')) return 'req/s';
  if (name.startsWith('audit.bytes')) return 'bytes';
  if (name.endsWith('.rate')) return '/s';
  return 'x';
}

/** Runs one suite in a child process (so TypeORM hooks and Nest apps never leak between suites). */
export async function runSuite(suite: Suite, env: NodeJS.ProcessEnv): Promise<Figure[]> {
  if (!existsSync(path.join(ROOT, 'bench', suite.file)))
    throw new Error(`bench/${suite.file} does not exist yet`);
  const { stdout } = await run(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      path.join(ROOT, 'bench', suite.file),
      '--json',
    ],
    { cwd: ROOT, env, maxBuffer: 64 * 2 ** 20 },
  );
  const last = stdout.trim().split('\n').pop() ?? '{}';
  const figures = JSON.parse(last) as Record<string, number>;
  return Object.entries(figures).map(([name, value]) => ({
    name,
    value,
    unit: unitOf(name),
    samples: [value],
    ...TARGETS[name],
  }));
}
