// Reduces the bench's results.json (apps/bench, schema `wf-bench/1`) to what the Benchmarks page draws:
// latency-vs-tokens series per workload, the cost model's FLOPs curves, slopes, crossovers, ratios,
// checks and the machine. Tolerant of missing sections; never invents a number.

/** One point of a series. */
export interface SeriesPoint {
  /** Tokens per image. */
  x: number;
  /** Median milliseconds (or FLOPs for cost-model curves). */
  y: number;
  /** Fastest and slowest run, when measured. */
  lo?: number;
  hi?: number;
}

/** A curve of one network on one engine. */
export interface Series {
  /** Legend text, e.g. `wfm-block · cpu`. */
  label: string;
  /** `wfm` (WeightFormer) or `attn` (softmax attention). */
  family: string;
  engine: string;
  points: SeriesPoint[];
}

/** Everything the page shows for one workload. */
export interface WorkloadSummary {
  id: string;
  title: string;
  latency: Series[];
  flops: Series[];
}

/** A row of a small table. */
export type TableRow = Record<string, string>;

/** The page's data. */
export type BenchSummary =
  | { status: 'missing'; path: string }
  | { status: 'invalid'; path: string; problems: string[] }
  | {
      status: 'ok';
      path: string;
      createdAt: string;
      mode: string;
      durationMs: number | null;
      machine: string;
      threads: number | null;
      workloads: WorkloadSummary[];
      fits: TableRow[];
      crossovers: TableRow[];
      ratios: TableRow[];
      checks: TableRow[];
      skipped: TableRow[];
      /** `pnpm bench --browser`: WFM-T in headless Chromium, isolated and ordinary page. */
      browser: TableRow[];
      browserRatios: TableRow[];
    };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const fmt = (v: unknown, digits = 3): string => {
  const n = num(v);
  return n === undefined ? '–' : Number(n.toPrecision(digits)).toLocaleString('en-US');
};

/** Summarizes a parsed results file. */
export function summarizeBench(raw: unknown, path: string): BenchSummary {
  if (!isObj(raw)) return { status: 'invalid', path, problems: ['not a JSON object'] };
  const problems: string[] = [];
  if (typeof raw.schema !== 'string' || !raw.schema.startsWith('wf-bench/'))
    problems.push(`schema: expected wf-bench/*, got ${str(raw.schema) || 'nothing'}`);
  if (!Array.isArray(raw.rows)) problems.push('rows: missing');
  if (!isObj(raw.machine)) problems.push('machine: missing');
  if (problems.length) return { status: 'invalid', path, problems };

  const machine = raw.machine as Obj;
  const rows = arr(raw.rows);
  const workloadInfo = arr(raw.workloads);
  const workloadIds = [
    ...new Set([...workloadInfo.map((w) => str(w.id)), ...rows.map((r) => str(r.workload))]),
  ];
  const workloads: WorkloadSummary[] = workloadIds.filter(Boolean).map((id) => {
    const info = workloadInfo.find((w) => str(w.id) === id);
    const groups = new Map<string, Series>();
    for (const r of rows) {
      if (str(r.workload) !== id || (r.purpose !== undefined && r.purpose !== 'sweep')) continue;
      if (r.batch !== undefined && r.batch !== 1) continue;
      const x = num(r.tokens);
      const y = num(r.medianMs);
      if (x === undefined || y === undefined) continue;
      const key = `${str(r.model)} · ${str(r.engine)}`;
      let s = groups.get(key);
      if (!s) {
        s = { label: key, family: str(r.family), engine: str(r.engine), points: [] };
        groups.set(key, s);
      }
      s.points.push({ x, y, lo: num(r.minMs), hi: num(r.maxMs) });
    }
    for (const s of groups.values()) s.points.sort((a, b) => a.x - b.x);
    const flops: Series[] = arr(raw.analytic)
      .filter((a) => str(a.workload) === id)
      .map((a) => ({
        label: `${str(a.model)} · cost model`,
        family: str(a.model).startsWith('wfm') ? 'wfm' : 'attn',
        engine: 'cost-model',
        points: arr(a.points)
          .map((p) => ({ x: num(p.tokens) ?? 0, y: num(p.flops) ?? 0 }))
          .filter((p) => p.x > 0 && p.y > 0),
      }));
    return { id, title: str(info?.title) || id, latency: [...groups.values()], flops };
  });

  return {
    status: 'ok',
    path,
    createdAt: str(raw.createdAt),
    mode: str(raw.mode),
    durationMs: num(raw.durationMs) ?? null,
    machine:
      str(machine.label) ||
      [machine.cpu, machine.cores && `${machine.cores} cores`, machine.node].filter(Boolean).join(', '),
    threads: num(isObj(raw.config) ? raw.config.threads : undefined) ?? null,
    workloads,
    fits: arr(raw.fits)
      .filter((f) => f.range === undefined || f.range === 'all')
      .map((f) => ({
        workload: str(f.workload),
        model: str(f.model),
        engine: str(f.engine),
        slope: fmt(f.slope),
        'R²': fmt(f.r2),
        tokens: `${str(f.fromTokens)}–${str(f.toTokens)}`,
      })),
    crossovers: arr(raw.crossovers).map((c) => ({
      workload: str(c.workload),
      engine: str(c.engine),
      status: str(c.status),
      tokens: c.tokens === null || c.tokens === undefined ? '–' : fmt(c.tokens, 4),
    })),
    ratios: arr(raw.ratios).map((r) => ({
      ratio: str(r.label) || str(r.id),
      value: fmt(r.ratio),
      target: isObj(r.target) ? `${str(r.target.op)} ${str(r.target.value)}` : '–',
      met: r.met === null || r.met === undefined ? '–' : r.met ? 'yes' : 'no',
      note: str(r.note),
    })),
    checks: arr(raw.checks).map((c) => ({
      check: str(c.name),
      engine: str(c.engine),
      value: fmt(c.value),
      limit: `${str(c.op)} ${str(c.limit)}`,
      pass: c.pass ? 'pass' : 'FAIL',
    })),
    skipped: arr(raw.skipped).map((s) => ({ what: str(s.what), reason: str(s.reason) })),
    browser: arr(isObj(raw.browser) ? raw.browser.rows : undefined).map((r) => ({
      page: str(r.page) === 'plain' ? 'ordinary (no COOP/COEP)' : 'cross-origin isolated',
      engine: str(r.engine),
      'what runs': str(r.detail),
      threads: str(r.threads),
      'median ms': fmt(r.medianMs),
      'max abs err': num(r.maxAbsErr) === undefined ? '–' : (r.maxAbsErr as number).toExponential(1),
    })),
    browserRatios: arr(isObj(raw.browser) ? raw.browser.ratios : undefined).map((r) => ({
      ratio: str(r.label),
      value: fmt(r.ratio),
      target: isObj(r.target) ? `${str(r.target.op)} ${str(r.target.value)}` : '–',
      met: r.met === null || r.met === undefined ? '–' : r.met ? 'yes' : 'no',
    })),
  };
}
