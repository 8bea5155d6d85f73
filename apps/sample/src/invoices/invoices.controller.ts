import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { RequirePermission, RequireRole } from '@bulkhead/rules';
import {
  CreateInvoiceDto,
  InvoicePage,
  InvoiceView,
  ListInvoicesQuery,
  UpdateInvoiceDto,
} from './invoice.dto';
import { InvoicesService } from './invoices.service';

const uuid = new ParseUUIDPipe({ version: undefined });

@ApiTags('invoices')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Tenant-ID', required: false, description: 'Another tenant the user is a member of.' })
@ApiForbiddenResponse({ description: 'Role too low, denied by a rule, or not a member of the tenant.' })
@Controller('invoices')
export class InvoicesController {
  constructor(private readonly invoices: InvoicesService) {}

  @Get()
  @RequirePermission('invoice:read')
  @ApiOkResponse({ type: InvoicePage })
  async list(@Query() query: ListInvoicesQuery): Promise<InvoicePage> {
    const [items, total] = await this.invoices.list(query.limit ?? 20, query.offset ?? 0);
    return { items: items.map(InvoiceView.of), total };
  }

  @Post()
  @RequirePermission('invoice:create')
  @ApiCreatedResponse({ type: InvoiceView })
  async create(@Body() body: CreateInvoiceDto): Promise<InvoiceView> {
    return InvoiceView.of(await this.invoices.create(body));
  }

  @Get(':id')
  @RequirePermission('invoice:read')
  @ApiOkResponse({ type: InvoiceView })
  @ApiNotFoundResponse({ description: 'No such invoice in this tenant.' })
  async get(@Param('id', uuid) id: string): Promise<InvoiceView> {
    return InvoiceView.of(await this.invoices.get(id));
  }

  @Patch(':id')
  @RequirePermission('invoice:update')
  @ApiOkResponse({ type: InvoiceView })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'The invoice is approved.' })
  async update(@Param('id', uuid) id: string, @Body() body: UpdateInvoiceDto): Promise<InvoiceView> {
    return InvoiceView.of(await this.invoices.update(id, body));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequirePermission('invoice:delete')
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  async remove(@Param('id', uuid) id: string): Promise<void> {
    await this.invoices.remove(id);
  }

  /** Admins approve up to 1,000,000, owners any amount; nobody approves an invoice they created. */
  @Post(':id/approve')
  @HttpCode(200)
  @RequireRole('admin')
  @ApiOkResponse({ type: InvoiceView })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'Already approved.' })
  async approve(@Param('id', uuid) id: string): Promise<InvoiceView> {
    return InvoiceView.of(await this.invoices.approve(id));
  }
}
