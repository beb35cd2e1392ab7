// Where the built site is, and building it when it is missing or older than the docs sources (so
// `pnpm --filter @wf/docs test` works on its own; in CI the build task runs first).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { DOCS_ROOT, publicPackages } from '../../.vitepress/api/packages';

/** The built site. */
export const DIST = join(DOCS_ROOT, '.vitepress/dist');

const SKIP = new Set(['node_modules', 'dist', 'cache', 'api', 'public', 'test', 'vitest.config.ts']);

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (/\.(md|ts|vue|json)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Newest source the site is built from: the docs, and the packages' sources (the API reference). */
function newestInput(): number {
  let newest = newestSource(DOCS_ROOT);
  for (const p of publicPackages()) {
    const src = join(p.dir, 'src');
    if (existsSync(src)) newest = Math.max(newest, newestSource(src));
  }
  return newest;
}

/**
 * Builds the site unless a build newer than every docs and package source exists. `WF_DOCS_REBUILD=1`
 * forces a build; `WF_DOCS_NO_REBUILD=1` reuses any existing build.
 */
export function ensureBuilt(): { built: boolean; ms: number } {
  const index = join(DIST, 'index.html');
  const fresh = existsSync(index) && statSync(index).mtimeMs > newestInput();
  const reuse = existsSync(index) && process.env.WF_DOCS_NO_REBUILD === '1';
  if ((fresh || reuse) && process.env.WF_DOCS_REBUILD !== '1') return { built: false, ms: 0 };
  const t0 = performance.now();
  const bin = join(
    dirname(createRequire(join(DOCS_ROOT, 'package.json')).resolve('vitepress/package.json')),
    'bin/vitepress.js',
  );
  execFileSync(process.execPath, [bin, 'build'], { cwd: DOCS_ROOT, stdio: 'inherit' });
  return { built: true, ms: performance.now() - t0 };
}

/** Every HTML page of the build, as URL paths (`/guide/concepts.html`). */
export function builtPages(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.html')) out.push(`/${relative(DIST, p).split('\\').join('/')}`);
    }
  };
  walk(DIST);
  return out.sort();
}
