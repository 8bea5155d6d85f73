import type { RulesModuleOptions } from '@bulkhead/rules';

/** Roles from the most to the least powerful; every role includes the next one. */
export const ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Invoices above this amount are approved by owners only. */
export const LARGE_INVOICE_AMOUNT = 1_000_000;

/**
 * The invoicing policy: viewers read; members also create and edit; admins also delete and approve invoices up
 * to 1,000,000 (a condition rule) and read the audit and the member list; owners approve any amount, revert
 * audited changes and manage members. Nobody approves an invoice they created: a deny rule, which wins even
 * for owners.
 */
export function samplePolicy(): RulesModuleOptions {
  return {
    roles: {
      viewer: { permissions: ['invoice:read'] },
      member: { includes: ['viewer'], permissions: ['invoice:create', 'invoice:update'] },
      admin: { includes: ['member'], permissions: ['invoice:delete', 'audit:read', 'member:read'] },
      owner: { includes: ['admin'], permissions: ['invoice:approve', 'audit:revert', 'member:manage'] },
    },
    permissions: [
      'invoice:read',
      'invoice:create',
      'invoice:update',
      'invoice:delete',
      'invoice:approve',
      'audit:read',
      'audit:revert',
      'member:read',
      'member:manage',
    ],
    rules: [
      {
        id: 'admins-approve-up-to-1m',
        effect: 'allow',
        actions: ['invoice:approve'],
        conditions: `resource.amount <= ${LARGE_INVOICE_AMOUNT}`,
        bind: { type: 'role', role: 'admin' },
      },
      {
        id: 'no-self-approval',
        effect: 'deny',
        actions: ['invoice:approve'],
        conditions: 'resource.createdBy == principal.id',
      },
    ],
    denyWithoutDecorator: true,
  };
}
