// Jest transformer: transpiles TypeScript sources, and the ES-module-only packages NestJS 12 and jose ship,
// to CommonJS (Jest on Node 20 cannot require() ES modules). Transpile only: `npm run typecheck` checks types.
const crypto = require('node:crypto');
const fs = require('node:fs');
const ts = require('typescript');

const SELF = fs.readFileSync(__filename, 'utf8');

const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  allowJs: true,
  inlineSourceMap: true,
  inlineSources: true,
};

module.exports = {
  getCacheKey(source, filename) {
    return crypto
      .createHash('sha1')
      .update(SELF)
      .update(ts.version)
      .update(filename)
      .update(source)
      .digest('hex');
  },
  process(source, filename) {
    let { outputText } = ts.transpileModule(source, { fileName: filename, compilerOptions });
    if (outputText.includes('import.meta.url')) {
      // ESM code that builds its own require(): CommonJS already has one
      outputText = outputText
        .replace(
          /^(\s*)(const|let|var) require = [^;]*import\.meta\.url[^;]*;/m,
          '$1/* require is native here */',
        )
        .replace(/import\.meta\.url/g, "require('node:url').pathToFileURL(__filename).href");
    }
    return { code: outputText };
  },
};
