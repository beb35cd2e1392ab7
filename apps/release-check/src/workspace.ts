// The workspace as the publishing checks see it: its root, and the `@wf/*` packages that get published
// (every non-private package under packages/), with their manifests.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (apps/release-check/src -> ../../..). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** A package.json, as far as these checks read it. */
export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  description?: string;
  license?: string;
  type?: string;
  main?: string;
  module?: string;
  types?: string;
  bin?: string | Record<string, string>;
  exports?: unknown;
  files?: string[];
  sideEffects?: boolean | string[];
  engines?: Record<string, string>;
  repository?: string | { type?: string; url?: string; directory?: string };
  publishConfig?: { access?: string };
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** A published package of the workspace. */
export interface PublishedPackage {
  name: string;
  /** Absolute folder. */
  dir: string;
  /** Folder relative to the repository root, e.g. `packages/core`. */
  path: string;
  manifest: Manifest;
}

/** Reads a package.json. */
export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** The non-private `@wf/*` packages under packages/, sorted by name. */
export function publishedPackages(root: string = REPO_ROOT): PublishedPackage[] {
  const out: PublishedPackage[] = [];
  for (const name of readdirSync(join(root, 'packages')).sort()) {
    const dir = join(root, 'packages', name);
    if (!existsSync(join(dir, 'package.json'))) continue;
    const manifest = readManifest(dir);
    if (manifest.private || !manifest.name?.startsWith('@wf/')) continue;
    out.push({ name: manifest.name, dir, path: `packages/${name}`, manifest });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Whether a package ships CommonJS (a `require` condition in its root export). */
export function shipsCjs(m: Manifest): boolean {
  const root = (m.exports as Record<string, unknown> | undefined)?.['.'];
  return typeof root === 'object' && root !== null && 'require' in root;
}
