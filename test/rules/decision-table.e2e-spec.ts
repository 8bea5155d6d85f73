/**
 * The decision table: inheritance, resource hierarchy, conditions, tenant separation and deny-overrides, each
 * case asserting the decision and the deciding rule ids of explain() (and can() agreeing), against memberships
 * and stored rules in a real PostgreSQL.
 */
import type { INestApplication } from '@nestjs/common';
import { RulesService, type RolePathEntry, type RulesPrincipal } from '@bulkhead/rules';
import { createTestDatabase, type TestDatabase } from '../db/test-database';
import { createRulesSchema, startRulesApp } from './rules-fixtures';

const user = (id: string): RulesPrincipal => ({ id, type: 'user' });
const small = (createdBy: string) => ({ id: 1, amount: 500, createdBy, status: 'draft' });
const huge = (createdBy: string) => ({ id: 2, amount: 2_000_000, createdBy, status: 'draft' });
const doc = (id: string, projectId: string, archived = false) => ({ id, projectId, archived });

interface Case {
  name: string;
  principal: RulesPrincipal;
  tenant: string;
  action: string;
  resource?: object;
  context?: Record<string, unknown>;
  decision: 'allow' | 'deny';
  ids: string[];
  rolePath?: RolePathEntry[];
}

const cases: Case[] = [
  // role inheritance
  {
    name: 'owner approves through inherited admin wildcard and own *',
    principal: user('alice'),
    tenant: 't1',
    action: 'invoice:approve',
    resource: small('zed'),
    decision: 'allow',
    ids: ['role:owner', 'role:admin'],
  },
  {
    name: 'member reads through inherited viewer',
    principal: user('bob'),
    tenant: 't1',
    action: 'invoice:read',
    decision: 'allow',
    ids: ['role:viewer'],
    rolePath: [{ role: 'viewer', grantedOn: 'tenant', inheritedFrom: 'member', via: ['member', 'viewer'] }],
  },
  {
    name: 'viewer reads directly',
    principal: user('carol'),
    tenant: 't1',
    action: 'invoice:read',
    decision: 'allow',
    ids: ['role:viewer'],
    rolePath: [{ role: 'viewer', grantedOn: 'tenant' }],
  },
  {
    name: 'viewer cannot create',
    principal: user('carol'),
    tenant: 't1',
    action: 'invoice:create',
    decision: 'deny',
    ids: [],
  },
  {
    name: 'admin deletes through invoice:*',
    principal: user('dave'),
    tenant: 't1',
    action: 'invoice:delete',
    decision: 'allow',
    ids: ['role:admin'],
  },
  {
    name: 'owner exports through *',
    principal: user('alice'),
    tenant: 't1',
    action: 'report:export',
    decision: 'allow',
    ids: ['role:owner'],
  },
  {
    name: 'no roles, no rules: deny by default',
    principal: user('hank'),
    tenant: 't1',
    action: 'invoice:read',
    decision: 'deny',
    ids: [],
    rolePath: [],
  },
  // conditions
  {
    name: 'member approves own small invoice (role-bound allow rule)',
    principal: user('bob'),
    tenant: 't1',
    action: 'invoice:approve',
    resource: small('bob'),
    decision: 'allow',
    ids: ['allow-own-approve'],
    rolePath: [{ role: 'member', grantedOn: 'tenant' }],
  },
  {
    name: "member cannot approve another one's invoice",
    principal: user('bob'),
    tenant: 't1',
    action: 'invoice:approve',
    resource: small('carol'),
    decision: 'deny',
    ids: [],
  },
  {
    name: 'auditor reads through a role-bound rule',
    principal: user('erin'),
    tenant: 't1',
    action: 'invoice:read',
    decision: 'allow',
    ids: ['auditor-read'],
    rolePath: [{ role: 'auditor', grantedOn: 'tenant' }],
  },
  {
    name: 'auditor gets nothing else',
    principal: user('erin'),
    tenant: 't1',
    action: 'invoice:create',
    decision: 'deny',
    ids: [],
  },
  {
    name: '"in" condition opens public invoices to anyone',
    principal: user('hank'),
    tenant: 't1',
    action: 'invoice:read',
    resource: { ...small('x'), status: 'public' },
    decision: 'allow',
    ids: ['public-invoices'],
  },
  {
    name: 'context condition denies delete from a bad address',
    principal: user('dave'),
    tenant: 't1',
    action: 'invoice:delete',
    context: { ip: '10.0.0.66' },
    decision: 'deny',
    ids: ['deny-delete-from-bad-ip'],
  },
  {
    name: 'context condition leaves other addresses alone',
    principal: user('dave'),
    tenant: 't1',
    action: 'invoice:delete',
    context: { ip: '10.0.0.7' },
    decision: 'allow',
    ids: ['role:admin'],
  },
  {
    name: 'principal-bound rule',
    principal: user('carol'),
    tenant: 't1',
    action: 'report:export',
    decision: 'allow',
    ids: ['carol-export'],
  },
  {
    name: 'stored principal-bound deny beats the admin role',
    principal: user('dave'),
    tenant: 't1',
    action: 'invoice:create',
    decision: 'deny',
    ids: ['t1-freeze-dave'],
  },
  {
    name: 'stored role-bound allow',
    principal: user('carol'),
    tenant: 't1',
    action: 'organization:read',
    decision: 'allow',
    ids: ['org-allow', 't1-viewers-see-orgs'],
  },
  // deny-overrides
  {
    name: 'deny (priority 1) beats owner role on a huge approval',
    principal: user('alice'),
    tenant: 't1',
    action: 'invoice:approve',
    resource: huge('alice'),
    decision: 'deny',
    ids: ['deny-huge-approvals'],
  },
  {
    name: 'deny with lower priority beats a priority-100 allow',
    principal: user('bob'),
    tenant: 't1',
    action: 'invoice:approve',
    resource: huge('bob'),
    decision: 'deny',
    ids: ['deny-huge-approvals'],
  },
  {
    name: 'deny listed first wins over a later allow',
    principal: user('bob'),
    tenant: 't1',
    action: 'project:read',
    decision: 'deny',
    ids: ['proj-deny-first'],
  },
  {
    name: 'deny listed last, priority -10, wins over a priority-50 allow',
    principal: user('carol'),
    tenant: 't1',
    action: 'project:read',
    decision: 'deny',
    ids: ['proj-deny-last'],
  },
  {
    name: 'the allow applies when no deny matches',
    principal: user('dave'),
    tenant: 't1',
    action: 'project:read',
    decision: 'allow',
    ids: ['proj-allow'],
  },
  {
    name: 'allow rule and role both reported',
    principal: user('alice'),
    tenant: 't1',
    action: 'project:read',
    decision: 'allow',
    ids: ['proj-allow', 'role:owner'],
  },
  {
    name: 'two denies (exact and wildcard) beat a priority-1000 allow, highest first',
    principal: { id: 'svc', type: 'service' },
    tenant: 't1',
    action: 'organization:read',
    decision: 'deny',
    ids: ['org-deny-b', 'org-deny-a'],
  },
  {
    name: 'the same allow applies to a user',
    principal: user('hank'),
    tenant: 't1',
    action: 'organization:read',
    decision: 'allow',
    ids: ['org-allow'],
  },
  // tenant separation
  {
    name: 'member in t1 is only a viewer in t2',
    principal: user('bob'),
    tenant: 't2',
    action: 'invoice:create',
    decision: 'deny',
    ids: [],
  },
  {
    name: 'viewer in t2 reads there',
    principal: user('bob'),
    tenant: 't2',
    action: 'invoice:read',
    decision: 'allow',
    ids: ['role:viewer'],
    rolePath: [{ role: 'viewer', grantedOn: 'tenant' }],
  },
  {
    name: 'owner of t1 is nothing in t2',
    principal: user('alice'),
    tenant: 't2',
    action: 'invoice:read',
    decision: 'deny',
    ids: [],
  },
  {
    name: 'tenant-bound rule applies in its tenant',
    principal: user('hank'),
    tenant: 't2',
    action: 'report:export',
    decision: 'allow',
    ids: ['t2-export'],
  },
  {
    name: 'tenant-bound rule does not apply elsewhere',
    principal: user('bob'),
    tenant: 't1',
    action: 'report:export',
    decision: 'deny',
    ids: [],
  },
  {
    name: 'a stored rule of t1 does not apply in t2',
    principal: user('dave'),
    tenant: 't2',
    action: 'invoice:create',
    decision: 'allow',
    ids: ['role:admin', 'role:member'],
  },
  // resource hierarchy
  {
    name: 'member on project p1 edits its document',
    principal: user('frank'),
    tenant: 't1',
    action: 'document:edit',
    resource: doc('d1', 'p1'),
    decision: 'allow',
    ids: ['role:member'],
    rolePath: [{ role: 'member', grantedOn: { type: 'project', id: 'p1' } }],
  },
  {
    name: 'member on p1 reads its document through inherited viewer',
    principal: user('frank'),
    tenant: 't1',
    action: 'document:read',
    resource: doc('d1', 'p1'),
    decision: 'allow',
    ids: ['role:viewer'],
    rolePath: [
      {
        role: 'viewer',
        grantedOn: { type: 'project', id: 'p1' },
        inheritedFrom: 'member',
        via: ['member', 'viewer'],
      },
    ],
  },
  {
    name: "member on p1 has no role on p2's document",
    principal: user('frank'),
    tenant: 't1',
    action: 'document:edit',
    resource: doc('d3', 'p2'),
    decision: 'deny',
    ids: [],
  },
  {
    name: 'a resource role is no tenant-wide role',
    principal: user('frank'),
    tenant: 't1',
    action: 'document:read',
    decision: 'deny',
    ids: [],
  },
  {
    name: 'viewer on organization o1 reads a document two levels down (parent loaded from DB)',
    principal: user('gina'),
    tenant: 't1',
    action: 'document:read',
    resource: doc('d3', 'p2'),
    decision: 'allow',
    ids: ['role:viewer'],
    rolePath: [{ role: 'viewer', grantedOn: { type: 'organization', id: 'o1' } }],
  },
  {
    name: 'viewer on o1 sees nothing of o2',
    principal: user('gina'),
    tenant: 't1',
    action: 'document:read',
    resource: doc('d4', 'p3'),
    decision: 'deny',
    ids: [],
  },
  {
    name: 'viewer on o1 cannot edit',
    principal: user('gina'),
    tenant: 't1',
    action: 'document:edit',
    resource: doc('d1', 'p1'),
    decision: 'deny',
    ids: [],
  },
  {
    name: 'deny on archived documents beats a project role',
    principal: user('frank'),
    tenant: 't1',
    action: 'document:read',
    resource: doc('d2', 'p1', true),
    decision: 'deny',
    ids: ['deny-archived-docs'],
  },
  {
    name: 'deny on archived documents beats the owner',
    principal: user('alice'),
    tenant: 't1',
    action: 'document:edit',
    resource: doc('d2', 'p1', true),
    decision: 'deny',
    ids: ['deny-archived-docs'],
  },
];

describe('rules decision table', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let rules: RulesService;

  beforeAll(async () => {
    db = await createTestDatabase('rules_dt');
    await createRulesSchema(db);
    ({ app } = await startRulesApp({ platform: 'express', db, listen: false }));
    rules = app.get(RulesService);
    const grants: [string, string, string, { type: string; id: string }?][] = [
      ['t1', 'alice', 'owner'],
      ['t1', 'bob', 'member'],
      ['t1', 'carol', 'viewer'],
      ['t1', 'dave', 'admin'],
      ['t1', 'erin', 'auditor'],
      ['t1', 'frank', 'member', { type: 'project', id: 'p1' }],
      ['t1', 'gina', 'viewer', { type: 'organization', id: 'o1' }],
      ['t2', 'bob', 'viewer'],
      ['t2', 'dave', 'admin'],
    ];
    for (const [tenantId, principal, role, resource] of grants) {
      expect(await rules.grant(principal, role, { tenantId, resource })).toBe(true);
    }
    await rules.saveRule(
      {
        id: 't1-freeze-dave',
        effect: 'deny',
        actions: ['invoice:create'],
        bind: { type: 'principal', principalId: 'dave' },
      },
      { tenantId: 't1' },
    );
    await rules.saveRule(
      {
        id: 't1-viewers-see-orgs',
        effect: 'allow',
        actions: ['organization:read'],
        bind: { type: 'role', role: 'viewer' },
      },
      { tenantId: 't1' },
    );
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('has at least 30 cases', () => expect(cases.length).toBeGreaterThanOrEqual(30));

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const options = { tenantId: c.tenant, context: c.context };
    const explanation = await rules.explain(c.principal, c.action, c.resource, options);
    expect({ decision: explanation.decision, ids: explanation.decidingRuleIds }).toEqual({
      decision: c.decision,
      ids: c.ids,
    });
    if (c.rolePath) expect(explanation.rolePath).toEqual(c.rolePath);
    expect(await rules.can(c.principal, c.action, c.resource, options)).toBe(c.decision === 'allow');
    if (c.decision === 'deny') {
      await expect(rules.authorize(c.principal, c.action, c.resource, options)).rejects.toMatchObject({
        name: 'AccessDeniedError',
        decidingRuleIds: c.ids,
      });
    } else {
      await expect(rules.authorize(c.principal, c.action, c.resource, options)).resolves.toBeUndefined();
    }
  });

  it('reports why in explain().reason', async () => {
    const denied = await rules.explain(user('alice'), 'invoice:approve', huge('alice'), { tenantId: 't1' });
    expect(denied.reason).toBe('denied by rule "deny-huge-approvals"');
    const none = await rules.explain(user('hank'), 'invoice:read', undefined, { tenantId: 't1' });
    expect(none.reason).toBe('no rule or role grants "invoice:read" (deny by default)');
  });

  it('refuses an unknown permission and a missing tenant', async () => {
    await expect(rules.can(user('alice'), 'invoce:read', undefined, { tenantId: 't1' })).rejects.toThrow(
      'Unknown permission "invoce:read"',
    );
    await expect(rules.can(user('alice'), 'invoice:read')).rejects.toMatchObject({
      name: 'RulesTenantMissingError',
    });
  });
});
