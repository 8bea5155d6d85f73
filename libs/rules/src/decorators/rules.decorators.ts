import { Reflector } from '@nestjs/core';

const toList = (value: string | readonly string[]): readonly string[] =>
  typeof value === 'string' ? [value] : [...value];

/**
 * Requires the principal to hold one of the roles (directly or through a role that includes it) in the tenant
 * of the request. On a controller it applies to every route; a route's own decorator overrides it.
 *
 * ```ts
 * @RequireRole('admin')             // admin, or any role that includes admin (owner)
 * @RequireRole(['admin', 'billing']) // either
 * ```
 */
export const RequireRole = Reflector.createDecorator<string | readonly string[], readonly string[]>({
  transform: toList,
});

/**
 * Requires the principal to be allowed every listed permission in the tenant of the request (role permissions
 * and rules, deny-overrides). Conditions on `resource.*` do not hold at route level (no resource is loaded):
 * check loaded resources in the handler with `RulesService.authorize(action, resource)`.
 */
export const RequirePermission = Reflector.createDecorator<string | readonly string[], readonly string[]>({
  transform: toList,
});

/** Marks a route (or controller) as open to everyone, authenticated or not, even with `denyWithoutDecorator`. */
export const Public = Reflector.createDecorator<void, true>({ transform: () => true });
