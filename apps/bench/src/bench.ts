// The benchmark run: finds the engines (our backends, ONNX Runtime peers), groups the measurements so
// that whatever is compared is interleaved in one group (within a memory budget), times them, adds issue
// 6's throughput and steady-memory measurements, the cost model's curves and the PyTorch anchors, and
// derives slopes, crossovers, ratios and checks. Returns the results object (see schema.ts).
import { availableParallelism, freemem, totalmem } from 'node:os';
import { createCpuBackend } from '@wf/backend-cpu';
import { type Graph, graphCost, lowerGraph, planMemory } from '@wf/core';
import { analyticCurve } from './analytic.js';
import { loadAnchors } from './anchors.js';
import { type BackwardRow, measureBackward } from './backward.js';
import { type BrowserBenchOptions, type BrowserResults, runBrowserBench } from './browser/run-browser.js';
import { deriveChecks, deriveCrossovers, deriveFits, deriveRatios, deriveThroughput } from './derive.js';
import { ortNodeExportEngine } from './engines/ort-export.js';
import { ortNodeEngine } from './engines/ort-node.js';
import { ortWebEngine } from './engines/ort-web.js';
import { oursEngines } from './engines/ours.js';
import type { Engine, Runner } from './engines/types.js';
import { type InterferenceRow, measureInterference } from './interference.js';
import type { RepPolicy } from './interleave.js';
import { machineInfo } from './machine.js';
import { getGc, growthPerStep, RssSampler, snapshot } from './memory.js';
import {
  engineCap,
  engineFilter,
  namedExplicitly,
  OptionError,
  PLANS,
  type Plan,
  parseModels,
} from './options.js';
import { checkPeerOutputs } from './peer-outputs.js';
import { type GroupProgress, type GroupTask, rowId, runGroup, type TaskKey } from './run-group.js';
import {
  type BenchResults,
  type CheckStat,
  type MemorySample,
  type ModelId,
  type Row,
  SCHEMA_ID,
  type SkipRow,
  type SteadyMemory,
  type WorkloadId,
  type WorkloadInfo,
} from './schema.js';
import { findSharedDir } from './shared-dir.js';
import { median, summarize } from './stats.js';
import { buildGraph, MODELS, modelsOf, PATCH, pxOfTokens, tokensOfPx, WORKLOAD_TITLES } from './workloads.js';

/** Progress of a whole run (a progress bar, or nothing). */
export interface BenchProgress extends GroupProgress {
  /** A new phase starts. */
  phase(label: string): void;
}

/** Options of `runBench`. Unset fields take the mode's plan (options.ts). */
export interface BenchConfig {
  mode: 'quick' | 'full';
  /** `--backend` values (engine names or groups); default every engine available. */
  engines?: string[];
  /** `--model` values; default all four networks. */
  models?: string[];
  /** `--tokens`: the token counts of both workloads (models run at px = 16 * sqrt(tokens)). */
  tokens?: number[];
  /** Overrides the plan's block token counts / model image sides. */
  blockTokens?: number[];
  modelPx?: number[];
  /** Thread count for our backends and the peers; default: the cpu backend's own, peers the same. */
  threads?: number;
  /** The shared folder; default `WF_SHARED` or `../shared` beside the repository. */
  sharedDir?: string;
  /** Overrides of the repetition policy. */
  policy?: Partial<RepPolicy>;
  /** Overrides of the engines' largest token counts (see `Plan.engineMaxTokens`). */
  engineMaxTokens?: Partial<Record<string, number>>;
  /** Issue 6's throughput and steady-memory measurements (default true). */
  extras?: boolean;
  throughputBatch?: number;
  steadyRuns?: number;
  analyticMaxTokens?: number;
  /** Largest estimated memory of one interleaved group (default 60% of RAM, at most 80% of free RAM). */
  memoryBudgetBytes?: number;
  /** The times issue 5's checks read (default `min` latency; see `deriveChecks`). */
  checkStat?: CheckStat;
  /**
   * Issue 11's forward+backward rows on the cpu backend (WFM-T and DeiT-T at 224 px, WFM-MNIST at batch
   * 128); default: full mode only.
   */
  backward?: boolean;
  /** Interleaved forward / forward+backward pairs per backward row (default 3 quick, 9 full). */
  backwardRuns?: number;
  /** Sample peak RSS on a worker thread (default true). */
  sampleRss?: boolean;
  /** Notes and phases (default: nothing). */
  log?: (line: string) => void;
  progress?: BenchProgress;
  /** The Node measurements (default true); false with `browser` runs the browser bench alone. */
  node?: boolean;
  /** `--browser`: also run WFM-T in headless Chromium (see browser/run-browser.ts). */
  browser?: boolean | Omit<BrowserBenchOptions, 'quick' | 'sharedDir'>;
}

interface Point {
  workload: WorkloadId;
  model: ModelId;
  tokens: number;
  batch: number;
  purpose: 'sweep' | 'throughput';
}

const GIB = 2 ** 30;

/** Bytes a network needs at a size: planned intermediates of the fully lowered graph plus constants and input. */
export function estimateBytes(graph: Graph): number {
  const plan = planMemory(lowerGraph(graph), { zeroCopyViews: true });
  let other = 0;
  for (const n of graph.nodes) {
    if (n.op === 'const' || n.op === 'input') other += n.type.shape.reduce((a, b) => a * b, 1) * 4;
  }
  return plan.peakBytes + other;
}

/**
 * Splits the tasks into interleaving groups: one per token count (every network, batch and engine at that
 * size alternate run by run, so the ratios at a size share the machine's state), split per engine when a
 * size's estimated memory exceeds the budget. One group per size keeps the process-wide memory figures of
 * a row about its own size.
 */
export function groupTasks<T extends { point: { tokens: number }; engine: unknown; bytes: number }>(
  tasks: readonly T[],
  budget: number,
): T[][] {
  const sum = (ts: T[]) => ts.reduce((a, t) => a + t.bytes, 0);
  const groups: T[][] = [];
  for (const tokens of [...new Set(tasks.map((t) => t.point.tokens))]) {
    const at = tasks.filter((t) => t.point.tokens === tokens);
    if (sum(at) <= budget) groups.push(at);
    else for (const e of [...new Set(at.map((t) => t.engine))]) groups.push(at.filter((t) => t.engine === e));
  }
  return groups;
}

/** Runs the benchmark and returns its results. */
export async function runBench(config: BenchConfig): Promise<BenchResults> {
  const started = performance.now();
  const log = config.log ?? (() => {});
  const phases: { name: string; ms: number }[] = [];
  let phaseName = 'setup';
  let phaseStart = performance.now();
  const progress: BenchProgress | undefined = config.progress;
  /** Closes the current phase (for the timing table) and tells the progress display. */
  const phase = (name: string, label = name) => {
    const now = performance.now();
    if (phaseName !== name) {
      phases.push({ name: phaseName, ms: now - phaseStart });
      phaseName = name;
      phaseStart = now;
    }
    progress?.phase(label);
  };
  const base: Plan = PLANS[config.mode];
  const policy: RepPolicy = { ...base.policy, ...config.policy };
  const models = parseModels(config.models);
  // Quick mode (CI, about a minute) measures the cpu backend and the peers unless --backend names others;
  // the gpu.js modes (software GL and WASM here) are full-mode rows or asked for by name.
  const quickDefault = config.mode === 'quick' ? ['cpu', 'cpu:plain', 'wf-ort', 'peers'] : undefined;
  const filter = engineFilter(config.engines?.length ? config.engines : quickDefault);
  const include = config.node === false ? () => false : filter;
  const sharedDir = findSharedDir(config.sharedDir);
  const skipped: SkipRow[] = [];
  const skip = (what: string, reason: string) => {
    skipped.push({ what, reason });
    log(`skip ${what}: ${reason}`);
  };
  const blockTokens = config.tokens ?? config.blockTokens ?? base.blockTokens;
  const modelTokens = config.tokens ?? (config.modelPx ?? base.modelPx).map((px) => tokensOfPx(px));
  for (const px of config.modelPx ?? [])
    if (px % PATCH) throw new OptionError(`image side ${px} is not a multiple of 16`);
  const caps = { ...base.engineMaxTokens, ...config.engineMaxTokens };
  const budget =
    config.memoryBudgetBytes ?? Math.min(0.6 * totalmem(), Math.max(0.8 * freemem(), 0.3 * totalmem()));
  const machine = machineInfo();
  const gc = getGc();

  // Engines: ours first, then the peers with our thread count.
  phase('engines');
  const explicit = namedExplicitly(config.engines);
  const engines: Engine[] = await oursEngines({ threads: config.threads, include, explicit, skip, log });
  const threads =
    config.threads ?? engines.find((e) => e.name.startsWith('cpu'))?.threads ?? availableParallelism();
  if (!sharedDir && (include('ort-node') || include('ort-web')))
    skip('peers', 'the shared folder (../shared, or WF_SHARED) was not found');
  for (const [name, make] of [
    ['ort-node', ortNodeEngine],
    ['ort-web', ortWebEngine],
  ] as const) {
    if (!include(name) || !sharedDir) continue;
    try {
      engines.push(await make(sharedDir, threads));
    } catch (e) {
      skip(name, `cannot load: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  // onnxruntime-node on our own exports, right after the peer on PyTorch's (same settings).
  if (include('ort-node-wf')) {
    try {
      engines.push(await ortNodeExportEngine(threads));
    } catch (e) {
      skip('ort-node-wf', `cannot load: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const ours = engines.filter((e) => e.kind === 'ours').map((e) => e.name);

  // The peers must compute what the exports compute: their outputs on the stored input against the stored
  // ONNX Runtime outputs (throws on a mismatch).
  phase('peer outputs');
  await checkPeerOutputs(engines, sharedDir, log);

  // One-time costs (module compilation, thread pools, JIT) belong to no row: run both blocks at 196 tokens
  // on every engine before anything is timed, so the first row's warm-up does not set its repetitions.
  phase('engine warm-up');
  for (const engine of engines) {
    for (const model of ['wfm-block', 'attn-block'] as const) {
      if (engine.unsupported(model, 196, 1)) continue;
      try {
        const graph = buildGraph(model, 196, 1);
        const runner = await engine.prepare({ model, tokens: 196, batch: 1, graph: () => graph });
        await runner.run();
        await runner.run();
        await runner.dispose();
      } catch {
        // The rows of this engine report their own failures.
      }
    }
  }
  log(
    `engines: ${engines.map((e) => `${e.name}${e.threads ? ` (${e.threads} threads)` : ''}`).join(', ') || 'none'}`,
  );

  const sampler = config.sampleRss === false ? null : new RssSampler();
  const rows: Row[] = [];
  let group = 0;
  const graphs = new Map<string, Graph>();
  const graphOf = (p: Point) => {
    const key = `${p.model}/${p.tokens}/${p.batch}`;
    let g = graphs.get(key);
    if (!g) {
      g = buildGraph(p.model, p.tokens, p.batch);
      graphs.set(key, g);
    }
    return g;
  };

  /** Whether issue 6's extra runs (ours only) include an engine: not the ones this mode caps. */
  const extrasOn = (e: Engine) => e.kind === 'ours' && engineCap(caps, e.name) === undefined;

  /** Prepares, groups and times a list of points on every engine that supports them. */
  const measure = async (points: Point[], label: string) => {
    const candidates: { point: Point; engine: Engine; bytes: number; flops: number }[] = [];
    for (const point of points) {
      let bytes: number;
      let flops: number;
      try {
        const g = graphOf(point);
        bytes = estimateBytes(g);
        flops = graphCost(g).flops;
      } catch (e) {
        skip(`${point.model} N=${point.tokens}`, (e as Error).message.split('\n')[0]);
        continue;
      }
      for (const engine of engines) {
        const what = `${point.purpose} ${point.model} ${engine.name} N=${point.tokens} b${point.batch}`;
        const cap = engineCap(caps, engine.name);
        if (point.purpose !== 'sweep' && !extrasOn(engine)) continue;
        const why = engine.unsupported(point.model, point.tokens, point.batch);
        if (why) {
          if (engine.kind === 'ours' || !why.startsWith('no ONNX export')) skip(what, why);
        } else if (cap !== undefined && point.tokens > cap) {
          skip(what, `${config.mode} mode runs ${engine.name} up to ${cap} tokens`);
        } else if (bytes > budget) {
          skip(
            what,
            `needs about ${(bytes / GIB).toFixed(1)} GiB, over the ${(budget / GIB).toFixed(1)} GiB budget`,
          );
        } else candidates.push({ point, engine, bytes, flops });
      }
    }
    const order = (c: (typeof candidates)[number]) => [
      c.point.tokens,
      c.point.batch,
      modelsOf(c.point.workload).indexOf(c.point.model),
      engines.indexOf(c.engine),
    ];
    candidates.sort((a, b) => {
      const x = order(a);
      const y = order(b);
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
      return 0;
    });
    for (const members of groupTasks(candidates, budget)) {
      phase(label, `${label}: preparing ${members.length} runs`);
      const tasks: GroupTask[] = [];
      for (const m of members) {
        const p = m.point;
        const key: TaskKey = {
          purpose: p.purpose,
          workload: p.workload,
          model: p.model,
          family: MODELS[p.model].family,
          engine: m.engine.name,
          kind: m.engine.kind,
          tokens: p.tokens,
          px: p.workload === 'models' ? pxOfTokens(p.tokens) : null,
          batch: p.batch,
          threads: m.engine.threads,
        };
        try {
          const before = process.memoryUsage.rss();
          const runner = await m.engine.prepare({ ...p, graph: () => graphOf(p) });
          const prepareRssBytes = Math.max(0, process.memoryUsage.rss() - before);
          tasks.push({ key, runner, flops: m.flops, prepareRssBytes });
        } catch (e) {
          skip(rowId(key), `prepare failed: ${(e as Error).message.split('\n')[0]}`);
        }
      }
      phase(label);
      const res = await runGroup(tasks, policy, group++, sampler, progress);
      rows.push(...res.rows);
      for (const f of res.failures) skip(rowId(f.key), `run failed: ${f.error}`);
      for (const t of tasks) await t.runner.dispose();
    }
    graphs.clear();
  };

  const workloads: WorkloadInfo[] = [];
  for (const workload of ['blocks', 'models'] as WorkloadId[]) {
    const ms = modelsOf(workload).filter((m) => models.includes(m));
    if (ms.length === 0) continue;
    const tokens = [...new Set(workload === 'blocks' ? blockTokens : modelTokens)].sort((a, b) => a - b);
    workloads.push({ id: workload, title: WORKLOAD_TITLES[workload], models: ms, tokens });
    const points = tokens.flatMap((n) =>
      ms.map((model) => ({ workload, model, tokens: n, batch: 1, purpose: 'sweep' as const })),
    );
    await measure(points, workload);
  }

  // Issue 6: batched throughput and steady-state memory of WFM-T at 224 px on the backends of ours that
  // this mode does not cap (quick: cpu only).
  const steadyMemory: SteadyMemory[] = [];
  const extras = config.extras !== false && models.includes('wfm-tiny') && modelTokens.includes(196);
  if (extras) {
    const batch = config.throughputBatch ?? base.throughputBatch;
    await measure(
      [1, batch].map((b) => ({
        workload: 'models',
        model: 'wfm-tiny',
        tokens: 196,
        batch: b,
        purpose: 'throughput',
      })),
      'throughput',
    );
    const runs = config.steadyRuns ?? base.steadyRuns;
    for (const engine of engines.filter(extrasOn)) {
      phase('steady memory', `steady memory ${engine.name}`);
      try {
        const s = await steadyMemoryRun(engine, runs, gc, progress);
        steadyMemory.push(s.summary);
        rows.push({ ...s.row, group: group++ });
      } catch (e) {
        skip(`steady memory ${engine.name}`, (e as Error).message.split('\n')[0]);
      }
    }
  } else if (config.extras !== false) {
    skip('issue 6 extras', 'they need wfm-tiny at 224 px (196 tokens) in the sweep');
  }
  // Issue 11: forward + backward against forward alone, on the cpu backend.
  const backward: BackwardRow[] = [];
  if ((config.backward ?? config.mode === 'full') && include('cpu')) {
    phase('backward', 'forward + backward');
    const be = createCpuBackend(config.threads === undefined ? {} : { threads: config.threads });
    try {
      await (be as unknown as { ready?: Promise<void> }).ready;
      backward.push(
        ...(await measureBackward(be, 'cpu', config.backwardRuns ?? (config.mode === 'full' ? 9 : 3), (w) =>
          progress?.tick(w),
        )),
      );
    } catch (e) {
      skip('forward + backward', (e as Error).message.split('\n')[0]);
    } finally {
      be.dispose();
    }
  }

  // Issue 15: each engine alone and interleaved with the others (WFM-T 224 px), when peers ran.
  let interference: InterferenceRow[] = [];
  const withPeers = engines.filter(
    (e) =>
      !e.unsupported('wfm-tiny', 196, 1) && (engineCap(caps, e.name) ?? 196) >= 196 && e.name !== 'cpu:plain',
  );
  if (extras && withPeers.some((e) => e.kind === 'peer') && withPeers.some((e) => e.kind === 'ours')) {
    phase('interference', 'alone vs interleaved (WFM-T 224 px)');
    const graph = graphOf({ workload: 'models', model: 'wfm-tiny', tokens: 196, batch: 1, purpose: 'sweep' });
    const prepared: { name: string; runner: Runner }[] = [];
    try {
      for (const e of withPeers)
        prepared.push({
          name: e.name,
          runner: await e.prepare({ model: 'wfm-tiny', tokens: 196, batch: 1, graph: () => graph }),
        });
      interference = await measureInterference(prepared, config.mode === 'quick' ? 3 : 8);
    } catch (e) {
      skip('interference', (e as Error).message.split('\n')[0]);
    } finally {
      for (const p of prepared) await p.runner.dispose();
    }
  }
  await sampler?.close();
  for (const e of engines) await e.close();

  phase('cost model');
  const maxTokens = config.analyticMaxTokens ?? base.analyticMaxTokens;
  const analytic = models.map((m) => analyticCurve(m, maxTokens));
  const anchors = loadAnchors(sharedDir).filter((a) => models.includes(a.model));
  if (!sharedDir) skip('anchors', 'the shared folder was not found');

  phase('derive');
  const fits = deriveFits(rows);
  const crossovers = deriveCrossovers(rows, analytic);
  // Checks apply to the cpu backend always, and to another engine only where it ran over the check range
  // (quick mode caps the slow engines below it by design).
  const checked = ours.filter((e) => e === 'cpu' || fits.some((f) => f.engine === e && f.range === 'check'));
  const checks = checked.flatMap((e) => deriveChecks(fits, crossovers, e, config.checkStat));
  let browser: BrowserResults | undefined;
  if (config.browser) {
    phase('browser', 'browser: WFM-T in headless Chromium');
    if (!sharedDir) throw new OptionError('--browser needs the shared folder (../shared, or WF_SHARED)');
    browser = await runBrowserBench({
      ...(typeof config.browser === 'object' ? config.browser : {}),
      ...(config.threads ? { threads: config.threads } : {}),
      quick: config.mode === 'quick',
      sharedDir,
      log,
    });
  }
  phase('done');
  return {
    schema: SCHEMA_ID,
    createdAt: new Date().toISOString(),
    mode: config.mode,
    durationMs: performance.now() - started,
    machine,
    config: {
      threads,
      engines: engines.map((e) => e.name),
      engineInfo: engines.map((e) => ({
        name: e.name,
        kind: e.kind,
        threads: e.threads,
        detail: e.detail ?? '',
      })),
      models,
      blockTokens: workloads.find((w) => w.id === 'blocks')?.tokens ?? [],
      modelPx: (workloads.find((w) => w.id === 'models')?.tokens ?? []).map((n) => pxOfTokens(n) ?? 0),
      policy,
      memoryBudgetBytes: budget,
      gcExposed: gc !== null,
      sharedDir,
    },
    workloads,
    rows,
    fits,
    crossovers,
    analytic,
    ratios: deriveRatios(rows, ours),
    throughput: deriveThroughput(rows),
    steadyMemory,
    backward,
    anchors,
    checks,
    skipped,
    phases,
    ...(interference.length ? { interference } : {}),
    ...(browser ? { browser } : {}),
  };
}

/** Runs WFM-T at 224 px `runs` times on one engine, sampling memory after each run (after a GC). */
async function steadyMemoryRun(
  engine: Engine,
  runs: number,
  gc: (() => void) | null,
  progress?: GroupProgress,
): Promise<{ summary: SteadyMemory; row: Omit<Row, 'group'> }> {
  const tokens = 196;
  const graph = buildGraph('wfm-tiny', tokens, 1);
  const flops = graphCost(graph).flops;
  const runner = await engine.prepare({ model: 'wfm-tiny', tokens, batch: 1, graph: () => graph });
  progress?.plan(runs + 1);
  const warm = performance.now();
  await runner.run();
  const warmMs = performance.now() - warm;
  progress?.tick(`steady memory ${engine.name} warm-up`);
  const samples: MemorySample[] = [];
  const ms: number[] = [];
  const cpuMs: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await runner.run();
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuMs.push((c.user + c.system) / 1000);
    gc?.();
    const s = snapshot();
    samples.push({ run, ...s });
    progress?.tick(`steady memory ${engine.name}`);
  }
  await runner.dispose();
  const half = samples.slice(Math.floor(samples.length / 2));
  const g = (f: (s: MemorySample) => number) => growthPerStep(half.map(f));
  const growth = {
    rss: g((s) => s.rssBytes),
    heapUsed: g((s) => s.heapUsedBytes),
    arrayBuffers: g((s) => s.arrayBuffersBytes),
    external: g((s) => s.externalBytes),
  };
  const total = growth.heapUsed + growth.external;
  const mean = half.reduce((a, s) => a + s.heapUsedBytes + s.externalBytes, 0) / Math.max(1, half.length);
  const allowed = Math.max(64 * 1024, 0.005 * mean);
  const stats = summarize(ms);
  const peak = samples.reduce(
    (m, s) => ({
      rssBytes: Math.max(m.rssBytes, s.rssBytes),
      heapUsedBytes: Math.max(m.heapUsedBytes, s.heapUsedBytes),
      arrayBuffersBytes: Math.max(m.arrayBuffersBytes, s.arrayBuffersBytes),
      externalBytes: Math.max(m.externalBytes, s.externalBytes),
    }),
    { rssBytes: 0, heapUsedBytes: 0, arrayBuffersBytes: 0, externalBytes: 0 },
  );
  const key: TaskKey = {
    purpose: 'steady',
    workload: 'models',
    model: 'wfm-tiny',
    family: 'wfm',
    engine: engine.name,
    kind: engine.kind,
    tokens,
    px: 224,
    batch: 1,
    threads: engine.threads,
  };
  return {
    summary: {
      engine: engine.name,
      model: 'wfm-tiny',
      px: 224,
      batch: 1,
      runs,
      gcForced: gc !== null,
      samples,
      growthBytesPerRun: growth,
      steady: total * runs < allowed,
      criterion: `growth of heapUsed + external over the second half, times ${runs} runs, < ${(allowed / 1024).toFixed(0)} KiB`,
    },
    row: {
      id: rowId(key),
      ...key,
      warmupMs: [warmMs],
      samplesMs: ms,
      cpuSamplesMs: cpuMs,
      cpuMedianMs: median(cpuMs),
      ...stats,
      flops,
      gflopsPerSecond: flops / (stats.medianMs * 1e6),
      memory: {
        rssPeakBytes: null,
        ...peak,
        planPeakBytes: runner.planPeakBytes,
        prepareRssBytes: null,
        runRssBytes: null,
      },
    },
  };
}
