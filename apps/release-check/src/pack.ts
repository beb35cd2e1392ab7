// Packs the published packages with `pnpm pack` (what `pnpm publish` uploads: `workspace:` ranges
// replaced by versions, the root LICENSE added) into a folder, and reads files back out of a tarball.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './run.js';
import type { PublishedPackage } from './workspace.js';

/** Packs `pkg` into `dest`; returns the tarball's path. Throws when the package is not built. */
export async function packPackage(pkg: PublishedPackage, dest: string): Promise<string> {
  if (!existsSync(join(pkg.dir, 'dist'))) {
    throw new Error(`${pkg.name} has no dist/: build it first (pnpm build)`);
  }
  mkdirSync(dest, { recursive: true });
  const before = new Set(readdirSync(dest));
  await run('pnpm', ['pack', '--pack-destination', dest], { cwd: pkg.dir, timeoutMs: 120_000 });
  const made = readdirSync(dest).filter((f) => f.endsWith('.tgz') && !before.has(f));
  if (made.length !== 1) throw new Error(`pnpm pack of ${pkg.name} made ${made.length} tarballs in ${dest}`);
  return join(dest, made[0]);
}

/** File names in a tarball, without the leading `package/`. */
export function tarballFiles(tgz: string): string[] {
  return execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
}

/** One file of a tarball, as text. */
export function tarballText(tgz: string, file: string): string {
  return execFileSync('tar', ['-xzOf', tgz, `package/${file}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
}
