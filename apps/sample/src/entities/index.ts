import { RULES_ENTITIES } from '@bulkhead/rules';
import { Invoice } from './invoice.entity';
import { Tenant } from './tenant.entity';
import { User } from './user.entity';

export { Invoice, type InvoiceStatus } from './invoice.entity';
export { Tenant } from './tenant.entity';
export { User } from './user.entity';

/** Every entity of the sample's DataSource, the rules store's included. */
export const SAMPLE_ENTITIES = [Tenant, User, Invoice, ...RULES_ENTITIES];
