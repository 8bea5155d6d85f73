import { randomUUID } from 'node:crypto';
import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import { TENANCY_MODULE_OPTIONS } from '../tenancy.module-definition';
import type { TenancyModuleOptions } from '../tenancy-options.interface';
import { TenancyRequestBinder } from './tenancy-request.binder';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Binds a fresh tenancy frame around each request with `AsyncLocalStorage.run()`. The tenant is filled in by
 * {@link TenancyGuard}, which knows the route (and so whether it is `@NoTenant()`).
 */
@Injectable()
export class TenancyMiddleware implements NestMiddleware {
  private readonly header: string;

  constructor(
    private readonly binder: TenancyRequestBinder,
    @Inject(TENANCY_MODULE_OPTIONS) options: TenancyModuleOptions,
  ) {
    this.header = (options.correlationIdHeader ?? 'x-request-id').toLowerCase();
  }

  use(
    req: { headers: Record<string, string | string[] | undefined> },
    res: { once?: Function },
    next: () => void,
  ) {
    const incoming = req.headers[this.header];
    const correlationId =
      typeof incoming === 'string' && CORRELATION_ID.test(incoming) ? incoming : randomUUID();
    this.binder.bind(correlationId, (frame) => {
      if (this.binder.events.active && typeof res.once === 'function') {
        res.once('close', () => {
          if (!frame.pending) this.binder.events.report({ type: 'context.released', source: 'http' }, frame);
        });
      }
      next();
    });
  }
}
