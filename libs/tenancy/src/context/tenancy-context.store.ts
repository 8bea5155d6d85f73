import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { Actor, ContextSource, TenancyContext } from './tenancy-context.interface';

/**
 * The mutable frame behind a {@link TenancyContext}. A frame is created per request or job and bound with
 * `AsyncLocalStorage.run()`; the HTTP guard fills in the tenant of the request's own frame after resolution.
 * @internal
 */
export class ContextFrame implements TenancyContext {
  tenantIds: readonly string[] = [];
  actor: Actor | undefined;
  unscopedReason: string | undefined;
  rawSqlReason: string | undefined;
  /** true while an HTTP request's tenant has not been resolved yet */
  pending = false;

  constructor(
    public correlationId: string,
    public source: ContextSource,
  ) {}

  get tenantId(): string | undefined {
    return this.tenantIds.length === 1 ? this.tenantIds[0] : undefined;
  }

  derive(source: ContextSource): ContextFrame {
    const f = new ContextFrame(this.correlationId, source);
    f.tenantIds = this.tenantIds;
    f.actor = this.actor;
    f.unscopedReason = this.unscopedReason;
    f.rawSqlReason = this.rawSqlReason;
    return f;
  }
}

/**
 * Owns the one AsyncLocalStorage of a TenancyModule. Frames are only ever bound with `run()`, never
 * `enterWith()`, so a context cannot outlive its call chain or bleed into the next request.
 * @internal
 */
@Injectable()
export class TenancyContextStore {
  private readonly als = new AsyncLocalStorage<ContextFrame>();

  frame(): ContextFrame | undefined {
    return this.als.getStore();
  }

  run<T>(frame: ContextFrame, fn: () => T): T {
    return this.als.run(frame, fn);
  }
}
