// Build-time detection of the optional browser backends for the playground. The virtual module
// `virtual:wf-backends` exports `loadGpujs`: a dynamic import of @wf/backend-gpujs when the package is
// resolvable from docs/ or built in packages/backend-gpujs (dist/index.js), otherwise null, so the site
// builds and the playground runs on the cpu backend alone until the gpu.js backend exists.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'vitepress';
import { DOCS_ROOT, REPO_ROOT } from './api/packages';

const ID = 'virtual:wf-backends';
const RESOLVED = `\0${ID}`;

/** Where @wf/backend-gpujs's browser (ESM) entry is, or undefined when it is neither installed nor built. */
export function findGpujsEntry(): string | undefined {
  let dir = join(REPO_ROOT, 'packages/backend-gpujs');
  try {
    // installed as a dependency of docs: its package.json (resolving the package itself would pick CJS)
    dir = dirname(createRequire(join(DOCS_ROOT, 'package.json')).resolve('@wf/backend-gpujs/package.json'));
  } catch {
    // not a dependency of docs: use the workspace build if there is one
  }
  if (!existsSync(join(dir, 'package.json'))) return undefined;
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { module?: string };
  const entry = join(dir, pkg.module ?? 'dist/index.js');
  return existsSync(entry) ? entry : undefined;
}

/** The Vite plugin serving `virtual:wf-backends`. */
export function wfBackends(): Plugin {
  const gpujs = findGpujsEntry();
  return {
    name: 'wf-backends',
    enforce: 'pre',
    config: () => ({
      resolve: gpujs ? { alias: [{ find: /^@wf\/backend-gpujs$/, replacement: gpujs }] } : undefined,
    }),
    resolveId: (id) => (id === ID ? RESOLVED : undefined),
    load(id) {
      if (id !== RESOLVED) return undefined;
      return gpujs
        ? "export const loadGpujs = () => import('@wf/backend-gpujs');\n"
        : 'export const loadGpujs = null;\n';
    },
  };
}
