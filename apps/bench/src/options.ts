// Bench configuration: the quick and full plans (sizes, repetition policy, peer limits) and the filters
// of the command line (`--backend`, `--model`, `--tokens`).
import type { RepPolicy } from './interleave.js';
import type { ModelId } from './schema.js';
import { DEFAULT_SETTLE } from './settle.js';

/** Everything a mode fixes. */
export interface Plan {
  /** Token counts of the block workload (square grids). */
  blockTokens: number[];
  /** Image sides (px) of the full-model workload. */
  modelPx: number[];
  /** Repetition policy of every group. */
  policy: RepPolicy;
  /**
   * Largest token count per engine, by name or by family (`gpujs` for every mode): quick mode keeps the
   * slower engines to the small sizes. Engines with a cap also skip issue 6's extra runs in that mode.
   */
  engineMaxTokens: Partial<Record<string, number>>;
  /** Batch of the throughput rows (issue 6). */
  throughputBatch: number;
  /** Runs of the steady-state memory measurement (issue 6). */
  steadyRuns: number;
  /** Largest token count of the cost model's analytic curves. */
  analyticMaxTokens: number;
}

/**
 * The two modes. Quick is what CI runs, in about a minute on two cores: both blocks at 196..12544 tokens
 * (the range of issue 5's checks; attention at 12544 tokens alone is ~135 GFLOP a run) and the models at
 * 224 px for issue 6's ratio rows, one warm-up and few repetitions. The 896 px ratio row is in full mode
 * (or `--model models --tokens 196,3136`), DeiT-T at 896 px costing 127 GFLOP a run.
 */
export const PLANS: Record<'quick' | 'full', Plan> = {
  quick: {
    blockTokens: [196, 784, 3136, 12544],
    modelPx: [224],
    policy: { warmup: 1, warmupMs: 400, targetMs: 2500, minReps: 1, maxReps: 5, settle: DEFAULT_SETTLE },
    engineMaxTokens: {
      'ort-node': 3136,
      'ort-node-wf': 3136,
      'wf-ort': 3136,
      'ort-web': 784,
      'cpu:plain': 784,
      gpujs: 784,
    },
    throughputBatch: 8,
    steadyRuns: 10,
    analyticMaxTokens: 1 << 20,
  },
  full: {
    blockTokens: [196, 784, 3136, 12544, 50176, 200704],
    modelPx: [224, 448, 672, 896, 1120, 1344, 1792],
    policy: { warmup: 1, warmupMs: 1000, targetMs: 5000, minReps: 3, maxReps: 15, settle: DEFAULT_SETTLE },
    engineMaxTokens: {},
    throughputBatch: 8,
    steadyRuns: 100,
    analyticMaxTokens: 1 << 20,
  },
};

/** The token cap of an engine in a caps table: by its name, else by its family (the part before `:`). */
export function engineCap(caps: Partial<Record<string, number>>, name: string): number | undefined {
  return caps[name] ?? caps[name.split(':')[0]];
}

/** Every network, in report order. */
export const ALL_MODELS: ModelId[] = ['wfm-block', 'attn-block', 'wfm-tiny', 'deit-tiny'];

const MODEL_ALIASES: Record<string, ModelId[]> = {
  block: ['wfm-block', 'attn-block'],
  blocks: ['wfm-block', 'attn-block'],
  model: ['wfm-tiny', 'deit-tiny'],
  models: ['wfm-tiny', 'deit-tiny'],
  wfm: ['wfm-block', 'wfm-tiny'],
  attn: ['attn-block', 'deit-tiny'],
  'wfm-t': ['wfm-tiny'],
  'deit-t': ['deit-tiny'],
};

/** A mistake in the bench's options. */
export class OptionError extends Error {}

/** Resolves `--model` values (ids or the aliases blocks, models, wfm, attn) to network ids. */
export function parseModels(values: readonly string[] | undefined): ModelId[] {
  if (!values || values.length === 0) return [...ALL_MODELS];
  const out = new Set<ModelId>();
  for (const raw of values) {
    const v = raw.trim().toLowerCase();
    if ((ALL_MODELS as string[]).includes(v)) out.add(v as ModelId);
    else if (MODEL_ALIASES[v]) for (const m of MODEL_ALIASES[v]) out.add(m);
    else
      throw new OptionError(
        `unknown model "${raw}" (use ${ALL_MODELS.join(', ')}, blocks, models, wfm or attn)`,
      );
  }
  return ALL_MODELS.filter((m) => out.has(m));
}

/** Parses `--tokens` values: positive square integers (square token grids). */
export function parseTokens(values: readonly string[] | undefined): number[] | undefined {
  if (!values || values.length === 0) return undefined;
  const out = new Set<number>();
  for (const raw of values) {
    const n = Number(raw);
    const side = Math.round(Math.sqrt(n));
    if (!Number.isInteger(n) || n <= 0 || side * side !== n)
      throw new OptionError(`--tokens ${raw}: token counts must be square numbers (e.g. 196, 784, 3136)`);
    out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * An engine filter from `--backend` values: engine names (`cpu`, `gpujs:webgl2`, `ort-node`, `ort-web`),
 * `gpujs` (every mode), `ort` or `peers` (both peers), `ours` (every backend of ours). No values: all.
 */
export function engineFilter(values: readonly string[] | undefined): (name: string) => boolean {
  if (!values || values.length === 0) return () => true;
  const pats = values.map((v) => v.trim().toLowerCase());
  const known = [
    'cpu',
    'cpu:plain',
    'gpujs',
    'wf-ort',
    'ort',
    'ort-node',
    'ort-node-wf',
    'ort-web',
    'peers',
    'ours',
  ];
  for (const p of pats)
    if (!known.includes(p) && !p.startsWith('gpujs:'))
      throw new OptionError(
        `unknown backend "${p}" (use cpu, cpu:plain, gpujs[:mode], wf-ort, ort-node, ort-node-wf, ort-web, ort, peers, ours)`,
      );
  return (name) => {
    const n = name.toLowerCase();
    const peer = n.startsWith('ort-');
    return pats.some(
      (p) =>
        p === n ||
        (p === 'gpujs' && n.startsWith('gpujs')) ||
        ((p === 'ort' || p === 'peers') && peer) ||
        (p === 'ours' && !peer),
    );
  };
}

/** Whether `--backend` names an engine itself (not through a group such as `ours`). */
export function namedExplicitly(values: readonly string[] | undefined): (name: string) => boolean {
  const set = new Set((values ?? []).map((v) => v.trim().toLowerCase()));
  return (name) => set.has(name.toLowerCase());
}

/** Splits comma-separated option values: `['a,b', 'c']` -> `['a', 'b', 'c']`. */
export function splitList(values: readonly string[] | string | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const list = (Array.isArray(values) ? values : [values]).flatMap((v) => v.split(','));
  const out = list.map((v) => v.trim()).filter(Boolean);
  return out.length ? out : undefined;
}
