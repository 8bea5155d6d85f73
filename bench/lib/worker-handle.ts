import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './config';
import type { Command, Reply, WorkerOptions } from './protocol';

const WORKER_SCRIPT = path.join(ROOT, 'bench', 'worker.ts');
/** How the worker runs TypeScript (as `npm run bench` does) and exposes `global.gc()` for the heap figures. */
const WORKER_EXEC_ARGV = [
  '-r',
  'ts-node/register/transpile-only',
  '-r',
  'tsconfig-paths/register',
  '--expose-gc',
];

/** A worker process running one variant (bench/worker.ts), driven one command at a time. */
export class BenchWorker {
  private pending: { resolve: (reply: Reply) => void; reject: (err: Error) => void } | undefined;
  private exited: Error | undefined;

  private constructor(
    private readonly child: ChildProcess,
    /** Label used in error messages. */
    readonly label: string,
  ) {
    child.on('message', (message: Reply) => {
      const pending = this.pending;
      this.pending = undefined;
      pending?.resolve(message);
    });
    child.on('exit', (code, signal) => {
      this.exited = new Error(`worker ${label} exited (${signal ?? `code ${code}`})`);
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(this.exited);
    });
  }

  /**
   * Starts a worker process and waits until its variant is open and answered one request. Rejects with the
   * worker's error when the variant cannot be opened.
   */
  static async start(label: string, options: WorkerOptions): Promise<BenchWorker> {
    const child = fork(WORKER_SCRIPT, [JSON.stringify(options)], {
      cwd: ROOT,
      execArgv: WORKER_EXEC_ARGV,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker = new BenchWorker(child, label);
    const first = await worker.next();
    if (first.type === 'failed') {
      worker.kill();
      throw new Error(first.error);
    }
    if (first.type !== 'ready') throw new Error(`worker ${label}: unexpected first message ${first.type}`);
    return worker;
  }

  /** Sends a command and resolves with the worker's reply; an `error` reply rejects. */
  async send(command: Command): Promise<Reply> {
    if (this.exited) throw this.exited;
    const reply = this.next();
    this.child.send(command);
    const message = await reply;
    if (message.type === 'error') throw new Error(`worker ${this.label}: ${message.error}`);
    return message;
  }

  /** Closes the worker's DataSource and lets the process end; kills it if it does not answer in time. */
  async close(): Promise<void> {
    if (this.exited) return;
    const timer = setTimeout(() => this.kill(), 10_000);
    try {
      await this.send({ type: 'close' });
    } catch {
      this.kill();
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the worker process (used on failures and interruption). */
  kill(): void {
    if (!this.exited && this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  private next(): Promise<Reply> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
    });
  }
}
