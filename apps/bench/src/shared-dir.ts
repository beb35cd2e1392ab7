// Locates the project's `../shared` folder (ONNX peers, PyTorch anchors): `--shared`, then `WF_SHARED`,
// then the folder next to the repository root, found from this file's location.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found by walking up from this module to the folder holding pnpm-workspace.yaml. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    dir = dirname(dir);
  }
  // apps/bench/{src,dist} -> repository root
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
}

/** The shared data folder, or null when it does not exist. */
export function findSharedDir(explicit?: string): string | null {
  const candidates = [explicit, process.env.WF_SHARED, join(repoRoot(), '..', 'shared')];
  for (const c of candidates) if (c && existsSync(c)) return resolve(c);
  return null;
}

/** The bench app's folder (apps/bench), from this module's location in src/ or dist/. */
export function appDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..');
}
