import type { DynamicModule, INestApplication, ModuleMetadata, Type } from '@nestjs/common';
import { Test, type TestingModule, type TestingModuleBuilder } from '@nestjs/testing';
import { HttpClient } from './http-client';

/** Options of {@link startTestApp}. */
export interface TestAppOptions {
  /** The modules of the app under test (your AppModule, or `AppModule.forRoot(testConfig)`). */
  readonly imports: NonNullable<ModuleMetadata['imports']>;
  /** Extra providers for the test module. */
  readonly providers?: ModuleMetadata['providers'];
  /** Override providers, guards... before compiling (`b => b.overrideProvider(X).useValue(y)`). */
  readonly override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  /** What your main.ts applies to the app (global pipes, prefixes...), so tests see the same app. */
  readonly configure?: (app: INestApplication) => unknown;
}

/** A started test app: Nest app, its module, its base URL and a client for it. */
export interface TestApp {
  readonly app: INestApplication;
  readonly moduleRef: TestingModule;
  readonly url: string;
  readonly http: HttpClient;
  close(): Promise<void>;
}

/**
 * Compiles a Nest testing module, applies your app configuration, and listens on a random loopback port.
 *
 * ```ts
 * const t = await startTestApp({ imports: [AppModule.forRoot(cfg)], configure: configureApp });
 * const res = await t.http.get('/health');
 * await t.close();
 * ```
 */
export async function startTestApp(options: TestAppOptions): Promise<TestApp> {
  let builder = Test.createTestingModule({
    imports: options.imports as (Type | DynamicModule)[],
    providers: options.providers,
  });
  if (options.override) builder = options.override(builder);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
  options.configure?.(app);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, moduleRef, url, http: new HttpClient(url), close: () => app.close() };
}
