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
  /** How often the audit sealer chains new entries, in ms. Default: `100`. */
  readonly sealIntervalMs?: number;
}
