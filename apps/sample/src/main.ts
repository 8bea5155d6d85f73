import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { SampleModule } from './sample.module';

/** Placeholder entry point until the sample app's own issue lands. */
async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(SampleModule);
  await app.listen(Number(process.env.PORT ?? 3000));
}
void bootstrap();
