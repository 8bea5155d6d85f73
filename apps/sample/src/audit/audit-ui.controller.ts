import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { NoTenant } from '@bulkhead/tenancy';
import { Public } from '@bulkhead/rules';
import { AUDIT_UI_PAGE } from './audit-ui.page';

/** Serves the audit viewer: a static page that talks to the JSON API with the signed-in user's token. */
@ApiExcludeController()
@Controller('audit-ui')
export class AuditUiController {
  @Get()
  @NoTenant()
  @Public()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  page(): string {
    return AUDIT_UI_PAGE;
  }
}
