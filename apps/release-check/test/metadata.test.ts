// Each published @wf/* package's manifest and packed tarball: exports (types first, targets present),
// files, sideEffects, engines, license, README, repository, public access; and the tarball holds what
// the manifest promises with no `workspace:` range left. Plus the checker itself on broken manifests.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, test } from 'vitest';
import { checkManifest } from '../src/metadata.js';
import { tarballFiles, tarballText } from '../src/pack.js';
import { type Manifest, publishedPackages } from '../src/workspace.js';

const packages = publishedPackages();

describe('published packages', () => {
  test('are the @wf/* packages the project publishes', () => {
    expect(packages.map((p) => p.name)).toEqual(
      expect.arrayContaining(['@wf/backend-cpu', '@wf/cli', '@wf/core', '@wf/models']),
    );
  });

  test.each(packages.map((p) => [p.name, p] as const))('%s: manifest', (_name, pkg) => {
    expect(checkManifest(pkg.manifest, pkg.dir, pkg.path)).toEqual([]);
  });

  test.each(packages.map((p) => [p.name, p] as const))('%s: packed tarball', (name, pkg) => {
    const tgz = inject('tarballs')[name];
    const files = tarballFiles(tgz);
    for (const f of ['package.json', 'README.md', 'LICENSE']) expect(files, `${name} tarball`).toContain(f);
    expect(files.some((f) => f.startsWith('dist/'))).toBe(true);
    expect(
      files.filter((f) => f.startsWith('src/') || f.endsWith('.test.js') || f.includes('node_modules/')),
    ).toEqual([]);
    const packed = JSON.parse(tarballText(tgz, 'package.json')) as Manifest &
      Record<string, Record<string, string>>;
    const ranges = { ...packed.dependencies, ...packed.peerDependencies, ...packed.optionalDependencies };
    expect(Object.entries(ranges).filter(([, r]) => /^(workspace|file|link):/.test(r))).toEqual([]);
    expect(packed.version).toBe(pkg.manifest.version);
  });
});

describe('checkManifest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wf-manifest-'));
  mkdirSync(join(dir, 'dist'));
  for (const f of ['index.js', 'index.d.ts', 'index.cjs', 'index.d.cts'])
    writeFileSync(join(dir, 'dist', f), '');
  writeFileSync(join(dir, 'README.md'), `# @wf/x\n\n${'Something useful about @wf/x. '.repeat(10)}`);
  const good: Manifest = {
    name: '@wf/x',
    version: '1.0.0',
    description: 'x',
    license: 'MIT',
    type: 'module',
    exports: {
      '.': {
        import: { types: './dist/index.d.ts', default: './dist/index.js' },
        require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
      },
      './package.json': './package.json',
    },
    files: ['dist', 'README.md'],
    sideEffects: false,
    engines: { node: '>=20' },
    repository: { type: 'git', url: 'git+https://example.com/x.git', directory: 'packages/x' },
    publishConfig: { access: 'public' },
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(good));
  const problems = (m: Partial<Manifest> & Record<string, unknown>) =>
    checkManifest({ ...good, ...m } as Manifest, dir, 'packages/x');

  test('accepts a complete manifest', () => {
    expect(problems({})).toEqual([]);
  });

  test('finds types after another condition, a missing target, missing fields', () => {
    expect(
      problems({
        exports: { '.': { import: { default: './dist/index.js', types: './dist/index.d.ts' } } },
      }).join('\n'),
    ).toMatch(/"types" must be the first condition/);
    expect(
      problems({
        exports: { '.': { import: { types: './dist/nope.d.ts', default: './dist/index.js' } } },
      }).join('\n'),
    ).toMatch(/nope\.d\.ts, which does not exist/);
    expect(problems({ sideEffects: undefined, engines: undefined, files: undefined }).join('\n')).toMatch(
      /sideEffects[\s\S]*"files"[\s\S]*engines|"files"[\s\S]*sideEffects[\s\S]*engines/,
    );
    expect(problems({ repository: undefined }).join('\n')).toMatch(/"directory": "packages\/x"/);
    expect(problems({ license: undefined, publishConfig: undefined }).length).toBe(2);
  });
});
