import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { TenantAware } from '@bulkhead/tenancy';

/** A role held by a principal in a tenant, optionally on one resource. Tenant-scoped (`@TenantAware()`). */
@TenantAware()
@Entity('rules_membership')
@Index('rules_membership_principal', ['tenantId', 'principalId'])
export class RulesMembership {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'varchar', length: 64 }) tenantId: string;
  @Column({ name: 'principal_id', type: 'varchar', length: 255 }) principalId: string;
  @Column({ type: 'varchar', length: 128 }) role: string;
  @Column({ name: 'resource_type', type: 'varchar', length: 128, nullable: true }) resourceType:
    string | null;
  @Column({ name: 'resource_id', type: 'varchar', length: 255, nullable: true }) resourceId: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

/** A rule stored for one tenant (bound to the tenant, a role or a principal in it). Tenant-scoped. */
@TenantAware()
@Entity('rules_rule')
export class RulesRule {
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 64 }) tenantId: string;
  @PrimaryColumn({ type: 'varchar', length: 128 }) id: string;
  @Column({ type: 'varchar', length: 5 }) effect: 'allow' | 'deny';
  @Column({ type: 'text', array: true }) actions: string[];
  @Column({ name: 'resource_type', type: 'varchar', length: 128, nullable: true }) resourceType:
    string | null;
  @Column({ type: 'text', array: true, nullable: true }) conditions: string[] | null;
  @Column({ type: 'integer', default: 0 }) priority: number;
  @Column({ name: 'bind_type', type: 'varchar', length: 16 }) bindType: 'tenant' | 'role' | 'principal';
  @Column({ name: 'bind_value', type: 'varchar', length: 255, nullable: true }) bindValue: string | null;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

/** The entities of the default store: add them to your DataSource (`entities: [...RULES_ENTITIES]`). */
export const RULES_ENTITIES = [RulesMembership, RulesRule] as const;
