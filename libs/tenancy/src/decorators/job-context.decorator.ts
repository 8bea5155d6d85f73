import type { RunContextInput } from '../context/tenancy-context.interface';
import { TenancyConfigurationError } from '../errors/tenancy.errors';
import { JOB_TENANCY_REF } from '../tenancy.internal-constants';

/** What {@link WithTenant} needs of the TenancyService. @internal */
export interface JobTenancy {
  run<T>(input: RunContextInput, fn: () => T): T;
  runUnscoped<T>(reason: string, fn: () => T): T;
}

function tenancyOf(instance: object, method: string): JobTenancy {
  const tenancy = (instance as Record<symbol, JobTenancy | undefined>)[JOB_TENANCY_REF];
  if (!tenancy) {
    throw new TenancyConfigurationError(
      `${instance.constructor.name}.${method} uses @WithTenant()/@Unscoped() but is not a provider of an application ` +
        'that imports TenancyModule.forRoot(). Register the class as a provider, or call TenancyService.run() yourself.',
    );
  }
  return tenancy;
}

/**
 * Binds a tenant context around a method that is not an HTTP handler: a queue consumer, a cron job, an event
 * handler. `select` maps the method's arguments to the tenant (or a full context with the actor):
 *
 * ```ts
 * @WithTenant((job: Job<InvoiceJob>) => ({ tenant: job.data.tenantId, actor: { type: 'service', id: 'mailer' } }))
 * async process(job: Job<InvoiceJob>) { ... }   // repositories are scoped to job.data.tenantId
 * ```
 */
export function WithTenant<A extends unknown[]>(
  select: (...args: A) => string | RunContextInput,
): MethodDecorator {
  return (_target, key, descriptor) => {
    const original = descriptor.value as unknown as (...args: A) => unknown;
    const wrapped = function (this: object, ...args: A): unknown {
      const chosen = select(...args);
      const input = typeof chosen === 'string' ? { tenant: chosen } : chosen;
      return tenancyOf(this, String(key)).run(input, () => original.apply(this, args));
    };
    (descriptor as PropertyDescriptor).value = wrapped;
    Reflect.defineMetadata(JOB_TENANCY_REF, true, wrapped);
    return descriptor;
  };
}

/**
 * Runs a method with tenant scoping off (maintenance jobs that must see every tenant). The reason is recorded
 * and reported as a `bypass.used` security event on every call.
 */
export function Unscoped(reason: string): MethodDecorator {
  return (_target, key, descriptor) => {
    const original = descriptor.value as unknown as (...args: unknown[]) => unknown;
    const wrapped = function (this: object, ...args: unknown[]): unknown {
      return tenancyOf(this, String(key)).runUnscoped(reason, () => original.apply(this, args));
    };
    (descriptor as PropertyDescriptor).value = wrapped;
    Reflect.defineMetadata(JOB_TENANCY_REF, true, wrapped);
    return descriptor;
  };
}
