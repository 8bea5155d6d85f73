import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { TenantAware } from '@bulkhead/tenancy';

export type InvoiceStatus = 'draft' | 'approved';

/** An invoice of one tenant: scoped on every TypeORM path and by RLS, audited by the capture triggers. */
@TenantAware()
@Entity('invoice')
@Index('invoice_tenant_created', ['tenantId', 'createdAt'])
export class Invoice {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'varchar', length: 64 }) tenantId: string;
  @Column({ type: 'varchar', length: 200 }) customer: string;
  /** In the smallest currency unit (cents). */
  @Column({ type: 'integer' }) amount: number;
  @Column({ type: 'varchar', length: 16, default: 'draft' }) status: InvoiceStatus;
  @Column({ name: 'created_by', type: 'varchar', length: 64 }) createdBy: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'approved_by', type: 'varchar', length: 64, nullable: true }) approvedBy: string | null;
  @Column({ name: 'approved_at', type: 'timestamptz', nullable: true }) approvedAt: Date | null;
}
