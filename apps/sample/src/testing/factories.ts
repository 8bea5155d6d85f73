import type { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource, DeepPartial, EntityTarget, ObjectLiteral } from 'typeorm';
import { asTenant, TEST_ACTOR } from './tenant-context.util';
import type { Actor } from '@bulkhead/tenancy';

/** Builds and saves entities with sequential defaults. */
export interface Factory<T extends ObjectLiteral> {
  /** An unsaved entity: the defaults for the next sequence number, then `overrides`. */
  build(overrides?: DeepPartial<T>): T;
  /** Saves one entity as `tenant` through the app's (scoped) DataSource: the tenant column comes from context. */
  create(tenant: string, overrides?: DeepPartial<T>, actor?: Actor): Promise<T>;
  /** Saves `count` entities as `tenant`. */
  createMany(tenant: string, count: number, overrides?: DeepPartial<T>, actor?: Actor): Promise<T[]>;
}

/**
 * A factory for an entity of the app under test. Saves go through the app's own DataSource inside
 * `TenancyService.run()`, so they take the same scoping, RLS binding and audit path as production code.
 *
 * ```ts
 * const invoices = defineFactory(app, Invoice, (n) => ({ customer: `Customer ${n}`, amount: 100 * n, createdBy: 'u1' }));
 * const [a1, a2] = await invoices.createMany('acme', 2);
 * ```
 */
export function defineFactory<T extends ObjectLiteral>(
  app: INestApplicationContext,
  entity: EntityTarget<T>,
  defaults: (sequence: number) => DeepPartial<NoInfer<T>>,
  options: { dataSource?: string } = {},
): Factory<T> {
  let sequence = 0;
  const dataSource = () => app.get<DataSource>(getDataSourceToken(options.dataSource), { strict: false });
  const build = (overrides: DeepPartial<T> = {} as DeepPartial<T>): T => {
    sequence += 1;
    const repo = dataSource().getRepository(entity);
    return repo.create({ ...defaults(sequence), ...overrides } as DeepPartial<T>);
  };
  const create = (tenant: string, overrides?: DeepPartial<T>, actor: Actor = TEST_ACTOR) =>
    asTenant(app, tenant, () => dataSource().getRepository(entity).save(build(overrides)), actor);
  return {
    build,
    create,
    async createMany(tenant, count, overrides, actor) {
      const out: T[] = [];
      for (let i = 0; i < count; i++) out.push(await create(tenant, overrides, actor));
      return out;
    },
  };
}
