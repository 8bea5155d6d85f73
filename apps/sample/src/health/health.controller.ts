import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { NoTenant } from '@bulkhead/tenancy';
import { Public } from '@bulkhead/rules';

@ApiTags('health')
@Controller('health')
export class HealthController {
  /** Liveness: answers without authentication. */
  @Get()
  @NoTenant()
  @Public()
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
