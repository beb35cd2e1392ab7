// Device check for @wf/backend-gpujs on a real GPU through WebGPU (Dawn, the `webgpu` npm package).
// Not part of any package (no typecheck, no test run picks it up): scripts/device-check/prepare.sh bundles it
// with esbuild into the ignored .gpu/check.mjs, and .gpu/run.sh runs that bundle with a carried Node on the
// device machine. See scripts/device-check/README.md.
//
// Steps, each under its own time limit, each reported even when another fails: adapter (what Dawn reports),
// parity (forward vs PyTorch float64 fixtures), grad-parity (gradients vs fixtures/grad), timing (WFM-T
// 224 px b1 forward, gpujs vs the cpu backend, A B A B; one fwd+bwd), and conformance (the @wf/core suite,
// forward and gradient cases; run last, with what is left of the budget, cooperatively stopped between cases
// so nothing keeps running behind the next step). Writes OUT/gpu.json; exit code 0 only when every step passes.
//
// Usage: node check.mjs [--mode webgpu|cpu|webasm|...] [--fixtures DIR] [--out DIR] [--steps a,b,c]
//        env: WF_GPU_CHECK_MODE, WF_GPU_FIXTURES, OUT, WF_GPU_CHECK_BUDGET_S (default 300),
//             WF_GPU_CHECK_RUNS (timing runs, default 10), WF_GPU_CHECK_BWD_RUNS (default 3),
//             WF_GPU_CHECK_STEPS (default all), WF_WEBGPU_FLAGS (comma-separated Dawn toggles for
//             webgpu `create()`).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { createCpuBackend } from '@wf/backend-cpu';
import { createGpujsBackend, type GpujsMode } from '@wf/backend-gpujs';
import { type AnyBackend, compile, parseSafetensors, type TensorData } from '@wf/core';
import { type ConformanceCase, conformanceCases } from '@wf/core/testing/runner';
import { loadModel, randomModel } from '@wf/models';
import { fixtureInputs, parityError } from '@wf/test-fixtures/parity';

// ---------------------------------------------------------------------------------------------- options
const argv = process.argv.slice(2);
function arg(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}
const MODE = (arg('mode') ?? process.env.WF_GPU_CHECK_MODE ?? 'webgpu') as GpujsMode;
const OUT = resolve(arg('out') ?? process.env.OUT ?? '/tmp/out');
const FIXTURES_CANDIDATES = [
  arg('fixtures'),
  process.env.WF_GPU_FIXTURES,
  join(process.cwd(), '.gpu/fixtures'),
  join(process.cwd(), 'packages/test-fixtures'),
].filter((p): p is string => !!p);
const BUDGET_S = Number(process.env.WF_GPU_CHECK_BUDGET_S ?? 300);
const RUNS = Number(process.env.WF_GPU_CHECK_RUNS ?? 10);
const BWD_RUNS = Number(process.env.WF_GPU_CHECK_BWD_RUNS ?? 3);
const WEBGPU_FLAGS = (process.env.WF_WEBGPU_FLAGS ?? '').split(',').filter(Boolean);
const ALL_STEPS = ['adapter', 'parity', 'grad-parity', 'timing', 'conformance'] as const;
type StepName = (typeof ALL_STEPS)[number];
const STEPS = (arg('steps') ?? process.env.WF_GPU_CHECK_STEPS ?? ALL_STEPS.join(','))
  .split(',')
  .filter(Boolean) as StepName[];
/** Each step's own limit (seconds); also capped by what is left of the whole budget. */
const LIMIT_S: Record<StepName, number> = {
  adapter: 60,
  parity: 60,
  'grad-parity': 60,
  timing: 90,
  conformance: 240,
};

const T0 = Date.now();
const elapsedS = () => (Date.now() - T0) / 1000;
const log = (s: string) => console.log(`[${elapsedS().toFixed(1).padStart(6)}s] ${s}`);
const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];
const fullMsg = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 2000);

// ------------------------------------------------------------------------------------------ the summary
interface StepResult {
  status: 'pass' | 'fail' | 'error' | 'timeout' | 'skipped';
  ms: number;
  error?: string;
  [k: string]: unknown;
}
const summary: {
  mode: string;
  node: string;
  platform: string;
  cpus: number;
  cpuModel: string;
  startedAt: string;
  budgetS: number;
  finished: boolean;
  backend?: { name?: string; device?: Record<string, string>; skipped?: unknown; error?: string };
  uncapturedGpuErrors: { count: number; first: string[] };
  steps: Partial<Record<StepName, StepResult>>;
  ok?: boolean;
} = {
  mode: MODE,
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  cpus: availableParallelism?.() ?? cpus().length,
  cpuModel: cpus()[0]?.model ?? '?',
  startedAt: new Date().toISOString(),
  budgetS: BUDGET_S,
  finished: false,
  uncapturedGpuErrors: { count: 0, first: [] },
  steps: {},
};
function writeSummary() {
  try {
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'gpu.json'), `${JSON.stringify(summary, null, 2)}\n`);
  } catch (e) {
    console.log(`cannot write ${OUT}/gpu.json: ${firstLine(e)}`);
  }
}

// gpu.js / the backend log uncaptured WebGPU errors with console.error("gpu.js [webgpu]: ..."): count them
const origError = console.error.bind(console);
console.error = (...a: unknown[]) => {
  const s = a.map(String).join(' ');
  if (s.includes('[webgpu]')) {
    summary.uncapturedGpuErrors.count++;
    if (summary.uncapturedGpuErrors.first.length < 10)
      summary.uncapturedGpuErrors.first.push(s.slice(0, 500));
  }
  origError(...a);
};

// ------------------------------------------------------------------------------------------- fixtures
function fixturesDir(): string {
  for (const d of FIXTURES_CANDIDATES) if (existsSync(join(d, 'reference/wfm-micro.safetensors'))) return d;
  throw new Error(`fixtures not found in any of: ${FIXTURES_CANDIDATES.join(', ')}`);
}
const fx = (rel: string) => new Uint8Array(readFileSync(join(fixturesDir(), rel)));

// -------------------------------------------------------------------------------------------- backend
let gpuBackendP: Promise<Awaited<ReturnType<typeof createGpujsBackend>>> | undefined;
function gpuBackend() {
  gpuBackendP ??= createGpujsBackend({ mode: MODE, webgpuFlags: WEBGPU_FLAGS });
  return gpuBackendP;
}
let cpuBackend: ReturnType<typeof createCpuBackend> | undefined;

// -------------------------------------------------------------------------------------------- steps
class StepTimeout extends Error {}

async function runStep(name: StepName, body: (deadline: number) => Promise<Omit<StepResult, 'ms'>>) {
  const left = BUDGET_S - elapsedS();
  const limit = Math.min(LIMIT_S[name], left);
  const start = Date.now();
  log(`=== step ${name} (limit ${limit.toFixed(0)} s) ===`);
  if (limit < 5) {
    summary.steps[name] = { status: 'skipped', ms: 0, error: `no time left in the ${BUDGET_S} s budget` };
    log(`step ${name}: SKIPPED (budget spent)`);
    writeSummary();
    return;
  }
  const deadline = start + limit * 1000;
  let timer: NodeJS.Timeout | undefined;
  let res: StepResult;
  try {
    const r = await Promise.race([
      body(deadline),
      new Promise<never>((_, rej) => {
        timer = setTimeout(
          () => rej(new StepTimeout(`step time limit of ${limit.toFixed(0)} s reached`)),
          limit * 1000 + 5000,
        );
      }),
    ]);
    res = { ...r, ms: Date.now() - start } as StepResult;
  } catch (e) {
    res = {
      status: e instanceof StepTimeout ? 'timeout' : 'error',
      ms: Date.now() - start,
      error: fullMsg(e),
    };
  } finally {
    clearTimeout(timer);
  }
  summary.steps[name] = res;
  log(
    `step ${name}: ${res.status.toUpperCase()} in ${(res.ms / 1000).toFixed(1)} s${res.error ? ` -- ${firstLine(res.error)}` : ''}`,
  );
  writeSummary();
}

/** The parts of a Dawn `GPUAdapter` the adapter step reads (typed loosely: they are only reported). */
interface DawnAdapter {
  info?: Record<string, unknown>;
  limits?: Record<string, unknown>;
  features?: Iterable<string>;
  isFallbackAdapter?: boolean;
}

// 1. adapter ------------------------------------------------------------------------------------------
async function stepAdapter(): Promise<Omit<StepResult, 'ms'>> {
  let backend: Awaited<ReturnType<typeof gpuBackend>>;
  try {
    backend = await gpuBackend();
  } catch (e) {
    summary.backend = { error: firstLine(e) };
    throw e;
  }
  summary.backend = { name: backend.name, device: { ...backend.info.device }, skipped: backend.info.skipped };
  log(`backend ${backend.name}; gpujs device info: ${JSON.stringify(backend.info.device)}`);
  const out: Record<string, unknown> = { backend: backend.name, device: backend.info.device };
  if (MODE !== 'webgpu') return { status: 'pass', ...out, note: `mode ${MODE}: no WebGPU adapter involved` };
  const gpu = (
    globalThis as { navigator?: { gpu?: { requestAdapter(o?: object): Promise<DawnAdapter | null> } } }
  ).navigator?.gpu;
  if (!gpu) throw new Error('navigator.gpu is missing after the backend was created');
  const adapters: Record<string, unknown> = {};
  for (const pref of ['high-performance', 'low-power', undefined] as const) {
    const a = await gpu.requestAdapter(pref ? { powerPreference: pref } : undefined);
    const key = pref ?? 'default';
    if (!a) {
      adapters[key] = null;
      continue;
    }
    const info: Record<string, unknown> = {};
    const src = a.info ?? {};
    for (const k in src) {
      const v = src[k];
      if (typeof v !== 'function') info[k] = v;
    }
    for (const k of [
      'vendor',
      'architecture',
      'device',
      'description',
      'backendType',
      'adapterType',
      'type',
      'driverDescription',
    ]) {
      if (info[k] === undefined && src[k] !== undefined) info[k] = src[k];
    }
    const limits: Record<string, unknown> = {};
    for (const k of [
      'maxBufferSize',
      'maxStorageBufferBindingSize',
      'maxComputeWorkgroupSizeX',
      'maxComputeInvocationsPerWorkgroup',
      'maxComputeWorkgroupsPerDimension',
    ])
      limits[k] = a.limits?.[k];
    adapters[key] = {
      info,
      isFallbackAdapter: a.isFallbackAdapter ?? src.isFallbackAdapter,
      features: a.features ? [...a.features].sort() : [],
      limits,
    };
    log(
      `adapter (${key}): ${JSON.stringify(info)} fallback=${a.isFallbackAdapter ?? src.isFallbackAdapter} limits=${JSON.stringify(limits)}`,
    );
  }
  const hp = adapters['high-performance'] as {
    info: Record<string, unknown>;
    isFallbackAdapter?: boolean;
  } | null;
  const text = JSON.stringify(hp?.info ?? {}).toLowerCase();
  const nvidia = text.includes('nvidia') || text.includes('10de');
  const software = /swiftshader|llvmpipe|lavapipe|software|cpu/.test(text) || hp?.isFallbackAdapter === true;
  log(`verdict: ${nvidia ? 'NVIDIA GPU' : 'NOT NVIDIA'}${software ? ' (software/fallback adapter!)' : ''}`);
  return { status: nvidia && !software ? 'pass' : 'fail', ...out, nvidia, software, adapters };
}

// 2. parity ----------------------------------------------------------------------------------------------
const PARITY_CASES = [
  { run: 'wfm-micro-64', weights: 'wfm-micro' },
  { run: 'wfm-micro-80', weights: 'wfm-micro' },
  { run: 'deit-micro-64', weights: 'deit-micro-64' },
];
async function stepParity(deadline: number): Promise<Omit<StepResult, 'ms'>> {
  const backend = await gpuBackend();
  const rows: unknown[] = [];
  const failures: string[] = [];
  for (const { run, weights } of PARITY_CASES) {
    if (Date.now() > deadline) {
      failures.push(`${run}: not run (step time limit)`);
      continue;
    }
    const t = Date.now();
    try {
      const model = await loadModel(fx(`reference/${weights}.safetensors`));
      const io = parseSafetensors(fx(`reference/${run}.io.safetensors`));
      const inputs: Record<string, TensorData> = fixtureInputs(model.config.arch, io);
      const out = await model.run(backend, inputs, { hidden: true });
      let compared = 0;
      const worst = { name: '', err: 0, rel: 0 };
      for (const name of io.names()) {
        if (['input', 'x', 't', 'y'].includes(name) || name.startsWith('dyn')) continue;
        const ref = io.tensor(name);
        const got = out[name];
        if (!got) {
          failures.push(`${run} ${name}: output missing`);
          continue;
        }
        if (got.shape.join(',') !== ref.shape.join(',')) {
          failures.push(`${run} ${name}: shape [${got.shape}] vs [${ref.shape}]`);
          continue;
        }
        const { err, bound } = parityError(got, ref, { rel: 1e-4, floor: 1 });
        if (!(err <= bound)) failures.push(`${run} ${name}: max error ${err} > bound ${bound}`);
        if (err / bound > worst.rel || Number.isNaN(err))
          Object.assign(worst, { name, err, rel: err / bound });
        compared++;
      }
      if (compared < 3) failures.push(`${run}: only ${compared} tensors compared`);
      rows.push({ run, compared, worst, ms: Date.now() - t });
      log(
        `[parity] ${backend.name} ${run}: ${compared} tensors, worst ${worst.name} max|err| ${worst.err.toExponential(2)} (${(worst.rel * 100).toFixed(1)}% of bound), ${Date.now() - t} ms`,
      );
      await model.dispose();
    } catch (e) {
      failures.push(`${run}: ${fullMsg(e)}`);
      log(`[parity] ${run}: ERROR ${firstLine(e)}`);
    }
  }
  for (const f of failures) log(`  FAIL ${f.split('\n')[0]}`);
  return { status: failures.length ? 'fail' : 'pass', rows, failures };
}

// 3. gradient parity -------------------------------------------------------------------------------------
const GRAD_CASES = [
  { run: 'wfm-micro-64', weights: 'wfm-micro' },
  { run: 'deit-micro-64', weights: 'deit-micro-64' },
];
async function stepGradParity(deadline: number): Promise<Omit<StepResult, 'ms'>> {
  const backend = await gpuBackend();
  const rows: unknown[] = [];
  const failures: string[] = [];
  for (const { run, weights } of GRAD_CASES) {
    if (Date.now() > deadline) {
      failures.push(`${run}: not run (step time limit)`);
      continue;
    }
    const t = Date.now();
    try {
      const model = await loadModel(fx(`reference/${weights}.safetensors`));
      const io = parseSafetensors(fx(`grad/${run}.grad.safetensors`));
      try {
        const { grads } = await model.grad(backend, { input: io.tensor('input') }, io.tensor('cotangent'));
        const refNames = io.names().filter((n) => n.startsWith('grad.'));
        const got = [...grads.keys()].map((n) => `grad.${n}`).sort();
        const missing = refNames.filter((n) => !got.includes(n));
        const extra = got.filter((n) => !refNames.includes(n));
        if (missing.length || extra.length)
          failures.push(
            `${run}: gradient names differ (missing ${missing.join(' ')}; extra ${extra.join(' ')})`,
          );
        let worst = 0;
        let worstName = '';
        let bad = 0;
        for (const name of refNames) {
          const g = grads.get(name.slice(5));
          if (!g) continue;
          const { err, bound } = parityError(g, io.tensor(name));
          if (err / bound > worst || Number.isNaN(err)) {
            worst = err / bound;
            worstName = name;
          }
          if (!(err <= bound)) {
            bad++;
            failures.push(`${run} ${name}: ${err.toExponential(2)} > ${bound.toExponential(2)}`);
          }
        }
        rows.push({
          run,
          tensors: refNames.length,
          bad,
          worstName,
          worstPctOfBound: worst * 100,
          ms: Date.now() - t,
        });
        log(
          `[grad parity] ${backend.name} ${run}: ${refNames.length} gradients, ${bad} over bound, worst ${worstName} ${(worst * 100).toFixed(1)}% of bound, ${Date.now() - t} ms`,
        );
      } finally {
        await model.dispose();
      }
    } catch (e) {
      failures.push(`${run}: ${fullMsg(e)}`);
      log(`[grad parity] ${run}: ERROR ${firstLine(e)}`);
    }
  }
  for (const f of failures.slice(0, 30)) log(`  FAIL ${f.split('\n')[0]}`);
  return { status: failures.length ? 'fail' : 'pass', rows, failures };
}

// 4. timing ----------------------------------------------------------------------------------------------
function randomInput(shape: readonly number[], seed = 1): TensorData {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 32 - 0.5;
  }
  return { dtype: 'float32', shape: [...shape], data };
}
const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
async function stepTiming(deadline: number): Promise<Omit<StepResult, 'ms'>> {
  const result: Record<string, unknown> = { model: 'wfm-tiny (random weights, seed 0)', px: 224, batch: 1 };
  let gpu: AnyBackend | undefined;
  try {
    gpu = (await gpuBackend()) as unknown as AnyBackend;
  } catch (e) {
    result.gpuError = firstLine(e);
    log(`gpu backend unavailable (${firstLine(e)}); timing the cpu backend alone`);
  }
  cpuBackend ??= createCpuBackend();
  await cpuBackend.ready;
  const cpuRt = (cpuBackend as unknown as { runtime(): Record<string, unknown> }).runtime();
  result.cpuRuntime = cpuRt;
  log(`cpu backend: ${cpuBackend.name} ${JSON.stringify(cpuRt)}`);
  const cpu = cpuBackend as unknown as AnyBackend;
  const model = randomModel('wfm-tiny');
  const shape = { batch: 1, height: 224, width: 224 };
  const input = randomInput(model.inputShapes(shape).input.shape);
  const entries: { name: string; be: AnyBackend }[] = [];
  if (gpu) entries.push({ name: 'gpujs', be: gpu });
  entries.push({ name: 'cpu', be: cpu });

  // forward: compile + first run (warm-up) each, then A B A B
  const fwd: Record<string, Awaited<ReturnType<typeof compile>>> = {};
  for (const { name, be } of entries) {
    let t = performance.now();
    fwd[name] = await compile(model.graph(shape), be);
    const compileMs = performance.now() - t;
    t = performance.now();
    await fwd[name].run({ input });
    const firstMs = performance.now() - t;
    t = performance.now();
    await fwd[name].run({ input });
    const secondMs = performance.now() - t;
    result[`${name}CompileMs`] = compileMs;
    result[`${name}FirstRunMs`] = firstMs;
    log(
      `[timing] ${name} (${be.name}): compile ${compileMs.toFixed(0)} ms, first run ${firstMs.toFixed(1)} ms, second ${secondMs.toFixed(1)} ms`,
    );
  }
  // outputs agree between backends (sanity: same weights, same input)
  if (entries.length === 2) {
    const a = (await fwd.gpujs.run({ input })) as Record<string, TensorData>;
    const b = (await fwd.cpu.run({ input })) as Record<string, TensorData>;
    const k = Object.keys(b)[0];
    const { err, bound } = parityError(a[k], b[k], { rel: 1e-3, floor: 1 });
    result.gpuVsCpuMaxErr = err;
    log(
      `[timing] gpujs vs cpu output "${k}": max|diff| ${err.toExponential(2)} (bound 1e-3 rel: ${bound.toExponential(2)})`,
    );
  }
  const times: Record<string, number[]> = Object.fromEntries(entries.map((e) => [e.name, []]));
  for (let i = 0; i < RUNS && Date.now() < deadline - 20_000; i++) {
    for (const { name } of entries) {
      const t = performance.now();
      await fwd[name].run({ input });
      times[name].push(performance.now() - t);
    }
  }
  for (const { name } of entries) {
    result[`${name}ForwardMedianMs`] = median(times[name]);
    result[`${name}ForwardRuns`] = times[name].length;
    result[`${name}ForwardAllMs`] = times[name].map((x) => Math.round(x * 100) / 100);
    log(
      `[timing] forward WFM-T 224 b1 ${name}: median ${median(times[name]).toFixed(2)} ms over ${times[name].length} runs [${times[name].map((x) => x.toFixed(1)).join(' ')}]`,
    );
  }
  if (entries.length === 2) {
    const ratio = median(times.cpu) / median(times.gpujs);
    result.forwardSpeedupGpuOverCpu = ratio;
    log(`[timing] forward ratio cpu/gpujs = ${ratio.toFixed(2)} (>1: gpujs ${MODE} faster)`);
  }
  for (const f of Object.values(fwd)) f.dispose();

  // forward + backward (the bench's gradient graph: input and every trainable parameter)
  try {
    if (Date.now() > deadline - 15_000) throw new Error('not run: step time limit');
    const bwd: Record<string, Awaited<ReturnType<typeof compile>>> = {};
    const feeds: Record<string, Record<string, TensorData>> = {};
    for (const { name, be } of entries) {
      const t = performance.now();
      bwd[name] = await compile(model.gradGraph(shape), be);
      const feed: Record<string, TensorData> = { input };
      for (const [n, type] of bwd[name].inputTypes) {
        if (n === 'cotangent') feed[n] = randomInput(type.shape, 7);
        else if (n !== 'input') feed[n] = model.weights.get(n)!;
      }
      feeds[name] = feed;
      await bwd[name].run(feed);
      log(`[timing] fwd+bwd ${name}: compile + first run ${(performance.now() - t).toFixed(0)} ms`);
    }
    const bt: Record<string, number[]> = Object.fromEntries(entries.map((e) => [e.name, []]));
    for (let i = 0; i < BWD_RUNS && Date.now() < deadline - 5_000; i++) {
      for (const { name } of entries) {
        const t = performance.now();
        await bwd[name].run(feeds[name]);
        bt[name].push(performance.now() - t);
      }
    }
    for (const { name } of entries) {
      result[`${name}FwdBwdMedianMs`] = median(bt[name]);
      result[`${name}FwdBwdRuns`] = bt[name].length;
      log(
        `[timing] fwd+bwd WFM-T 224 b1 ${name}: median ${median(bt[name]).toFixed(1)} ms over ${bt[name].length} runs`,
      );
    }
    if (entries.length === 2) {
      const ratio = median(bt.cpu) / median(bt.gpujs);
      result.fwdBwdSpeedupGpuOverCpu = ratio;
      log(`[timing] fwd+bwd ratio cpu/gpujs = ${ratio.toFixed(2)} (>1: gpujs ${MODE} faster)`);
    }
    for (const b of Object.values(bwd)) b.dispose();
  } catch (e) {
    result.fwdBwdError = firstLine(e);
    log(`[timing] fwd+bwd: ${firstLine(e)}`);
  }
  if (!gpu) return { status: 'error', error: `gpu backend unavailable: ${result.gpuError}`, ...result };
  return { status: 'pass', ...result };
}

// 5. conformance ----------------------------------------------------------------------------------------
class SkipCase extends Error {}
async function stepConformance(deadline: number): Promise<Omit<StepResult, 'ms'>> {
  // a backend of its own: the suite's parameter case counts what the backend holds, and the steps before
  // leave their parameters on the shared one
  const backend = (await createGpujsBackend({
    mode: MODE,
    webgpuFlags: WEBGPU_FLAGS,
  })) as unknown as AnyBackend;
  const fixtures = {
    weights: fx('reference/wfm-micro.safetensors'),
    runs: {
      'wfm-micro-64': fx('reference/wfm-micro-64.io.safetensors'),
      'wfm-micro-80': fx('reference/wfm-micro-80.io.safetensors'),
    },
  };
  const all: ConformanceCase[] = conformanceCases({ fixtures });
  const ctx = {
    skip(note?: string): never {
      throw new SkipCase(note ?? 'skipped');
    },
  };
  let passed = 0;
  const skipped: { label: string; reason: string }[] = [];
  const failed: { label: string; message: string }[] = [];
  const notRun: string[] = [];
  const groups: Record<string, { passed: number; failed: number; skipped: number; notRun: number }> = {};
  let lastGroup = '';
  for (const c of all) {
    const label = c.group ? `${c.group} > ${c.label}` : c.label;
    const groupName = c.group || '(suite)';
    groups[groupName] ??= { passed: 0, failed: 0, skipped: 0, notRun: 0 };
    const g = groups[groupName];
    if (c.group !== lastGroup) {
      log(`[conformance] group: ${c.group || '(suite)'}`);
      lastGroup = c.group;
    }
    if (Date.now() > deadline) {
      notRun.push(label);
      g.notRun++;
      continue;
    }
    let timer: NodeJS.Timeout | undefined;
    const t = Date.now();
    try {
      const caseLimit = Math.max(1000, Math.min(c.timeout, deadline + 10_000 - Date.now()));
      await Promise.race([
        c.run(backend, ctx),
        new Promise((_, rej) => {
          timer = setTimeout(() => rej(new Error(`timed out after ${caseLimit} ms`)), caseLimit);
        }),
      ]);
      passed++;
      g.passed++;
    } catch (e) {
      if (e instanceof SkipCase) {
        skipped.push({ label, reason: e.message });
        g.skipped++;
      } else {
        const message = fullMsg(e);
        failed.push({ label, message });
        g.failed++;
        log(`[conformance] FAIL ${label} (${Date.now() - t} ms): ${firstLine(message)}`);
      }
    } finally {
      clearTimeout(timer);
    }
  }
  for (const [name, g] of Object.entries(groups))
    log(
      `[conformance] ${name}: ${g.passed} passed, ${g.failed} failed, ${g.skipped} skipped${g.notRun ? `, ${g.notRun} NOT RUN (time limit)` : ''}`,
    );
  log(
    `[conformance] ${backend.name}: total ${all.length}, passed ${passed}, failed ${failed.length}, skipped ${skipped.length}, not run ${notRun.length}`,
  );
  const fallbacks = (backend as unknown as { fallbacks?: unknown[] }).fallbacks ?? [];
  backend.dispose();
  return {
    status: failed.length || notRun.length ? 'fail' : 'pass',
    total: all.length,
    passed,
    failedCount: failed.length,
    skippedCount: skipped.length,
    notRunCount: notRun.length,
    groups,
    failed,
    skipped,
    notRun: notRun.slice(0, 50),
    fallbacks,
  };
}

// ---------------------------------------------------------------------------------------------- main
async function main() {
  log(
    `WeightFormer.js gpu check: mode ${MODE}, node ${process.version}, ${summary.cpus} cpus (${summary.cpuModel}), budget ${BUDGET_S} s, steps ${STEPS.join(',')}`,
  );
  log(
    `out ${OUT}; fixtures ${(() => {
      try {
        return fixturesDir();
      } catch (e) {
        return firstLine(e);
      }
    })()}`,
  );
  writeSummary();
  const bodies: Record<StepName, (deadline: number) => Promise<Omit<StepResult, 'ms'>>> = {
    adapter: stepAdapter,
    parity: stepParity,
    'grad-parity': stepGradParity,
    timing: stepTiming,
    conformance: stepConformance,
  };
  for (const s of ALL_STEPS) if (STEPS.includes(s)) await runStep(s, bodies[s]);
  summary.finished = true;
  summary.ok = Object.values(summary.steps).every((s) => s?.status === 'pass');
  log(
    `=== summary: ${Object.entries(summary.steps)
      .map(([k, v]) => `${k}=${v?.status}`)
      .join(' ')} ===`,
  );
  if (summary.uncapturedGpuErrors.count)
    log(`uncaptured WebGPU errors logged: ${summary.uncapturedGpuErrors.count}`);
  writeSummary();
  try {
    cpuBackend?.dispose();
    if (gpuBackendP) (await gpuBackendP.catch(() => undefined))?.dispose();
  } catch {
    // exiting anyway
  }
  process.exit(summary.ok ? 0 : 1);
}

process.on('unhandledRejection', (e) => log(`unhandled rejection: ${firstLine(e)}`));
main().catch((e) => {
  log(`fatal: ${fullMsg(e)}`);
  (summary as Record<string, unknown>).fatal = fullMsg(e);
  writeSummary();
  process.exit(2);
});
