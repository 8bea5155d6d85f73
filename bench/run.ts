/**
 * Bulkhead benchmark: `npm run bench` (full, ~3-4 minutes) or `BENCH_QUICK=1 npm run bench` (~1 minute smoke).
 *
 * Creates the `bulkhead_bench` database (dropped at the end), then measures request throughput at 16
 * concurrent loops sharing one DataSource (pool of 16). A request is a `findOneBy({ id })` of a random row of
 * the request's tenant plus a 20-row page. Variants run in worker processes of their own (bench/worker.ts)
 * and are interleaved run by run (A, B, C, A, B, C, ...), each warmed up before it is measured. Every figure
 * is the median over the runs; a ratio is the median of the per-round ratios to the baseline measured in the
 * same round. Finally a fresh worker sends 100,000 Bulkhead RLS requests and reports the heap after GC.
 *
 * Nothing is asserted: the table shows each ratio against its target, and the figures go to
 * bench/results/latest.json (quick runs: latest-quick.json).
 */
import 'reflect-metadata';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { loadConfig, ROOT, type BenchConfig, type BenchUrls } from './lib/config';
import { createBenchDatabase, dropBenchDatabase, serverVersion } from './lib/db';
import { median } from './lib/measure';
import type { TenantMode, WorkerKind } from './lib/protocol';
import { describeMachine, formatTable, writeResults, type Figure } from './lib/report';
import { SUITES, runSuite } from './lib/suites';
import { BenchWorker } from './lib/worker-handle';

interface VariantSpec {
  readonly id: string;
  readonly worker: WorkerKind;
  readonly tenants: TenantMode;
  /** Name of its absolute throughput figure. */
  readonly rpsFigure: string;
}

/** Name of a variant's Node CPU figure (worker process CPU time per request). */
function cpuFigure(variant: VariantSpec): string {
  return `node.cpu.us.${variant.id}`;
}

const VARIANTS: readonly VariantSpec[] = [
  { id: 'baseline.many', worker: 'plain', tenants: 'many', rpsFigure: 'baseline.rps.many' },
  { id: 'bulkhead.read', worker: 'bulkhead', tenants: 'many', rpsFigure: 'bulkhead.read.rps' },
  { id: 'bulkhead.rls.many', worker: 'bulkhead-rls', tenants: 'many', rpsFigure: 'bulkhead.rls.many.rps' },
  { id: 'avallone.rls.many', worker: 'avallone', tenants: 'many', rpsFigure: 'avallone.rls.many.rps' },
  { id: 'baseline.hot', worker: 'plain', tenants: 'hot', rpsFigure: 'baseline.rps.hot' },
  { id: 'bulkhead.rls.hot', worker: 'bulkhead-rls', tenants: 'hot', rpsFigure: 'bulkhead.rls.hot.rps' },
  { id: 'avallone.rls.hot', worker: 'avallone', tenants: 'hot', rpsFigure: 'avallone.rls.hot.rps' },
];

interface RatioSpec {
  readonly name: string;
  readonly variant: string;
  readonly baseline: string;
  readonly target?: number;
}

const RATIOS: readonly RatioSpec[] = [
  { name: 'tenancy.read.ratio', variant: 'bulkhead.read', baseline: 'baseline.many', target: 0.95 },
  { name: 'tenancy.rls.hot.ratio', variant: 'bulkhead.rls.hot', baseline: 'baseline.hot', target: 0.9 },
  { name: 'tenancy.rls.many.ratio', variant: 'bulkhead.rls.many', baseline: 'baseline.many', target: 0.75 },
  { name: 'avallone.rls.hot.ratio', variant: 'avallone.rls.hot', baseline: 'baseline.hot' },
  { name: 'avallone.rls.many.ratio', variant: 'avallone.rls.many', baseline: 'baseline.many' },
];

interface Sample {
  readonly rps: number;
  readonly cpuMicrosPerRequest: number;
}

/** Each variant's measurement by round (absent when the variant failed in that round). */
type Rounds = Map<string, Sample>[];

const liveWorkers = new Set<BenchWorker>();

function log(line: string): void {
  process.stdout.write(line + '\n');
}

function urlFor(kind: WorkerKind, urls: BenchUrls): string {
  // superusers bypass RLS: the RLS variants connect as the application role
  return kind === 'bulkhead-rls' || kind === 'avallone' ? urls.app : urls.admin;
}

async function startWorker(label: string, kind: WorkerKind, config: BenchConfig, urls: BenchUrls) {
  const worker = await BenchWorker.start(label, { kind, url: urlFor(kind, urls), poolSize: config.poolSize });
  liveWorkers.add(worker);
  return worker;
}

async function stopWorker(worker: BenchWorker): Promise<void> {
  liveWorkers.delete(worker);
  await worker.close();
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

/** Starts one worker per kind, then measures every variant `config.runs` times, interleaved. */
async function measureThroughput(config: BenchConfig, urls: BenchUrls, notes: string[]): Promise<Rounds> {
  const kinds = [...new Set(VARIANTS.map((v) => v.worker))];
  const workers = new Map<WorkerKind, BenchWorker>();
  const started = await Promise.allSettled(kinds.map((kind) => startWorker(kind, kind, config, urls)));
  started.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled') workers.set(kinds[i], outcome.value);
    else {
      const variants = VARIANTS.filter((v) => v.worker === kinds[i]).map((v) => v.id);
      const error = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
      const summary = error
        .split('\n')
        .slice(0, 2)
        .map((line) => line.trim())
        .join(' ');
      notes.push(`${variants.join(', ')}: no figures, the variant failed to start: ${summary}`);
      log(`!! ${kinds[i]} failed to start, its variants are skipped:\n${error.replace(/^/gm, '   ')}`);
    }
  });

  const rounds: Rounds = [];
  try {
    for (let round = 0; round < config.runs; round++) {
      const results = new Map<string, Sample>();
      rounds.push(results);
      // rotate the order every round, so no variant always runs right after the same neighbour
      const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
      for (const variant of order) {
        const worker = workers.get(variant.worker);
        if (!worker) continue;
        const warmupSeconds = round === 0 ? config.firstWarmupSeconds : config.warmupSeconds;
        let reply;
        try {
          reply = await worker.send({
            type: 'measure',
            tenants: variant.tenants,
            warmupSeconds,
            seconds: config.seconds,
            concurrency: config.concurrency,
          });
        } catch (err) {
          notes.push(`${variant.worker}: worker failed in round ${round + 1}: ${firstLine(err)}`);
          log(`!! ${variant.worker} failed: ${err instanceof Error ? err.message : String(err)}`);
          worker.kill();
          liveWorkers.delete(worker);
          workers.delete(variant.worker);
          continue;
        }
        if (reply.type !== 'measured') throw new Error(`unexpected reply ${reply.type} from ${worker.label}`);
        const r = reply.result;
        const label = `[run ${round + 1}/${config.runs}] ${variant.id.padEnd(18)}`;
        if (r.errors > 0) {
          notes.push(
            `${variant.id} run ${round + 1} discarded: ${r.errors} of ${r.errors + r.requests} requests failed (${r.firstError})`,
          );
          log(`${label} ${r.errors} failed requests, run discarded: ${r.firstError}`);
          continue;
        }
        results.set(variant.id, { rps: r.rps, cpuMicrosPerRequest: r.cpuMicrosPerRequest });
        log(
          `${label} ${r.rps.toFixed(1).padStart(8)} req/s  ${r.cpuMicrosPerRequest.toFixed(0).padStart(4)} us Node CPU/req` +
            `  (${r.requests} requests in ${r.seconds.toFixed(2)} s)`,
        );
      }
    }
  } finally {
    await Promise.all([...workers.values()].map(stopWorker));
  }
  return rounds;
}

interface HeapFigures {
  readonly firstMb: number;
  readonly totalMb: number;
}

/** Sends `heapTotalRequests` Bulkhead RLS requests in a fresh worker and reads the heap after GC twice. */
async function measureHeap(
  config: BenchConfig,
  urls: BenchUrls,
  notes: string[],
): Promise<HeapFigures | undefined> {
  log(`\nheap: ${config.heapTotalRequests} Bulkhead rls:true requests, random tenants, fresh worker process`);
  let worker: BenchWorker | undefined;
  try {
    worker = await startWorker('heap', 'bulkhead-rls', config, urls);
    const reply = await worker.send({
      type: 'heap',
      firstRequests: config.heapFirstRequests,
      totalRequests: config.heapTotalRequests,
      concurrency: config.concurrency,
    });
    if (reply.type !== 'heap') throw new Error(`unexpected reply ${reply.type} from the heap worker`);
    return reply;
  } catch (err) {
    notes.push(`heap figures missing: ${firstLine(err)}`);
    log(`!! heap measurement failed: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  } finally {
    if (worker) await stopWorker(worker);
  }
}

function countLabel(n: number): string {
  return n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

function buildFigures(config: BenchConfig, rounds: Rounds, heap: HeapFigures | undefined): Figure[] {
  const figures: Figure[] = [];
  for (const v of VARIANTS) {
    const samples = rounds.flatMap((r) => (r.has(v.id) ? [r.get(v.id)!.rps] : []));
    if (samples.length) figures.push({ name: v.rpsFigure, value: median(samples), unit: 'req/s', samples });
  }
  for (const ratio of RATIOS) {
    // paired per round: the variant against the baseline measured in the same round
    const samples = rounds.flatMap((r) => {
      const variant = r.get(ratio.variant);
      const baseline = r.get(ratio.baseline);
      return variant && baseline ? [variant.rps / baseline.rps] : [];
    });
    if (samples.length) {
      figures.push({ name: ratio.name, value: median(samples), unit: 'x', samples, target: ratio.target });
    }
  }
  for (const v of VARIANTS) {
    const samples = rounds.flatMap((r) => (r.has(v.id) ? [r.get(v.id)!.cpuMicrosPerRequest] : []));
    if (samples.length) figures.push({ name: cpuFigure(v), value: median(samples), unit: 'us', samples });
  }
  if (heap) {
    const first = `tenancy.heap.after${countLabel(config.heapFirstRequests)}.mb`;
    const total = `tenancy.heap.after${countLabel(config.heapTotalRequests)}.mb`;
    figures.push(
      { name: first, value: heap.firstMb, unit: 'MiB', samples: [heap.firstMb] },
      { name: total, value: heap.totalMb, unit: 'MiB', samples: [heap.totalMb] },
      {
        name: 'tenancy.heap.growth.ratio',
        value: heap.totalMb / heap.firstMb,
        unit: 'x',
        samples: [heap.totalMb / heap.firstMb],
      },
    );
  }
  return figures;
}

/** A 1-minute load average above this at start means something else is running on the machine. */
const BUSY_LOAD = 0.5;

/** Above this max/min spread of a baseline over the runs, the ratios are flagged as unreliable. */
const NOISY_SPREAD = 1.25;

/** Flags a noisy machine: the baseline, identical in every run, should not vary much between runs. */
function noiseNotes(figures: readonly Figure[]): string[] {
  return figures
    .filter((f) => f.name.startsWith('baseline.rps.') && f.samples.length > 1)
    .flatMap((f) => {
      const spread = Math.max(...f.samples) / Math.min(...f.samples);
      return spread > NOISY_SPREAD
        ? [
            `${f.name} varied ${spread.toFixed(2)}x between runs of the same code: the machine was noisy, ` +
              'so read the ratios with their min .. max, and compare medians across several bench runs',
          ]
        : [];
    });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const startedAt = performance.now();
  const notes: string[] = [];
  const [loadAtStart] = os.loadavg();
  if (loadAtStart > BUSY_LOAD) {
    // other processes compete for the same cores: throughput figures then say little
    notes.push(`load average was ${loadAtStart.toFixed(2)} at start: other processes were using the CPU`);
  }
  const machine = describeMachine(await serverVersion(config.serverUrl));
  log(`Bulkhead bench (${config.quick ? 'quick' : 'full'}): ${machine}`);
  log(
    `${config.runs} runs x ${config.seconds} s per variant, interleaved; ${config.concurrency} loops, pool ${config.poolSize}; ` +
      `request = findOneBy({ id }) + 20-row page\n`,
  );

  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    log('\ninterrupted: stopping workers and dropping the bench database');
    for (const worker of liveWorkers) worker.kill();
    dropBenchDatabase(config.serverUrl).finally(() => process.exit(130));
  });

  const urls = await createBenchDatabase(config.serverUrl);
  try {
    const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
    const wanted = (name: string) => only.length === 0 || only.includes(name);
    const figures: Figure[] = [];
    if (wanted('tenancy')) {
      const rounds = await measureThroughput(config, urls, notes);
      const heap = await measureHeap(config, urls, notes);
      figures.push(...buildFigures(config, rounds, heap));
    }
    for (const suite of SUITES.filter((x) => wanted(x.name))) {
      if (interrupted) return;
      log(`running the ${suite.name} suite`);
      try {
        figures.push(...(await runSuite(suite, { ...process.env, DATABASE_URL: config.serverUrl })));
      } catch (err) {
        notes.push(`${suite.name} suite failed: ${firstLine(err)}`);
        log(`!! ${suite.name} suite failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (interrupted) return;
    notes.push(...noiseNotes(figures));
    if (config.quick) notes.push('quick smoke run (BENCH_QUICK=1): short runs, not for comparison');
    log(`\n${formatTable(figures)}`);
    if (notes.length) log(`\nnotes:\n${notes.map((n) => `- ${n}`).join('\n')}`);
    await writeResults(config.resultFile, figures, {
      machine,
      date: new Date().toISOString(),
      mode: config.quick ? 'quick' : 'full',
      notes,
    });
    const minutes = (performance.now() - startedAt) / 60_000;
    log(
      `\nwrote ${path.relative(ROOT, config.resultFile)} in ${minutes.toFixed(1)} min ` +
        `(load average ${loadAtStart.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at the end)`,
    );
  } finally {
    for (const worker of liveWorkers) worker.kill();
    if (!interrupted) await dropBenchDatabase(config.serverUrl);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
