import { Controller, Get, Module } from '@nestjs/common';

@Controller()
class HealthController {
  @Get('health')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }
}

/** Placeholder until the sample app's own issue lands. */
@Module({ controllers: [HealthController] })
export class SampleModule {}
