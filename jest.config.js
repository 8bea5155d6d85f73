/** Jest runs every spec against a real PostgreSQL (see test/db/global-setup.ts). */
module.exports = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: '.',
  roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  // NestJS 12, jose and a few of their dependencies ship ES modules only, which Jest on Node 20 cannot
  // require(): test/jest/transpile.transformer.js turns them into CommonJS for the test runtime (cached after the first run).
  transform: { '^.+\\.[tj]s$': '<rootDir>/test/jest/transpile.transformer.js' },
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|jose|file-type|strtok3|token-types|uint8array-extras|set-cookie-parser|toad-cache|formidable|@tokenizer|load-esm|uid)/)',
  ],
  moduleNameMapper: {
    '^@bulkhead/tenancy$': '<rootDir>/libs/tenancy/src',
    '^@bulkhead/audit$': '<rootDir>/libs/audit/src',
    '^@bulkhead/rules$': '<rootDir>/libs/rules/src',
  },
  testEnvironment: 'node',
  globalSetup: '<rootDir>/test/db/global-setup.ts',
  globalTeardown: '<rootDir>/test/db/global-teardown.ts',
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/test/jest/summary.reporter.js'],
};
