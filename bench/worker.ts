/**
 * A bench worker process: opens one variant (see `WorkerKind`) and runs the parent's commands one at a time.
 * Started by bench/run.ts through `BenchWorker.start()`; not meant to be run by hand.
 */
import 'reflect-metadata';
import { TENANTS, randomInt } from './lib/entities';
import { heapUsedAfterGc, measure, runCount, type Request } from './lib/measure';
import {
  HOT_TENANT,
  describeError,
  type Command,
  type Reply,
  type TenantMode,
  type WorkerOptions,
} from './lib/protocol';
import { openVariant, type OpenVariant } from './lib/variants';

function reply(message: Reply): void {
  process.send!(message);
}

function requestFor(variant: OpenVariant, tenants: TenantMode): Request {
  return tenants === 'hot' ? () => variant.request(HOT_TENANT) : () => variant.request(randomInt(TENANTS));
}

async function handle(variant: OpenVariant, command: Command): Promise<Reply> {
  switch (command.type) {
    case 'measure': {
      const request = requestFor(variant, command.tenants);
      if (command.warmupSeconds > 0) await measure(request, command.warmupSeconds, command.concurrency);
      const result = await measure(request, command.seconds, command.concurrency);
      await variant.drain();
      return { type: 'measured', result };
    }
    case 'heap': {
      const request = requestFor(variant, 'many');
      await runCount(request, command.firstRequests, command.concurrency);
      const firstMb = await heapUsedAfterGc();
      await runCount(request, command.totalRequests - command.firstRequests, command.concurrency);
      const totalMb = await heapUsedAfterGc();
      if (firstMb === undefined || totalMb === undefined) {
        return { type: 'error', error: 'global.gc() is not exposed: start the worker with --expose-gc' };
      }
      await variant.drain();
      return { type: 'heap', firstMb, totalMb };
    }
    case 'close':
      await variant.close();
      return { type: 'closed' };
  }
}

async function main(): Promise<void> {
  if (!process.send) throw new Error('bench/worker.ts is started by bench/run.ts, not by hand');
  // the parent is gone (killed or crashed): do not linger holding connections
  process.on('disconnect', () => process.exit(1));
  const options = JSON.parse(process.argv[2] ?? '{}') as WorkerOptions;
  let variant: OpenVariant;
  try {
    variant = await openVariant(options);
    await variant.request(HOT_TENANT); // fail now, not in the middle of a round, when the variant cannot work
    await variant.drain();
  } catch (err) {
    reply({ type: 'failed', error: describeError(err) });
    process.disconnect();
    return;
  }
  process.on('message', (command: Command) => {
    handle(variant, command).then(
      (message) => {
        reply(message);
        if (message.type === 'closed') process.disconnect();
      },
      (err: unknown) => reply({ type: 'error', error: describeError(err) }),
    );
  });
  reply({ type: 'ready' });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench worker: ${describeError(err)}\n`);
  process.exit(1);
});
