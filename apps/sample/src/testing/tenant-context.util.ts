import type { INestApplicationContext } from '@nestjs/common';
import { TenancyService, type Actor } from '@bulkhead/tenancy';

/** The test actor used when none is given. */
export const TEST_ACTOR: Actor = { type: 'service', id: 'test' };

/**
 * Runs `fn` as `tenant` (and `actor`): every TypeORM call inside is scoped to it, exactly as in a request.
 *
 * ```ts
 * const rows = await asTenant(app, 'acme', () => invoices.find());
 * ```
 */
export function asTenant<T>(
  app: INestApplicationContext,
  tenant: string,
  fn: () => T,
  actor: Actor = TEST_ACTOR,
): T {
  return app.get(TenancyService, { strict: false }).run({ tenant, actor }, fn);
}

/** Runs `fn` with tenant scoping off (every tenant's rows visible); the reason is recorded as a bypass. */
export function asUnscoped<T>(app: INestApplicationContext, reason: string, fn: () => T): T {
  return app.get(TenancyService, { strict: false }).runUnscoped(reason, fn);
}
