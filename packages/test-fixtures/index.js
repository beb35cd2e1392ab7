// Locates the parity fixtures: small ones copied into this package, large ones read from ../shared. Also
// the test-suite policy shared by every package: whether this is CI (where nothing may skip) and the seed,
// run count and replay command of the fuzz suites.
import { execFileSync } from 'node:child_process';
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

/**
 * Whether the tests run in CI, where every test must run and nothing may skip: `CI` is set to anything
 * but the empty string, `false` or `0` (CI services set `CI=true`, some `CI=1`; the reading of `false` and
 * `0` is that of ci-info and std-env).
 */
export function isCI() {
  const v = process.env.CI;
  return v !== undefined && v !== '' && v !== 'false' && v !== '0';
}

/** {@link isCI} when this module was loaded. */
export const IN_CI = isCI();

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
 * `undefined` when it is absent. In CI ({@link isCI}) an absent file throws: such tests must run in CI.
 */
export function sharedPath(rel) {
  const p = join(sharedDir, rel);
  if (existsSync(p)) return p;
  if (isCI()) throw new Error(`CI=${process.env.CI} but the shared fixture ${p} is missing`);
  return undefined;
}

/** Seed of the fuzz suites outside CI unless `WF_FUZZ_SEED` is set: fixed, so a local `pnpm test` repeats. */
export const DEFAULT_FUZZ_SEED = 20261127;

/** The checked-out commit (`git rev-parse HEAD` in this package's folder), or undefined outside a git clone. */
function headCommit() {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: here, encoding: 'utf8', stdio: 'pipe' }).trim();
  } catch {
    return undefined;
  }
}

let seedCache;
/**
 * The fuzz seed and where it came from: `WF_FUZZ_SEED` when set; in CI ({@link isCI}) a fresh seed derived
 * from the commit and the UTC date (CRC-32 of `<commit>:<yyyy-mm-dd>`, 31 bits), so every commit and every
 * day explores new cases while a rerun of the same commit on the same day replays them; otherwise
 * {@link DEFAULT_FUZZ_SEED}.
 */
export function fuzzSeed() {
  if (seedCache !== undefined) return seedCache;
  const env = process.env.WF_FUZZ_SEED;
  if (env !== undefined && env !== '') {
    const seed = Number(env);
    if (!Number.isSafeInteger(seed)) throw new Error(`WF_FUZZ_SEED must be an integer, got ${env}`);
    seedCache = { seed, source: 'WF_FUZZ_SEED' };
  } else if (isCI()) {
    const commit = headCommit() ?? 'no-commit';
    const date = new Date().toISOString().slice(0, 10);
    const seed = crc32(`${commit}:${date}`) >>> 1;
    seedCache = { seed, source: `derived from commit ${commit.slice(0, 12)} and date ${date}` };
  } else {
    seedCache = { seed: DEFAULT_FUZZ_SEED, source: 'the fixed default (CI derives a fresh one)' };
  }
  return seedCache;
}

/**
 * The command that replays a fuzz run: `WF_FUZZ_SEED=<seed> WF_FUZZ_RUNS=<runs> pnpm fuzz` at the repository
 * root (same seed, same count: fast-check draws case k from the seed alone, so the failing case recurs).
 */
export function fuzzReplayCommand({ seed, numRuns }) {
  return `WF_FUZZ_SEED=${seed} WF_FUZZ_RUNS=${numRuns} pnpm fuzz`;
}

const announced = new Set();
/**
 * fast-check parameters of a fuzz suite: `{ seed, numRuns }`. `numRuns` is `defaultRuns` (the bounded
 * count `pnpm test` runs) unless `WF_FUZZ_RUNS` is set (`pnpm fuzz` sets it high); the seed is
 * {@link fuzzSeed}. The first call per seed prints the seed, its source and the replay command; wrap the
 * `fc.assert` in {@link withFuzzReplay} so that a failure's message ends with the replay command.
 */
export function fuzzParams(defaultRuns) {
  const runs = process.env.WF_FUZZ_RUNS ? Number(process.env.WF_FUZZ_RUNS) : defaultRuns;
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`WF_FUZZ_RUNS must be a positive integer, got ${process.env.WF_FUZZ_RUNS}`);
  const { seed, source } = fuzzSeed();
  if (!announced.has(seed)) {
    announced.add(seed);
    console.log(`fuzz: seed ${seed} (${source}); a failure prints its replay command`);
  }
  return { seed, numRuns: runs };
}

/**
 * Runs `assertion` (an `fc.assert` given `params`); when it fails, appends the replay command to the error's
 * message (fast-check's message already names the seed, the shrunk counterexample and its path).
 */
export async function withFuzzReplay(params, assertion) {
  try {
    return await assertion(params);
  } catch (err) {
    const line = `replay: ${fuzzReplayCommand(params)}`;
    if (err instanceof Error && !err.message.includes(line)) err.message = `${err.message}\n${line}`;
    throw err;
  }
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
