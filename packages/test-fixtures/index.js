// Locates the parity fixtures: small ones copied into this package, large ones read from ../shared.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';

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

/** Seed of every fuzz suite unless `WF_FUZZ_SEED` is set: fixed, so `pnpm test` is reproducible. */
export const DEFAULT_FUZZ_SEED = 20261127;

/**
 * fast-check parameters of a fuzz suite: `{ seed, numRuns }`. `numRuns` is `defaultRuns` (the bounded
 * count `pnpm test` runs) unless `WF_FUZZ_RUNS` is set (`pnpm fuzz` sets it high); the seed is
 * `WF_FUZZ_SEED` or {@link DEFAULT_FUZZ_SEED}. A failing run prints the seed, so it can be replayed.
 */
export function fuzzParams(defaultRuns) {
  const runs = process.env.WF_FUZZ_RUNS ? Number(process.env.WF_FUZZ_RUNS) : defaultRuns;
  const seed = process.env.WF_FUZZ_SEED ? Number(process.env.WF_FUZZ_SEED) : DEFAULT_FUZZ_SEED;
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`WF_FUZZ_RUNS must be a positive integer, got ${process.env.WF_FUZZ_RUNS}`);
  if (!Number.isInteger(seed))
    throw new Error(`WF_FUZZ_SEED must be an integer, got ${process.env.WF_FUZZ_SEED}`);
  return { seed, numRuns: runs };
}

let gcFn;
/** Runs a full garbage collection (enables `--expose-gc` at run time when Node was started without it). */
export async function forceGc() {
  if (!gcFn) {
    const [{ setFlagsFromString }, { runInNewContext }] = await Promise.all([
      import('node:v8'),
      import('node:vm'),
    ]);
    setFlagsFromString('--expose-gc');
    gcFn = globalThis.gc ?? runInNewContext('gc');
  }
  // twice, with a macrotask between, so finalizers and weak callbacks of the first pass are collected too
  gcFn();
  await new Promise((r) => setImmediate(r));
  gcFn();
}

/** Process memory after a forced GC: V8 heap used, ArrayBuffer bytes and external bytes. */
export async function memoryAfterGc() {
  await forceGc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, external: m.external };
}

/** One PNG chunk: big-endian length, the 4-letter type, `data`, and the CRC-32 of type and data. */
export function pngChunk(type, data) {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** The system Chromium the browser tests drive: `CHROMIUM_PATH` (or `WF_CHROMIUM`), else Debian's. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? process.env.WF_CHROMIUM ?? '/usr/bin/chromium';

/**
 * playwright-core launch options for {@link chromiumPath}: headless, no sandbox, no background network
 * traffic; with `webgpu` (the default) WebGPU is enabled on SwiftShader.
 */
export function chromiumLaunchOptions({ webgpu = true } = {}) {
  const args = [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ];
  if (webgpu) args.push('--enable-unsafe-webgpu', '--enable-unsafe-swiftshader');
  return { executablePath: chromiumPath, headless: true, args };
}
