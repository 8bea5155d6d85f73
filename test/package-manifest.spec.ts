/**
 * Every package the libraries and the sample app import is declared in package.json: in `dependencies` for
 * runtime code, and in `dependencies` or `devDependencies` for test-time code (folders named `testing`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [full] : [];
  });
}

function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('node:') || specifier.startsWith('@bulkhead/'))
    return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

describe('package manifest', () => {
  it('declares every import of libs/ and apps/ (runtime: as a dependency)', () => {
    const files = [...sourceFiles(path.join(root, 'libs')), ...sourceFiles(path.join(root, 'apps'))];
    const runtime = new Set<string>();
    const testTime = new Set<string>();
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      const into = file.split(path.sep).includes('testing') ? testTime : runtime;
      for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^'"]*?from\s+'([^']+)'/gm)) {
        const pkg = packageOf(m[1]);
        if (pkg) into.add(pkg);
      }
    }
    const missing = [...runtime].filter((p) => !manifest.dependencies[p]).sort();
    const missingForTests = [...testTime]
      .filter((p) => !manifest.dependencies[p] && !manifest.devDependencies[p])
      .sort();
    expect({ missing, missingForTests }).toEqual({ missing: [], missingForTests: [] });
    expect(runtime.size).toBeGreaterThan(3);
  });
});
