/**
 * Sample app benchmark.
 *
 * - `sample.http.ratio`: requests/s of `GET /invoices/:id` and `POST /invoices` (autocannon, 16 connections,
 *   loopback) of the sample app with TenancyModule (RLS on, non-superuser role), AuditModule and RulesModule,
 *   divided by the same routes in a plain variant without them (apps/sample/src/plain: JWT checked by hand,
 *   `where: { tenantId }` written out, no RLS, no audit triggers, no rules). The figure is the geometric mean
 *   of the GET and POST ratios; each ratio is the median of interleaved rounds. `sample.get.ratio`,
 *   `sample.post.ratio` and the req/s of every variant are reported too. `BENCH_SAMPLE_RULES_CACHE=1` runs the
 *   full app with RulesModule's cache on (off by default, as in the library).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from 'pg';
import { prepareDatabase } from '../apps/sample/src/database/sample-database';
import { PlainModule } from '../apps/sample/src/plain/plain.module';
import { configureSampleApp } from '../apps/sample/src/sample.app';
import { SampleModule } from '../apps/sample/src/sample.module';
import { DEFAULT_SERVER_URL, withDatabase } from './lib/config';

const FULL_DB = 'bulkhead_bench_sample';
const PLAIN_DB = 'bulkhead_bench_sample_plain';
const APP_ROLE = 'bulkhead_bench_sample_app';

type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  method?: string;
  headers: Record<string, string>;
  body?: string;
}) => Promise<{ non2xx: number; errors: number; requests: { average: number } }>;

interface Target {
  readonly app: INestApplication;
  readonly url: string;
  readonly token: string;
  readonly invoiceId: string;
}

async function recreate(serverUrl: string, database: string): Promise<string> {
  const c = new Client({ connectionString: serverUrl });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${database}`);
  } finally {
    await c.end();
  }
  return withDatabase(serverUrl, database);
}

async function drop(serverUrl: string, database: string): Promise<void> {
  const c = new Client({ connectionString: serverUrl });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  } finally {
    await c.end();
  }
}

async function listen(app: INestApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  return (await app.getUrl()).replace('[::1]', '127.0.0.1');
}

async function startFull(serverUrl: string, jwtSecret: string): Promise<Target> {
  const adminUrl = await recreate(serverUrl, FULL_DB);
  const { appUrl } = await prepareDatabase({ adminUrl, appRole: { name: APP_ROLE, password: 'bench' } });
  const app = await NestFactory.create(
    SampleModule.forRoot({
      databaseUrl: appUrl,
      jwtSecret,
      poolSize: 10,
      rulesCache: process.env.BENCH_SAMPLE_RULES_CACHE === '1',
    }),
    {
      logger: ['error', 'warn'],
    },
  );
  configureSampleApp(app, { docs: false });
  const url = await listen(app);
  const login = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'alice@acme.test', password: 'demo' }),
  });
  const { accessToken } = (await login.json()) as { accessToken: string };
  const list = await fetch(`${url}/invoices`, { headers: { authorization: `Bearer ${accessToken}` } });
  const { items } = (await list.json()) as { items: { id: string }[] };
  return { app, url, token: accessToken, invoiceId: items[0].id };
}

async function startPlain(serverUrl: string, jwtSecret: string, full: Target): Promise<Target> {
  const databaseUrl = await recreate(serverUrl, PLAIN_DB);
  const app = await NestFactory.create(PlainModule.forRoot({ databaseUrl, jwtSecret, poolSize: 10 }), {
    logger: ['error', 'warn'],
  });
  configureSampleApp(app, { docs: false });
  const url = await listen(app);
  // the same token (same secret, user and tenant) and a seeded invoice of the same tenant
  const headers = { authorization: `Bearer ${full.token}`, 'content-type': 'application/json' };
  for (const customer of ['Initech', 'Umbrella Corp', 'Wayne Enterprises']) {
    await fetch(`${url}/invoices`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ customer, amount: 1000 }),
    });
  }
  const created = await fetch(`${url}/invoices`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ customer: 'Seed', amount: 1 }),
  });
  const { id } = (await created.json()) as { id: string };
  return { app, url, token: full.token, invoiceId: id };
}

/** Runs the sample benchmark against the PostgreSQL server at `serverUrl` (a superuser URL). */
export async function runSampleBench(opts: {
  quick: boolean;
  serverUrl: string;
}): Promise<Record<string, number>> {
  const autocannonPackage = 'autocannon'; // ships no types
  const autocannon = ((await import(autocannonPackage)) as { default: Autocannon }).default;
  const jwtSecret = randomBytes(32).toString('hex');
  const full = await startFull(opts.serverUrl, jwtSecret);
  let plain: Target | undefined;
  try {
    plain = await startPlain(opts.serverUrl, jwtSecret, full);
    const run = async (t: Target, route: 'get' | 'post', seconds: number): Promise<number> => {
      const headers = { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' };
      const result = await autocannon(
        route === 'get'
          ? { url: `${t.url}/invoices/${t.invoiceId}`, connections: 16, duration: seconds, headers }
          : {
              url: `${t.url}/invoices`,
              method: 'POST',
              connections: 16,
              duration: seconds,
              headers,
              body: JSON.stringify({ customer: 'Bench Ltd', amount: 4200 }),
            },
      );
      if (result.non2xx > 0 || result.errors > 0) {
        throw new Error(`sample bench ${route} ${t.url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      }
      return result.requests.average;
    };
    const seconds = opts.quick ? 2 : 5;
    const rounds = opts.quick ? 1 : 3;
    const figures: Record<string, number> = {};
    for (const route of ['get', 'post'] as const) {
      await run(full, route, 1); // warm-up (JIT, plans, pools)
      await run(plain, route, 1);
      const ratios: number[] = [];
      const rps = { full: [] as number[], plain: [] as number[] };
      for (let r = 0; r < rounds; r++) {
        const a = await run(full, route, seconds);
        const b = await run(plain, route, seconds);
        rps.full.push(a);
        rps.plain.push(b);
        ratios.push(a / b);
      }
      figures[`sample.${route}.full.rps`] = Math.round(median(rps.full));
      figures[`sample.${route}.plain.rps`] = Math.round(median(rps.plain));
      figures[`sample.${route}.ratio`] = round(median(ratios));
    }
    figures['sample.http.ratio'] = round(
      Math.sqrt(figures['sample.get.ratio'] * figures['sample.post.ratio']),
    );
    return figures;
  } finally {
    await new Promise((r) => setTimeout(r, 500)); // let requests cut off by autocannon's end finish
    await full.app.close();
    await plain?.app.close();
    await drop(opts.serverUrl, FULL_DB);
    await drop(opts.serverUrl, PLAIN_DB);
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function round(n: number, digits = 3): number {
  return Number(n.toFixed(digits));
}

if (require.main === module) {
  runSampleBench({
    quick: process.env.BENCH_QUICK === '1',
    serverUrl: process.env.DATABASE_URL ?? DEFAULT_SERVER_URL,
  }).then(
    (figures) => {
      // --json (bench/run.ts): one line of JSON last; otherwise readable
      const json = process.argv.includes('--json');
      process.stdout.write(json ? `${JSON.stringify(figures)}\n` : `${JSON.stringify(figures, null, 2)}\n`);
      process.exit(0);
    },
    (err: Error) => {
      process.stderr.write(`${err.stack}\n`);
      process.exit(1);
    },
  );
}
