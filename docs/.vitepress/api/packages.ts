// The published `@wf/*` packages and their public entry points, discovered from `packages/*/package.json`:
// every subpath of `exports` (except `./package.json`) maps its `dist` file back to the `src` file it is
// built from. Shared by the API generator (TypeDoc entry points) and the docs tests (export coverage).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (docs/.vitepress/api -> ../../..). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The docs package root. */
export const DOCS_ROOT = join(REPO_ROOT, 'docs');

/** One public entry point of a package, e.g. `@wf/core/testing`. */
export interface PublicEntry {
  /** Import specifier, e.g. `@wf/models/node`. */
  specifier: string;
  /** Slug used for the API pages of this entry, e.g. `models-node`. */
  slug: string;
  /** Absolute path of the TypeScript source (may not exist while a package is being written). */
  source: string;
  /** Absolute path of the built ESM declaration file (may not exist before a build). */
  declaration: string;
}

/** A published (non-private) `@wf/*` package. */
export interface PublicPackage {
  name: string;
  /** Absolute path of the package folder. */
  dir: string;
  entries: PublicEntry[];
}

type ExportTarget = string | { [condition: string]: ExportTarget };

/** First path reached through the `import` (else `default`) conditions for the given leaf key. */
function pick(target: ExportTarget, leaf: 'types' | 'default'): string | undefined {
  if (typeof target === 'string') return leaf === 'default' ? target : undefined;
  if (target[leaf] && typeof target[leaf] === 'string') return target[leaf] as string;
  for (const cond of ['import', 'default', 'node']) {
    const sub = target[cond];
    if (sub !== undefined && typeof sub !== 'string') {
      const found = pick(sub, leaf);
      if (found) return found;
    }
  }
  return undefined;
}

/** `./dist/testing/index.js` -> `src/testing/index.ts`. */
function sourceOf(distPath: string): string {
  return distPath
    .replace(/^\.\//, '')
    .replace(/^dist\//, 'src/')
    .replace(/\.(d\.)?(c|m)?(js|ts)$/, '.ts');
}

/** Lists the published `@wf/*` packages of the workspace and their public entry points. */
export function publicPackages(root: string = REPO_ROOT): PublicPackage[] {
  const out: PublicPackage[] = [];
  const pkgsDir = join(root, 'packages');
  for (const name of readdirSync(pkgsDir).sort()) {
    const dir = join(pkgsDir, name);
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as {
      name: string;
      private?: boolean;
      exports?: Record<string, ExportTarget>;
    };
    if (pkg.private || !pkg.name.startsWith('@wf/')) continue;
    const entries: PublicEntry[] = [];
    for (const [sub, target] of Object.entries(pkg.exports ?? {})) {
      if (sub === './package.json') continue;
      const js = pick(target, 'default');
      const dts = pick(target, 'types');
      if (!js || !dts) continue;
      const specifier = sub === '.' ? pkg.name : `${pkg.name}/${sub.replace(/^\.\//, '')}`;
      entries.push({
        specifier,
        slug: specifier.replace(/^@wf\//, '').replace(/\//g, '-'),
        source: join(dir, sourceOf(js)),
        declaration: join(dir, dts),
      });
    }
    out.push({ name: pkg.name, dir, entries });
  }
  return out;
}
