// Locates the parity fixtures: small ones copied into this package, large ones read from ../shared.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Folder of the fixtures copied into the repository (`reference/`, `mnist/`). */
export const fixturesDir = here;

/** The project's `../shared` folder (next to the repository root), or `WF_SHARED` when set. */
export const sharedDir = process.env.WF_SHARED
  ? resolve(process.env.WF_SHARED)
  : resolve(here, '../../../shared');

/** Absolute path of a fixture copied into the repo, e.g. `reference/wfm-micro.safetensors`. */
export function fixturePath(rel) {
  const p = join(here, rel);
  if (!existsSync(p)) throw new Error(`test fixture ${rel} is missing from ${here}`);
  return p;
}

/** Bytes of a fixture copied into the repo. */
export function readFixture(rel) {
  return new Uint8Array(readFileSync(fixturePath(rel)));
}

/**
 * Path of a large fixture kept in ../shared (e.g. `fixtures/reference/wfm-tiny.safetensors`), or
 * `undefined` when it is absent. When `CI=true` an absent file throws: such tests must run in CI.
 */
export function sharedPath(rel) {
  const p = join(sharedDir, rel);
  if (existsSync(p)) return p;
  if (process.env.CI === 'true') throw new Error(`CI=true but the shared fixture ${p} is missing`);
  return undefined;
}
