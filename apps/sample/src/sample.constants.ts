/** Injection token of the {@link SampleOptions}. */
export const SAMPLE_OPTIONS = Symbol('SAMPLE_OPTIONS');

/** Options of `SampleModule.forRoot()`. */
export interface SampleOptions {
  /** Connection string of the non-superuser application role. */
  readonly databaseUrl: string;
  /** HMAC secret of the access tokens (HS256). */
  readonly jwtSecret: string;
  /** Access token lifetime. Default: `'8h'`. */
  readonly tokenTtl?: string;
  /** Pool size of the application's DataSource. Default: `10`. */
  readonly poolSize?: number;
  /**
   * RulesModule's membership/rule cache (invalidated across processes by LISTEN/NOTIFY). Off by default, as in
   * RulesModule: every decision reads the store, so a role change is enforced on the very next request in every
   * instance. With one instance, turning it on keeps that guarantee and saves three queries per request.
   * Default: `false`.
   */
  readonly rulesCache?: boolean;
  /** How often the audit sealer chains new entries, in ms. Default: `100`. */
  readonly sealIntervalMs?: number;
}
