import type { EntitySubscriberInterface, InsertEvent } from 'typeorm';
import { fillTenantOnEntity } from './typeorm-scoping';

/**
 * Fills the tenant column of entities inserted by `save()` before TypeORM computes the INSERT, so the saved
 * object carries its tenant. Enforcement itself happens when the INSERT is built.
 * @internal
 */
export class TenancySubscriber implements EntitySubscriberInterface {
  beforeInsert(event: InsertEvent<object>): void {
    if (event.entity) fillTenantOnEntity(event.connection, event.metadata, event.entity);
  }
}
