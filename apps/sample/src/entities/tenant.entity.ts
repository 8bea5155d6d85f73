import { Column, Entity, PrimaryColumn } from 'typeorm';
import { NotAudited } from '@bulkhead/audit';

/** A customer organisation of the invoicing service. Reference data, written by the seed only. */
@NotAudited()
@Entity('tenant')
export class Tenant {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id: string;
  @Column({ type: 'varchar', length: 200 }) name: string;
}
