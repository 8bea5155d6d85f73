import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

/** Entities whose history the API exposes. */
export const AUDITED_ENTITY_TYPES = ['Invoice', 'RulesMembership'] as const;

export class AuditQueryDto {
  @ApiPropertyOptional({ enum: AUDITED_ENTITY_TYPES })
  @IsOptional()
  @IsIn(AUDITED_ENTITY_TYPES)
  entityType?: (typeof AUDITED_ENTITY_TYPES)[number];

  @ApiPropertyOptional({ description: 'Primary key of the entity (needs entityType).' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  entityId?: string;
}

export class AuditEntryIdParam {
  @ApiProperty()
  @Matches(/^[1-9][0-9]{0,18}$/, { message: 'entryId must be a positive integer' })
  entryId: string;
}

export class AuditEntryView {
  @ApiProperty() id: string;
  @ApiProperty({ nullable: true, type: Number }) position: number | null;
  @ApiProperty() occurredAt: Date;
  @ApiProperty() actor: { type: string; id: string };
  @ApiProperty({ enum: ['insert', 'update', 'delete', 'soft-delete', 'restore', 'revert'] }) action: string;
  @ApiProperty() entity: string;
  @ApiProperty() entityId: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: Object }) before: Record<string, unknown> | null;
  @ApiProperty({ nullable: true, type: Object }) after: Record<string, unknown> | null;
  @ApiProperty({ type: [String] }) changed: string[];
  @ApiProperty({ nullable: true, type: String }) correlationId: string | null;
  @ApiProperty({ nullable: true, type: String }) reverts: string | null;
}

export class VerifyView {
  @ApiProperty() valid: boolean;
  @ApiProperty() checked: number;
  @ApiPropertyOptional() firstBrokenAt?: number;
  @ApiPropertyOptional() reason?: string;
  @ApiProperty({ description: 'Head of the chain: keep it elsewhere to detect a rewrite later.' })
  digest: { position: number; hash: string };
}
