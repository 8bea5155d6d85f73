import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** One line of the result table. */
export interface Figure {
  readonly name: string;
  /** The median over the runs. */
  readonly value: number;
  readonly unit: 'req/s' | 'x' | 'MiB' | 'us' | 'ms' | 'bytes' | '/s';
  /** Every run's value (one for the heap figures). */
  readonly samples: readonly number[];
  /** The value to reach (at least, or at most with `atMost`), when there is one. */
  readonly target?: number;
  /** The target is an upper bound (latencies, lag). */
  readonly atMost?: boolean;
}

/** The JSON written to bench/results. */
export interface ResultFile {
  readonly figures: Record<string, number>;
  readonly machine: string;
  readonly date: string;
  readonly mode: 'full' | 'quick';
  /** Per-run values behind each median. */
  readonly samples: Record<string, readonly number[]>;
  /** Variants that failed, failed requests, and other remarks. */
  readonly notes: readonly string[];
}

const DECIMALS: Record<Figure['unit'], number> = {
  'req/s': 1,
  x: 3,
  MiB: 2,
  us: 2,
  ms: 1,
  bytes: 0,
  '/s': 0,
};

function round(value: number, unit: Figure['unit']): number {
  const factor = 10 ** DECIMALS[unit];
  return Math.round(value * factor) / factor;
}

function fmt(value: number, unit: Figure['unit']): string {
  return value.toFixed(DECIMALS[unit]);
}

/** CPU model and count, memory, Node and PostgreSQL versions. */
export function describeMachine(postgresVersion: string): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  const memGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  return `${model}, ${cpus.length} cores, ${memGiB} GiB RAM, Node ${process.version}, ${postgresVersion}`;
}

/** Renders the figures as a fixed-width table: median, spread over the runs, target and median / target. */
export function formatTable(figures: readonly Figure[]): string {
  const header = ['figure', 'median', 'unit', 'min .. max (runs)', 'target', 'vs target'];
  const rows = figures.map((f) => {
    const min = Math.min(...f.samples);
    const max = Math.max(...f.samples);
    return [
      f.name,
      fmt(f.value, f.unit),
      f.unit,
      f.samples.length > 1 ? `${fmt(min, f.unit)} .. ${fmt(max, f.unit)} (${f.samples.length})` : '',
      f.target === undefined ? '' : `${f.atMost ? '<=' : '>='} ${f.target}`,
      // above 1 means the target is met, either way round
      f.target === undefined ? '' : `${(f.atMost ? f.target / f.value : f.value / f.target).toFixed(3)}`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 || i === 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Writes the result file (creating its directory) and returns it. */
export async function writeResults(
  file: string,
  figures: readonly Figure[],
  meta: Pick<ResultFile, 'machine' | 'date' | 'mode' | 'notes'>,
): Promise<ResultFile> {
  const result: ResultFile = {
    figures: Object.fromEntries(figures.map((f) => [f.name, round(f.value, f.unit)])),
    machine: meta.machine,
    date: meta.date,
    mode: meta.mode,
    samples: Object.fromEntries(figures.map((f) => [f.name, f.samples.map((s) => round(s, f.unit))])),
    notes: meta.notes,
  };
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(result, null, 2) + '\n');
  return result;
}
