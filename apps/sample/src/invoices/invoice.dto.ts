import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import type { Invoice, InvoiceStatus } from '../entities';

const MAX_AMOUNT = 2_000_000_000;

export class CreateInvoiceDto {
  @ApiProperty({ example: 'Initech', maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  customer: string;

  @ApiProperty({ example: 120000, description: 'Integer > 0, in cents.', minimum: 1, maximum: MAX_AMOUNT })
  @IsInt()
  @Min(1)
  @Max(MAX_AMOUNT)
  amount: number;
}

export class UpdateInvoiceDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  customer?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_AMOUNT })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_AMOUNT)
  amount?: number;
}

export class ListInvoicesQuery {
  @ApiPropertyOptional({ default: 20, minimum: 1, maximum: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;
}

export class InvoiceView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() customer: string;
  @ApiProperty() amount: number;
  @ApiProperty({ enum: ['draft', 'approved'] }) status: InvoiceStatus;
  @ApiProperty({ description: 'User id of the creator.' }) createdBy: string;
  @ApiProperty() createdAt: Date;
  @ApiProperty({ nullable: true, type: String }) approvedBy: string | null;
  @ApiProperty({ nullable: true, type: Date }) approvedAt: Date | null;

  static of(i: Invoice): InvoiceView {
    return {
      id: i.id,
      customer: i.customer,
      amount: i.amount,
      status: i.status,
      createdBy: i.createdBy,
      createdAt: i.createdAt,
      approvedBy: i.approvedBy,
      approvedAt: i.approvedAt,
    };
  }
}

export class InvoicePage {
  @ApiProperty({ type: [InvoiceView] }) items: InvoiceView[];
  @ApiProperty() total: number;
}
