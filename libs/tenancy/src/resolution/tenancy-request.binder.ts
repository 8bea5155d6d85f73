import { Injectable } from '@nestjs/common';
import type { TenancyContext } from '../context/tenancy-context.interface';
import { ContextFrame, TenancyContextStore } from '../context/tenancy-context.store';
import { TenancyContextNotBoundError } from '../errors/tenancy.errors';
import { TenancyEventBus } from '../events/tenancy-events';

/**
 * Binds a frame around each HTTP request and fills in its tenant once the guard resolved it. Shared by the
 * middleware and the guard; not part of the public API.
 * @internal
 */
@Injectable()
export class TenancyRequestBinder {
  constructor(
    private readonly store: TenancyContextStore,
    readonly events: TenancyEventBus,
  ) {}

  /** Runs `fn` (the rest of the request) with a fresh, still unresolved frame. */
  bind<T>(correlationId: string, fn: (frame: TenancyContext & { readonly pending: boolean }) => T): T {
    const frame = new ContextFrame(correlationId, 'http');
    frame.pending = true;
    return this.store.run(frame, () => fn(frame));
  }

  /** Whether the current request still waits for its tenant. */
  pending(): boolean {
    const frame = this.store.frame();
    if (!frame) throw new TenancyContextNotBoundError();
    return frame.pending;
  }

  /** The request needs no tenant (`@NoTenant()` routes). */
  release(): void {
    const frame = this.store.frame();
    if (frame) frame.pending = false;
  }

  /** Fills in the resolved tenant and actor. */
  resolve(tenantIds: readonly string[], actor: TenancyContext['actor']): void {
    const frame = this.store.frame();
    if (!frame) throw new TenancyContextNotBoundError();
    frame.tenantIds = tenantIds;
    frame.actor = actor;
    frame.pending = false;
    this.events.report({ type: 'context.bound', source: 'http' }, frame);
  }

  /** The current frame, resolved or not. */
  frame(): TenancyContext | undefined {
    return this.store.frame();
  }
}
