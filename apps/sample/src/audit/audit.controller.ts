import { BadRequestException, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { AuditService, type AuditEntry } from '@bulkhead/audit';
import { RequirePermission, RulesService } from '@bulkhead/rules';
import { TenancyService } from '@bulkhead/tenancy';
import { AuditEntryIdParam, AuditEntryView, AuditQueryDto, VerifyView } from './audit.dto';

const MAX_ENTRIES = 1000;

function view(e: AuditEntry): AuditEntryView {
  return {
    id: e.id,
    position: e.position,
    occurredAt: e.occurredAt,
    actor: { ...e.actor },
    action: e.action,
    entity: e.entity,
    entityId: e.entityId,
    before: e.before,
    after: e.after,
    changed: [...e.changed],
    correlationId: e.correlationId,
    reverts: e.reverts,
  };
}

@ApiTags('audit')
@ApiBearerAuth()
@ApiForbiddenResponse({ description: 'Admins and owners read the audit; owners revert.' })
@Controller('audit')
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    private readonly rules: RulesService,
    private readonly tenancy: TenancyService,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** The tenant's audit entries, oldest first (at most 1,000), optionally of one entity. */
  @Get()
  @RequirePermission('audit:read')
  @ApiOkResponse({ type: [AuditEntryView] })
  async list(@Query() query: AuditQueryDto): Promise<AuditEntryView[]> {
    if (query.entityId !== undefined && query.entityType === undefined) {
      throw new BadRequestException(['entityId needs entityType']);
    }
    const items: AuditEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.audit.find({
        entity: query.entityType,
        entityId: query.entityId,
        cursor,
        limit: MAX_ENTRIES,
      });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && items.length < MAX_ENTRIES);
    return items.slice(-MAX_ENTRIES).map(view);
  }

  /** Checks the tenant's hash chain and returns its head. */
  @Get('verify')
  @RequirePermission('audit:read')
  @ApiOkResponse({ type: VerifyView })
  async verify(): Promise<VerifyView> {
    await this.audit.seal(); // chain what committed just now, so the answer covers it
    const result = await this.audit.verify();
    const digest = await this.audit.digest();
    return { ...result, digest: { position: digest.position, hash: digest.hash } };
  }

  /** Undoes one audited change (refused with 409 when later changes would be overwritten). */
  @Post(':entryId/revert')
  @HttpCode(200)
  @RequirePermission('audit:revert')
  @ApiOkResponse({ type: [AuditEntryView] })
  @ApiNotFoundResponse()
  @ApiConflictResponse()
  async revert(@Param() params: AuditEntryIdParam): Promise<AuditEntryView[]> {
    const entries = await this.audit.revert(params.entryId);
    if (entries.some((e) => e.entity === 'RulesMembership')) {
      // a revert writes the table directly: tell every process's rules cache, as the rules store would
      const tenantId = this.tenancy.current()!.tenantId!;
      await this.dataSource.transaction((manager) => this.rules.invalidate(tenantId, manager));
    }
    return entries.map(view);
  }
}
