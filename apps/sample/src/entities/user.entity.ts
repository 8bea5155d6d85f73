import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { NotAudited } from '@bulkhead/audit';

/**
 * A person who can sign in. Users are global (one login, several tenants); what they may do in a tenant is a
 * membership in the rules store (`rules_membership`).
 */
@NotAudited()
@Entity('app_user')
export class User {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Index({ unique: true }) @Column({ type: 'varchar', length: 254 }) email: string;
  @Column({ type: 'varchar', length: 200 }) name: string;
  /** `scrypt$<salt>$<hash>`, hex. */
  @Column({ name: 'password_hash', type: 'varchar', length: 255 }) passwordHash: string;
}
