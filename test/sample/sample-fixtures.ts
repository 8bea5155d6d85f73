import 'reflect-metadata';
import { SignJWT } from 'jose';
import { prepareDatabase } from '../../apps/sample/src/database/sample-database';
import { hashPassword } from '../../apps/sample/src/auth/password.util';
import { configureSampleApp } from '../../apps/sample/src/sample.app';
import { SampleModule } from '../../apps/sample/src/sample.module';
import {
  HttpClient,
  startTestApp,
  type TenantCredentials,
  type TestApp,
} from '../../apps/sample/src/testing';
import { adminQuery, APP_ROLE, createTestDatabase, type TestDatabase } from '../db/test-database';

export const JWT_SECRET = 'sample-test-secret-sample-test-secret!';

/** The sample app on a database of its own, seeded with the demo data, connected as the non-superuser role. */
export interface SampleHarness {
  readonly db: TestDatabase;
  readonly t: TestApp;
  /** A client signed in as the user (password `demo`), optionally in another tenant (X-Tenant-ID). */
  as(email: string, tenant?: string): Promise<HttpClient>;
  /** Credentials for assertIsolated(). */
  creds(email: string, tenant?: string): Promise<TenantCredentials>;
  /** User id by e-mail. */
  userId(email: string): Promise<string>;
  /** Adds a user (password `demo`) with memberships, straight in the database. */
  addUser(email: string, memberships: Record<string, string>): Promise<string>;
  close(): Promise<void>;
}

export async function startSample(prefix = 'sample'): Promise<SampleHarness> {
  const db = await createTestDatabase(prefix);
  // the harness created the role and its grants; prepareDatabase only adds what the sample needs
  await prepareDatabase({ adminUrl: db.adminUrl, appRole: { name: APP_ROLE } });
  const t = await startTestApp({
    imports: [
      SampleModule.forRoot({
        databaseUrl: db.appUrl,
        jwtSecret: JWT_SECRET,
        poolSize: 4,
        sealIntervalMs: 20,
      }),
    ],
    configure: (app) => configureSampleApp(app),
  });
  const tokens = new Map<string, string>();
  const token = async (email: string) => {
    let tok = tokens.get(email);
    if (!tok) {
      const res = await t.http.post<{ accessToken: string }>('/auth/login', { email, password: 'demo' });
      if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${res.text}`);
      tok = res.body.accessToken;
      tokens.set(email, tok);
    }
    return tok;
  };
  const headers = async (email: string, tenant?: string) => ({
    authorization: `Bearer ${await token(email)}`,
    ...(tenant ? { 'x-tenant-id': tenant } : {}),
  });
  const userId = async (email: string) => {
    const [row] = await adminQuery<{ id: string }>(db, 'SELECT id FROM app_user WHERE email = $1', [email]);
    if (!row) throw new Error(`no user ${email}`);
    return row.id;
  };
  return {
    db,
    t,
    as: async (email, tenant) => t.http.with(await headers(email, tenant)),
    creds: async (email, tenant) => ({ name: tenant ?? email, headers: await headers(email, tenant) }),
    userId,
    addUser: async (email, memberships) => {
      const [row] = await adminQuery<{ id: string }>(
        db,
        'INSERT INTO app_user (email, name, password_hash) VALUES ($1, $2, $3) RETURNING id',
        [email, email.split('@')[0], await hashPassword('demo')],
      );
      for (const [tenant, role] of Object.entries(memberships)) {
        await adminQuery(
          db,
          'INSERT INTO rules_membership (tenant_id, principal_id, role) VALUES ($1, $2, $3)',
          [tenant, row.id, role],
        );
      }
      return row.id;
    },
    close: async () => {
      await t.close();
      await db.drop();
    },
  };
}

/** A token signed by the test's secret (or another), for the 401 cases. */
export function signToken(
  claims: { sub?: string; tid?: string },
  options: { secret?: string; expiresIn?: string | number } = {},
): Promise<string> {
  const jwt = new SignJWT({ ...(claims.tid ? { tid: claims.tid } : {}) }).setProtectedHeader({
    alg: 'HS256',
  });
  if (claims.sub) jwt.setSubject(claims.sub);
  jwt.setIssuedAt().setExpirationTime(options.expiresIn ?? '1h');
  return jwt.sign(new TextEncoder().encode(options.secret ?? JWT_SECRET));
}

/** An invoice as the API returns it. */
export interface InvoiceBody {
  id: string;
  customer: string;
  amount: number;
  status: 'draft' | 'approved';
  createdBy: string;
  createdAt: string;
}
