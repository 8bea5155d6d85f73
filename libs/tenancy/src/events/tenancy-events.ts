import { Injectable, Logger } from '@nestjs/common';
import { Actor, ContextSource, TenancyContext } from '../context/tenancy-context.interface';

interface EventBase {
  /** When it happened. */
  readonly at: Date;
  /** Correlation id of the context it happened in, if any. */
  readonly correlationId: string | undefined;
  /** Tenant(s) in context when it happened. */
  readonly tenantIds: readonly string[];
  /** Actor in context when it happened. */
  readonly actor: Actor | undefined;
}

/** A tenant context was bound for a request or job. */
export interface ContextBoundEvent extends EventBase {
  readonly type: 'context.bound';
  readonly source: ContextSource;
}
/** A request's or job's context ended. */
export interface ContextReleasedEvent extends EventBase {
  readonly type: 'context.released';
  readonly source: ContextSource;
}
/** `runUnscoped(reason, fn)` or `runWithRawSql(reason, fn)` was used. */
export interface BypassUsedEvent extends EventBase {
  readonly type: 'bypass.used';
  readonly kind: 'unscoped' | 'raw-sql';
  readonly reason: string;
}
/** An operation was refused by the isolation layer (missing context, cross-tenant write, raw SQL...). */
export interface ViolationRefusedEvent extends EventBase {
  readonly type: 'violation.refused';
  /** Name of the error class that refused it. */
  readonly error: string;
  readonly message: string;
}
/** A request's tenant could not be resolved or validated. */
export interface ResolutionFailedEvent extends EventBase {
  readonly type: 'resolution.failed';
  readonly error: string;
  readonly message: string;
}

/** Every security event the tenancy layer emits. */
export type TenancyEvent =
  ContextBoundEvent | ContextReleasedEvent | BypassUsedEvent | ViolationRefusedEvent | ResolutionFailedEvent;

/**
 * Receives tenancy security events. Register listeners with the `listeners` option of
 * `TenancyModule.forRoot()` or at run time with `TenancyService.subscribe()`. Listeners run synchronously on the
 * hot path: hand heavy work off (queue, batch). A listener that throws is logged and never breaks the request.
 */
export interface TenancyEventListener {
  onTenancyEvent(event: TenancyEvent): void;
}

/** Fans events out to the registered listeners. @internal */
@Injectable()
export class TenancyEventBus {
  private readonly logger = new Logger('Bulkhead:Tenancy');
  private listeners: TenancyEventListener[] = [];

  get active(): boolean {
    return this.listeners.length > 0;
  }

  subscribe(listener: TenancyEventListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Emits an event stamped with a context's tenant, actor and correlation id (no-op without listeners). */
  report(
    event: DistributiveOmit<TenancyEvent, 'at' | 'correlationId' | 'tenantIds' | 'actor'>,
    frame: TenancyContext | undefined,
  ): void {
    if (!this.active) return;
    this.emit({
      ...event,
      at: new Date(),
      correlationId: frame?.correlationId,
      tenantIds: frame?.tenantIds ?? [],
      actor: frame?.actor,
    } as TenancyEvent);
  }

  emit(event: TenancyEvent): void {
    for (const listener of this.listeners) {
      try {
        listener.onTenancyEvent(event);
      } catch (err) {
        this.logger.error(`A tenancy event listener failed on ${event.type}: ${(err as Error).message}`);
      }
    }
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
