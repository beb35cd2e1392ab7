// The results file (`results.json`): its TypeScript types and a validator. README.md documents every
// field; `SCHEMA_ID` changes whenever a field changes meaning or is removed.
import type { BackwardRow } from './backward.js';
import type { BrowserResults } from './browser/run-browser.js';
import type { Crossover } from './crossover.js';
import type { InterferenceRow } from './interference.js';
import type { RepPolicy } from './interleave.js';

/** Identifier and version of the results format. */
export const SCHEMA_ID = 'wf-bench/1';

/** A workload: a pair of networks compared against each other over a sweep of token counts. */
export type WorkloadId = 'blocks' | 'models';
/** One network of a workload. */
export type ModelId = 'wfm-block' | 'attn-block' | 'wfm-tiny' | 'deit-tiny';
/** WeightFormer, or the softmax-attention baseline. */
export type Family = 'wfm' | 'attn';
/** Our own backend, or a peer runtime (ONNX Runtime). */
export type EngineKind = 'ours' | 'peer';
/** What a row was measured for: the token sweep, the batch throughput rows, or the steady-memory run. */
export type Purpose = 'sweep' | 'throughput' | 'steady';

/** The machine the absolute times belong to. */
export interface MachineInfo {
  /** CPU model from `os.cpus()`. */
  cpu: string;
  /** Logical cores (`os.availableParallelism()`). */
  cores: number;
  /** Node version (`process.version`). */
  node: string;
  /** V8 version. */
  v8: string;
  platform: string;
  arch: string;
  totalMemBytes: number;
  /** One line naming all of the above, printed next to every absolute time. */
  label: string;
}

/** Memory of a row. Process-wide figures include everything alive in the process (other rows of its group). */
export interface MemoryStats {
  /** Peak resident set size sampled (every few ms, from a worker thread) during the row's timed runs. */
  rssPeakBytes: number | null;
  /** Largest RSS seen right after one of the row's runs. */
  rssBytes: number;
  /** Largest V8 heap use after one of the row's runs. */
  heapUsedBytes: number;
  /** Largest `process.memoryUsage().arrayBuffers` after one of the row's runs. */
  arrayBuffersBytes: number;
  /** Largest `process.memoryUsage().external` after one of the row's runs (includes arrayBuffers). */
  externalBytes: number;
  /** Our backends: bytes of the compiled graph's planned intermediates (`plan.peakBytes`); else null. */
  planPeakBytes: number | null;
  /** RSS growth while this row was prepared (compile, or session creation): its resident footprint. */
  prepareRssBytes: number | null;
  /** Largest RSS growth within one timed run (sampled peak minus RSS before it): transient memory. */
  runRssBytes: number | null;
}

/** One measured point: a network on an engine at one size and batch. */
export interface Row {
  /** `${purpose}/${model}/${engine}/N${tokens}/b${batch}`, unique in a results file. */
  id: string;
  purpose: Purpose;
  workload: WorkloadId;
  model: ModelId;
  family: Family;
  /** `cpu`, `gpujs:<mode>`, `ort-node`, `ort-web`. */
  engine: string;
  kind: EngineKind;
  /** Tokens per image (N). */
  tokens: number;
  /** Image side in pixels (models), else null. */
  px: number | null;
  batch: number;
  /** Threads the engine ran with, where known. */
  threads: number | null;
  /** Index of the interleaving group the row was timed in; rows of one group alternate run by run. */
  group: number;
  /** Warm-up run times (ms), not in the statistics. */
  warmupMs: number[];
  /** Timed runs (ms) in the order they ran. */
  samplesMs: number[];
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /**
   * Process CPU time (user + system, all threads) of each timed run, and its median. Unlike wall time it
   * does not count waiting for a core, so it stays meaningful when other processes load the machine.
   */
  cpuSamplesMs: number[];
  cpuMedianMs: number;
  /**
   * Time waited before each timed run for the process to go idle (`policy.settle`), ms; absent when the
   * runs followed each other directly (`--no-settle`, or files of older runs).
   */
  settleMs?: number[];
  /** FLOPs of one forward pass from the cost model (`graphCost`), identical for every engine. */
  flops: number;
  /** `flops / medianMs`, in GFLOP/s. */
  gflopsPerSecond: number;
  memory: MemoryStats;
}

/**
 * Log-log least-squares slope of latency against tokens for one network on one engine: of the median
 * latencies (`slope`), of the best-of-N latencies (`slopeMin`, robust to interference from other
 * processes, which only ever adds time) and of the median CPU times (`slopeCpu`, the work done).
 */
export interface FitRow {
  workload: WorkloadId;
  model: ModelId;
  engine: string;
  /** `all`: every measured size; `check`: 784..12544 tokens, the range issue 5's CI check reads. */
  range: 'all' | 'check';
  slope: number;
  intercept: number;
  r2: number;
  /** The same fit of the min latencies. */
  slopeMin: number;
  r2Min: number;
  /** The same fit of the median CPU times. */
  slopeCpu: number;
  points: number;
  fromTokens: number;
  toTokens: number;
}

/** Where WeightFormer becomes faster than attention, per workload and engine (or the cost model). */
export interface CrossoverRow extends Crossover {
  workload: WorkloadId;
  /** The engine, or `cost-model` for the analytic FLOPs curves. */
  engine: string;
  /** The same crossover on the min latencies (the FLOPs themselves for the cost model). */
  min: Crossover;
  /** The same crossover on the median CPU times (the FLOPs themselves for the cost model). */
  cpu: Crossover;
}

/** One point of the cost model's curve. */
export interface AnalyticPoint {
  tokens: number;
  px: number | null;
  flops: number;
  bytes: number;
}

/** The cost model's FLOPs against tokens for one network (batch 1), up to about a million tokens. */
export interface AnalyticCurve {
  workload: WorkloadId;
  model: ModelId;
  points: AnalyticPoint[];
  /** Log-log slope of FLOPs over the whole curve. */
  slope: number | null;
}

/** A ratio computed inside this run, e.g. our time over ONNX Runtime Web's. */
export interface RatioRow {
  /** Stable identifier, e.g. `cpu/wfm-tiny-224/ort-web`. */
  id: string;
  label: string;
  engine: string;
  /** Row ids of the numerator and denominator (null when not measured). */
  numerator: string | null;
  denominator: string | null;
  /** numerator / denominator of the median latencies, or null when either side is missing. */
  ratio: number | null;
  /** The goal an issue sets for the ratio, if any. */
  target: { op: '<=' | '>='; value: number; source: string } | null;
  /** Whether the target is met (null without a target or a ratio). */
  met: boolean | null;
  /** Why the ratio is missing, or what it means. */
  note: string;
}

/** Images per second at a batch, against batch 1 in the same interleaved group. */
export interface ThroughputRow {
  engine: string;
  model: ModelId;
  px: number;
  batch: number;
  /** Row ids of the batched and the batch-1 rows. */
  row: string;
  batch1Row: string;
  imagesPerSecond: number;
  batch1ImagesPerSecond: number;
  /** imagesPerSecond / batch1ImagesPerSecond. */
  speedup: number;
}

/** One sample of the steady-state memory run (after a forced GC when available). */
export interface MemorySample {
  run: number;
  rssBytes: number;
  heapUsedBytes: number;
  arrayBuffersBytes: number;
  externalBytes: number;
}

export type { BackwardRow };

/** Memory over many runs of one compiled model: it must not grow. */
export interface SteadyMemory {
  engine: string;
  model: ModelId;
  px: number;
  batch: number;
  runs: number;
  /** Whether a GC was forced before each sample (`--expose-gc` or the v8 flag). */
  gcForced: boolean;
  /** Every sample (first run excluded from the fit). */
  samples: MemorySample[];
  /** Least-squares growth per run over the second half of the runs, in bytes. */
  growthBytesPerRun: { rss: number; heapUsed: number; arrayBuffers: number; external: number };
  /** heapUsed + external grew less than `max(64 KiB, 0.5%)` over the whole run (extrapolated). */
  steady: boolean;
  criterion: string;
}

/** A curve of the PyTorch reference, from another machine: drawn for its shape only. */
export interface AnchorSeries {
  label: string;
  note: string;
  source: string;
  device: string;
  threads: number | null;
  workload: WorkloadId;
  model: ModelId;
  points: { tokens: number; ms: number }[];
}

/** The times a check reads. */
export type CheckStat = 'min' | 'median' | 'cpu';

/** A structural check of issue 5 (slopes, crossover) on one engine. */
export interface CheckRow {
  name: string;
  engine: string;
  /** Which times the check reads: best-of-N latency (`min`, the default), `median` latency, or `cpu` time. */
  stat: CheckStat;
  value: number | null;
  op: '<=' | '>=' | '<';
  limit: number;
  pass: boolean;
  note: string;
}

/** Something the run left out, and why. */
export interface SkipRow {
  what: string;
  reason: string;
}

/** A workload as run: its networks and sizes. */
export interface WorkloadInfo {
  id: WorkloadId;
  title: string;
  models: ModelId[];
  tokens: number[];
}

/** The whole results file. */
export interface BenchResults {
  schema: typeof SCHEMA_ID;
  createdAt: string;
  mode: 'quick' | 'full';
  durationMs: number;
  machine: MachineInfo;
  config: {
    threads: number;
    engines: string[];
    /** Each engine's kind, thread count and what runs underneath (e.g. `fast, wasm-simd x2`). */
    engineInfo: { name: string; kind: EngineKind; threads: number | null; detail: string }[];
    models: ModelId[];
    blockTokens: number[];
    modelPx: number[];
    policy: RepPolicy;
    memoryBudgetBytes: number;
    gcExposed: boolean;
    sharedDir: string | null;
  };
  workloads: WorkloadInfo[];
  rows: Row[];
  fits: FitRow[];
  crossovers: CrossoverRow[];
  analytic: AnalyticCurve[];
  ratios: RatioRow[];
  throughput: ThroughputRow[];
  steadyMemory: SteadyMemory[];
  /** Issue 11: forward + backward vs forward on the cpu backend (absent in files of older runs). */
  backward?: BackwardRow[];
  anchors: AnchorSeries[];
  checks: CheckRow[];
  skipped: SkipRow[];
  /** Wall time of each phase of the run. */
  phases: { name: string; ms: number }[];
  /** Each engine's WFM-T 224 px median alone and interleaved with the others (issue 15), when peers ran. */
  interference?: InterferenceRow[];
  /** `--browser`: WFM-T in headless Chromium on an isolated and an ordinary page (issue 15). */
  browser?: BrowserResults;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * Checks that `value` is a well-formed results file; returns the problems found (empty when valid).
 * It checks the structure and internal consistency, not the figures themselves.
 */
export function validateResults(value: unknown): string[] {
  const errs: string[] = [];
  if (!isObj(value)) return ['results: not an object'];
  const r = value;
  if (r.schema !== SCHEMA_ID) errs.push(`schema: expected ${SCHEMA_ID}, got ${String(r.schema)}`);
  if (r.mode !== 'quick' && r.mode !== 'full') errs.push('mode: must be quick or full');
  if (typeof r.createdAt !== 'string' || Number.isNaN(Date.parse(r.createdAt)))
    errs.push('createdAt: bad date');
  if (!isNum(r.durationMs)) errs.push('durationMs: not a number');
  const m = r.machine;
  if (!isObj(m) || typeof m.cpu !== 'string' || !isNum(m.cores) || typeof m.node !== 'string')
    errs.push('machine: needs cpu, cores and node');
  const arrays = [
    'workloads',
    'rows',
    'fits',
    'crossovers',
    'analytic',
    'ratios',
    'throughput',
    'steadyMemory',
    'anchors',
    'checks',
    'skipped',
    'phases',
  ];
  for (const k of arrays) if (!Array.isArray(r[k])) errs.push(`${k}: not an array`);
  if (errs.length) return errs;
  const ids = new Set<string>();
  (r.rows as unknown[]).forEach((row, i) => {
    const where = `rows[${i}]`;
    if (!isObj(row)) {
      errs.push(`${where}: not an object`);
      return;
    }
    if (typeof row.id !== 'string') errs.push(`${where}.id: not a string`);
    else if (ids.has(row.id)) errs.push(`${where}.id: duplicate ${row.id}`);
    else ids.add(row.id);
    for (const k of ['tokens', 'batch', 'runs', 'medianMs', 'minMs', 'maxMs', 'flops', 'gflopsPerSecond'])
      if (!isNum(row[k])) errs.push(`${where}.${k}: not a finite number`);
    if (!Array.isArray(row.samplesMs) || row.samplesMs.length !== row.runs)
      errs.push(`${where}.samplesMs: length differs from runs`);
    if (!Array.isArray(row.cpuSamplesMs) || row.cpuSamplesMs.length !== row.runs || !isNum(row.cpuMedianMs))
      errs.push(`${where}.cpuSamplesMs: length differs from runs`);
    if (row.settleMs !== undefined && (!Array.isArray(row.settleMs) || row.settleMs.length !== row.runs))
      errs.push(`${where}.settleMs: length differs from runs`);
    if (isNum(row.minMs) && isNum(row.medianMs) && isNum(row.maxMs)) {
      if (!(row.minMs <= row.medianMs && row.medianMs <= row.maxMs))
        errs.push(`${where}: min <= median <= max`);
    }
    if (row.kind !== 'ours' && row.kind !== 'peer') errs.push(`${where}.kind: ours or peer`);
    if (row.family !== 'wfm' && row.family !== 'attn') errs.push(`${where}.family: wfm or attn`);
    if (!isObj(row.memory) || !isNum(row.memory.rssBytes) || !isNum(row.memory.arrayBuffersBytes))
      errs.push(`${where}.memory: needs rssBytes and arrayBuffersBytes`);
  });
  (r.fits as unknown[]).forEach((f, i) => {
    if (
      !isObj(f) ||
      !isNum(f.slope) ||
      !isNum(f.slopeMin) ||
      !isNum(f.slopeCpu) ||
      !isNum(f.points) ||
      (f.range !== 'all' && f.range !== 'check')
    )
      errs.push(`fits[${i}]: needs slope, slopeMin, points and range`);
  });
  (r.crossovers as unknown[]).forEach((c, i) => {
    const ok =
      isObj(c) &&
      ['interpolated', 'below-range', 'above-range', 'insufficient'].includes(String(c.status)) &&
      (c.status === 'interpolated' ? isNum(c.tokens) : c.tokens === null) &&
      isObj(c.min) &&
      isObj(c.cpu);
    if (!ok) errs.push(`crossovers[${i}]: bad status/tokens`);
  });
  (r.ratios as unknown[]).forEach((x, i) => {
    if (!isObj(x) || typeof x.id !== 'string') {
      errs.push(`ratios[${i}]: needs an id`);
      return;
    }
    if (x.ratio !== null && !isNum(x.ratio)) errs.push(`ratios[${i}].ratio: number or null`);
    for (const k of ['numerator', 'denominator'] as const) {
      const ref = x[k];
      if (ref !== null && (typeof ref !== 'string' || !ids.has(ref)))
        errs.push(`ratios[${i}].${k}: unknown row ${String(ref)}`);
    }
  });
  (r.analytic as unknown[]).forEach((a, i) => {
    if (!isObj(a) || !Array.isArray(a.points) || a.points.some((p) => !isObj(p) || !isNum(p.flops)))
      errs.push(`analytic[${i}]: needs points with flops`);
  });
  (r.checks as unknown[]).forEach((c, i) => {
    if (!isObj(c) || typeof c.pass !== 'boolean' || typeof c.name !== 'string')
      errs.push(`checks[${i}]: needs name and pass`);
  });
  if (r.browser !== undefined) {
    const b = r.browser;
    if (!isObj(b) || !Array.isArray(b.rows) || !Array.isArray(b.pages) || !Array.isArray(b.ratios))
      errs.push('browser: needs pages, rows and ratios');
    else
      (b.rows as unknown[]).forEach((row, i) => {
        const ok =
          isObj(row) &&
          (row.page === 'isolated' || row.page === 'plain') &&
          typeof row.engine === 'string' &&
          isNum(row.medianMs) &&
          Array.isArray(row.samplesMs) &&
          row.samplesMs.length === row.runs;
        if (!ok) errs.push(`browser.rows[${i}]: needs page, engine, medianMs and runs samples`);
      });
  }
  return errs;
}
