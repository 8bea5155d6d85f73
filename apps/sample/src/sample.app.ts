import { INestApplication, ValidationPipe } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/**
 * What main.ts and the tests both apply to the app: validation (unknown fields rejected, every invalid field
 * named in the 400 answer) and the OpenAPI document at /docs.
 */
export function configureSampleApp(
  app: INestApplication,
  options: { docs?: boolean } = {},
): INestApplication {
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
    }),
  );
  if (options.docs !== false) {
    const config = new DocumentBuilder()
      .setTitle('Bulkhead sample: multi-tenant invoicing')
      .setDescription(
        'Sign in with POST /auth/login (demo users, password `demo`), then send `Authorization: Bearer <token>`. ' +
          'The tenant comes from the token; `X-Tenant-ID` picks another tenant the user is a member of.',
      )
      .setVersion('0.1.0')
      .addBearerAuth()
      .build();
    SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config));
  }
  return app;
}
