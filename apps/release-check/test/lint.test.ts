// publint and are-the-types-wrong on each packed package. Packages that ship ESM and CJS are checked
// with attw's `node16` profile (Node's own resolution, ESM and CJS, plus bundlers; `node10` cannot see
// subpath exports and every package requires Node 20); ESM-only packages with the `esm-only` profile.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { describe, expect, inject, test } from 'vitest';
import { run } from '../src/run.js';
import { publishedPackages, shipsCjs } from '../src/workspace.js';

const packages = publishedPackages();
const attw = join(
  dirname(createRequire(import.meta.url).resolve('@arethetypeswrong/cli/package.json')),
  'dist/index.js',
);

describe('publint', () => {
  test.each(packages.map((p) => [p.name] as const))('%s', async (name) => {
    const tarball = readFileSync(inject('tarballs')[name]);
    const result = await publint({
      level: 'suggestion',
      strict: true,
      pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) },
    });
    const lines = result.messages.map((m) => `${m.type}: ${formatMessage(m, result.pkg) ?? m.code}`);
    const suggestions = lines.filter((l) => l.startsWith('suggestion'));
    if (suggestions.length) console.log(`publint suggestions for ${name}:\n  ${suggestions.join('\n  ')}`);
    expect(lines.filter((l) => !l.startsWith('suggestion'))).toEqual([]);
  });
});

describe('are the types wrong', () => {
  test.each(packages.map((p) => [p.name, p] as const))('%s', async (name, pkg) => {
    const profile = shipsCjs(pkg.manifest) ? 'node16' : 'esm-only';
    const res = await run(
      process.execPath,
      [
        attw,
        inject('tarballs')[name],
        '--profile',
        profile,
        '--format',
        'table-flipped',
        '--no-emoji',
        '--no-color',
      ],
      { cwd: pkg.dir, allowFailure: true, env: { ...process.env, FORCE_COLOR: '0' } },
    );
    expect(res.code, `attw --profile ${profile} ${name}:\n${res.stdout}${res.stderr}`).toBe(0);
  });
});
