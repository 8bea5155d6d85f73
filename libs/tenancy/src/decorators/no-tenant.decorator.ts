import { Reflector } from '@nestjs/core';

/**
 * Marks a route (or a whole controller) as needing no tenant: health checks, sign-in, public pages. Queries of
 * tenant-aware entities inside it still fail with `MissingTenantContextError`.
 */
export const NoTenant = Reflector.createDecorator<boolean>({ transform: () => true });
