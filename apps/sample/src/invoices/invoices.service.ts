import { ConflictException, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { TenancyService } from '@bulkhead/tenancy';
import { RulesService } from '@bulkhead/rules';
import { Invoice } from '../entities';
import type { CreateInvoiceDto, UpdateInvoiceDto } from './invoice.dto';

/**
 * Plain TypeORM code: no `where: { tenantId }` anywhere. Bulkhead scopes every query to the request's tenant
 * (and RLS backs it up); the audit triggers record every write; the rules decide on loaded invoices.
 */
@Injectable()
export class InvoicesService {
  constructor(
    @InjectRepository(Invoice) private readonly invoices: Repository<Invoice>,
    private readonly tenancy: TenancyService,
    private readonly rules: RulesService,
  ) {}

  list(limit: number, offset: number): Promise<[Invoice[], number]> {
    return this.invoices.findAndCount({
      order: { createdAt: 'DESC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
  }

  /** Another tenant's id: `EntityNotFoundError`, answered 404 by the tenancy filter. */
  get(id: string): Promise<Invoice> {
    return this.invoices.findOneByOrFail({ id });
  }

  create(dto: CreateInvoiceDto): Promise<Invoice> {
    const actor = this.tenancy.current()!.actor!;
    return this.invoices.save(
      this.invoices.create({
        customer: dto.customer,
        amount: dto.amount,
        status: 'draft',
        createdBy: actor.id,
      }),
    );
  }

  async update(id: string, dto: UpdateInvoiceDto): Promise<Invoice> {
    const invoice = await this.get(id);
    if (invoice.status === 'approved') throw new ConflictException('An approved invoice cannot be edited.');
    if (dto.customer !== undefined) invoice.customer = dto.customer;
    if (dto.amount !== undefined) invoice.amount = dto.amount;
    return this.invoices.save(invoice);
  }

  async remove(id: string): Promise<void> {
    const invoice = await this.get(id);
    await this.invoices.remove(invoice);
  }

  /** Admins up to 1,000,000, owners any amount; never one's own invoice (deny rule). */
  async approve(id: string): Promise<Invoice> {
    const invoice = await this.get(id);
    await this.rules.authorize('invoice:approve', invoice);
    if (invoice.status === 'approved') throw new ConflictException('The invoice is already approved.');
    invoice.status = 'approved';
    invoice.approvedBy = this.tenancy.current()!.actor!.id;
    invoice.approvedAt = new Date();
    return this.invoices.save(invoice);
  }
}
