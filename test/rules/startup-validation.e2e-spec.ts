/** Start-up validation: each malformed configuration stops the app with a message naming the culprit. */
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TenancyModule } from '@bulkhead/tenancy';
import {
  RequirePermission,
  RequireRole,
  RULES_ENTITIES,
  RulesModule,
  type RulesModuleOptions,
} from '@bulkhead/rules';
import { createTestDatabase, type TestDatabase } from '../db/test-database';
import { testPolicy } from './rules-fixtures';

const base = testPolicy();

async function boot(options: RulesModuleOptions, controllers: (new () => object)[] = [], entities = true) {
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        type: 'postgres',
        url: db.appUrl,
        entities: entities ? [...RULES_ENTITIES] : [],
        poolSize: 1,
      }),
      TenancyModule.forRoot({ acceptAnyTenant: true }),
      RulesModule.forRoot(options),
    ],
    controllers,
  })
  class StartupModule {}
  const app = await NestFactory.create(StartupModule, { logger: false, abortOnError: false });
  await app.init();
  return app;
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('rules_start');
});
afterAll(async () => {
  await db?.drop();
});

describe('RulesModule start-up validation', () => {
  const cases: [string, RulesModuleOptions, string][] = [
    [
      'unknown included role',
      { ...base, roles: { ...base.roles, admin: { includes: ['memebr'] } } },
      'Role "admin" includes unknown role "memebr".',
    ],
    [
      'inheritance cycle',
      { roles: { a: { includes: ['b'] }, b: { includes: ['c'] }, c: { includes: ['a'] } } },
      'Roles include each other in a cycle: a -> b -> c -> a.',
    ],
    [
      'role including itself',
      { roles: { a: { includes: ['a'] } } },
      'Roles include each other in a cycle: a -> a.',
    ],
    [
      'unknown permission granted to a role',
      { ...base, roles: { ...base.roles, viewer: { permissions: ['invoce:read'] } } },
      'Role "viewer" is granted unknown permission "invoce:read".',
    ],
    [
      'wildcard over an unknown resource type',
      { ...base, roles: { ...base.roles, viewer: { permissions: ['invoce:*'] } } },
      'Role "viewer" is granted unknown permission "invoce:*".',
    ],
    [
      'malformed permission in the catalogue',
      { ...base, permissions: ['invoice'] },
      'Permission "invoice" is malformed',
    ],
    [
      'rule with an unknown action',
      { ...base, rules: [{ id: 'r1', effect: 'deny', actions: ['invoice:aprove'] }] },
      'Rule "r1" names unknown permission "invoice:aprove".',
    ],
    [
      'rule bound to an unknown role',
      {
        ...base,
        rules: [
          { id: 'r2', effect: 'allow', actions: ['invoice:read'], bind: { type: 'role', role: 'admn' } },
        ],
      },
      'Rule "r2" is bound to unknown role "admn".',
    ],
    [
      'malformed condition',
      {
        ...base,
        rules: [{ id: 'r3', effect: 'deny', actions: ['invoice:read'], conditions: 'resource.amount >> 5' }],
      },
      'Rule "r3" has a malformed condition: Condition "resource.amount >> 5" is malformed at position 17: unexpected ">"',
    ],
    [
      'condition naming an unknown root',
      {
        ...base,
        rules: [{ id: 'r4', effect: 'deny', actions: ['invoice:read'], conditions: 'user.id == 1' }],
      },
      'unknown name "user"',
    ],
    [
      'bad effect',
      { ...base, rules: [{ id: 'r5', effect: 'forbid' as 'deny', actions: ['invoice:read'] }] },
      'Rule "r5" has effect "forbid"; use "allow" or "deny".',
    ],
    [
      'duplicate rule id',
      {
        ...base,
        rules: [
          { id: 'dup', effect: 'deny', actions: ['invoice:read'] },
          { id: 'dup', effect: 'allow', actions: ['invoice:read'] },
        ],
      },
      'Rule id "dup" is used twice.',
    ],
    [
      'rule without actions',
      { ...base, rules: [{ id: 'r6', effect: 'deny', actions: [] }] },
      'Rule "r6" names no actions',
    ],
    [
      'unknown parent resource type',
      { ...base, resources: { document: { parent: 'projct', parentField: 'projectId' } } },
      'Resource type "document" has unknown parent "projct".',
    ],
    [
      'resource hierarchy cycle',
      {
        ...base,
        resources: { a: { parent: 'b', parentField: 'bId' }, b: { parent: 'a', parentField: 'aId' } },
      },
      'Resource hierarchy has a cycle: a > b > a.',
    ],
  ];

  it.each(cases)('refuses %s', async (_name, options, message) => {
    await expect(boot(options)).rejects.toMatchObject({ name: 'RulesConfigurationError' });
    await expect(boot(options)).rejects.toThrow(message);
  });

  it('refuses a route decorator naming an unknown role', async () => {
    @Controller()
    class BadRoleController {
      @Get('x')
      @RequireRole('admn')
      x() {}
    }
    await expect(boot(base, [BadRoleController])).rejects.toThrow(
      '@RequireRole() on BadRoleController.x() names unknown role "admn".',
    );
  });

  it('refuses a route decorator naming an unknown permission', async () => {
    @Controller()
    @RequirePermission('invoice:raed')
    class BadPermissionController {
      @Get('x')
      x() {}
    }
    await expect(boot(base, [BadPermissionController])).rejects.toThrow(
      '@RequirePermission() on BadPermissionController names unknown permission "invoice:raed".',
    );
  });

  it('refuses a DataSource without the rules entities', async () => {
    await expect(boot(base, [], false)).rejects.toThrow('Entity RulesMembership is not in the DataSource');
  });

  it('starts with the valid policy', async () => {
    const app = await boot(base);
    await app.close();
  });
});
