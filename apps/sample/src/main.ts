import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { startEmbeddedPostgres, freePort, type EmbeddedServer } from './database/embedded-postgres';
import { prepareDatabase } from './database/sample-database';
import { DEMO_PASSWORD, DEMO_USERS } from './database/sample-seed';
import { configureSampleApp } from './sample.app';
import { SampleModule } from './sample.module';

const APP_ROLE = 'bulkhead_sample_app';

/**
 * `npm start`: the sample on PORT (3000). Without DATABASE_URL an embedded PostgreSQL keeps its data in
 * .data/postgres across restarts; with it, the named server is used (its role must be able to create roles).
 */
async function bootstrap(): Promise<void> {
  const logger = new Logger('Sample');
  const port = Number(process.env.PORT ?? 3000);
  let embedded: EmbeddedServer | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dataDir = path.resolve(process.env.SAMPLE_DATA_DIR ?? '.data/postgres');
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    logger.log(`No DATABASE_URL: starting an embedded PostgreSQL in ${dataDir}`);
    embedded = await startEmbeddedPostgres({ dataDir, persistent: true, port: await freePort() });
    adminUrl = embedded.url;
  }
  const stopDatabase = async () => {
    const server = embedded;
    embedded = undefined;
    await server?.stop().catch(() => undefined);
  };
  try {
    let jwtSecret = process.env.JWT_SECRET;
    if (!jwtSecret) {
      jwtSecret = randomBytes(32).toString('hex');
      logger.warn('JWT_SECRET is not set: using a random secret for this run (tokens end with the process).');
    }
    // a fresh password per start unless given: the app role never needs one a person knows
    const password = process.env.APP_DB_PASSWORD ?? randomBytes(18).toString('base64url');
    const { appUrl, seeded } = await prepareDatabase({ adminUrl, appRole: { name: APP_ROLE, password } });
    if (seeded) logger.log('Seeded the demo data (tenants acme and globex).');

    const app = await NestFactory.create(SampleModule.forRoot({ databaseUrl: appUrl, jwtSecret }));
    configureSampleApp(app);
    await app.listen(port);
    const url = `http://localhost:${port}`;
    logger.log(`Bulkhead sample listening on ${url} (connected as role ${APP_ROLE}, RLS on)`);
    logger.log(`OpenAPI docs: ${url}/docs    audit viewer: ${url}/audit-ui`);
    logger.log(
      `Demo logins (password "${DEMO_PASSWORD}"): ` +
        DEMO_USERS.map(
          (u) => `${u.email} (${u.memberships.map((m) => `${m.role} of ${m.tenant}`).join(', ')})`,
        ).join(', '),
    );
    logger.log(
      `Try: curl -s -X POST ${url}/auth/login -H 'content-type: application/json' -d '{"email":"alice@acme.test","password":"demo"}'`,
    );
    // stop in order: the app (its pools and the audit sealer), then the embedded server
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        logger.log(`${signal}: shutting down`);
        void app
          .close()
          .catch(() => undefined)
          .then(stopDatabase)
          .then(() => process.exit(0));
      });
    }
  } catch (err) {
    await stopDatabase();
    throw err;
  }
}

bootstrap().catch((err: unknown) => {
  new Logger('Sample').error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
