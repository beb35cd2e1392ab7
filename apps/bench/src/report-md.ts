// results.md: the results as markdown tables (checks, slopes, crossovers, issue 6's ratio rows, every
// measured row, the cost model's curve, the anchors and what was skipped).

import type { Crossover } from './crossover.js';
import { isTargetRatio } from './derive.js';
import { fmtGflop, fmtMiB, fmtMs, fmtNum, fmtTokens } from './format.js';
import type { BenchResults } from './schema.js';
import { median } from './stats.js';

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A crossover in words: `≈ 820 tokens`, `< 196 tokens`, `> 12,544 tokens`. */
export function describeCrossover(c: Crossover): string {
  if (c.status === 'interpolated') return `≈ ${fmtTokens(c.tokens)} tokens`;
  if (c.status === 'below-range') return `< ${fmtTokens(c.fromTokens)} tokens (faster at every size)`;
  if (c.status === 'above-range') return `> ${fmtTokens(c.toTokens)} tokens (not faster in range)`;
  return '—';
}

/** The engines with what runs underneath and their threads: `cpu (fast, wasm-simd x2; 2 threads), ...`. */
export function engineLine(r: BenchResults): string {
  return r.config.engineInfo
    .map(
      (e) => `${e.name} (${[e.detail, e.threads ? `${e.threads} threads` : ''].filter(Boolean).join('; ')})`,
    )
    .join(', ');
}

/**
 * How the timed runs were started: after the process went idle (`policy.settle`, with the median wait), or
 * right after each other.
 */
export function settleSentence(r: BenchResults): string {
  const s = r.config.policy.settle;
  if (!s) return 'Each timed run started right after the previous one.';
  const waits = r.rows.flatMap((row) => row.settleMs ?? []);
  const wait = waits.length ? `; median wait ${fmtMs(median(waits))} ms` : '';
  return (
    `Each timed run started once the process had gone idle (at most ${s.idleCores} cores busy over ${s.sliceMs} ms, ` +
    `waiting at most ${s.maxMs} ms${wait}), so no run pays for work the previous engine's threads left running; ` +
    'the alone / interleaved table measures that work.'
  );
}

/** Renders the results as markdown. */
export function renderMarkdown(r: BenchResults): string {
  const out: string[] = [];
  out.push(`# WeightFormer.js bench (${r.mode} mode)`, '');
  out.push(
    `Machine: **${r.machine.label}**. Absolute times belong to this machine; every ratio was measured in this run,`,
    'with the compared workloads interleaved run by run.',
    '',
    `Run ${r.createdAt}, ${(r.durationMs / 1000).toFixed(1)} s; engines ${engineLine(r)}; ` +
      `policy: ${r.config.policy.warmup} warm-up, ${r.config.policy.minReps}..${r.config.policy.maxReps} reps ` +
      `(~${r.config.policy.targetMs} ms per row). ${settleSentence(r)}`,
    '',
  );
  if (r.checks.length) {
    out.push('## Checks (issue 5)', '');
    out.push(
      table(
        ['check', 'engine', 'on', 'value', 'limit', 'pass', 'how'],
        r.checks.map((c) => [
          c.name,
          c.engine,
          c.stat === 'cpu' ? 'CPU time' : `${c.stat} latency`,
          c.name.includes('crossover') ? fmtTokens(c.value) : fmtNum(c.value, 3),
          `${c.op} ${c.limit}`,
          c.pass ? 'yes' : '**no**',
          c.note,
        ]),
      ),
      '',
    );
  }
  out.push('## Slopes of latency against tokens (log-log least squares)', '');
  out.push(
    table(
      [
        'network',
        'engine',
        'range',
        'tokens',
        'points',
        'slope (median)',
        'r²',
        'slope (min)',
        'r² (min)',
        'slope (CPU)',
      ],
      r.fits.map((f) => [
        f.model,
        f.engine,
        f.range,
        `${fmtTokens(f.fromTokens)}..${fmtTokens(f.toTokens)}`,
        String(f.points),
        fmtNum(f.slope, 3),
        fmtNum(f.r2, 3),
        fmtNum(f.slopeMin, 3),
        fmtNum(f.r2Min, 3),
        fmtNum(f.slopeCpu, 3),
      ]),
    ),
    '',
  );
  out.push('## Crossover: where WeightFormer becomes faster than attention', '');
  out.push(
    table(
      ['workload', 'engine', 'crossover (median)', 'crossover (min)', 'crossover (CPU)', 'measured range'],
      r.crossovers.map((c) => [
        c.workload,
        c.engine,
        describeCrossover(c),
        describeCrossover(c.min),
        describeCrossover(c.cpu),
        `${fmtTokens(c.fromTokens)}..${fmtTokens(c.toTokens)}`,
      ]),
    ),
    '',
  );
  const targetRows = r.ratios.filter(isTargetRatio);
  out.push('## Ratio rows with targets (issues 6, 14, 15)', '');
  out.push(
    table(
      ['ratio', 'value', 'target', 'met', 'note'],
      targetRows.map((x) => [
        x.label,
        fmtNum(x.ratio, 3),
        x.target ? `${x.target.op} ${x.target.value}` : '—',
        x.met === null ? '—' : x.met ? 'yes' : '**no**',
        x.note,
      ]),
    ),
    '',
  );
  if (r.throughput.length) {
    out.push(
      table(
        ['engine', 'network', 'px', 'batch', 'images/s', 'batch-1 images/s', 'speedup'],
        r.throughput.map((t) => [
          t.engine,
          t.model,
          String(t.px),
          String(t.batch),
          fmtNum(t.imagesPerSecond, 1),
          fmtNum(t.batch1ImagesPerSecond, 1),
          fmtNum(t.speedup, 2),
        ]),
      ),
      '',
    );
  }
  if (r.steadyMemory.length) {
    out.push(
      table(
        [
          'engine',
          'network',
          'runs',
          'heapUsed B/run',
          'external B/run',
          'arrayBuffers B/run',
          'RSS B/run',
          'steady',
        ],
        r.steadyMemory.map((s) => [
          s.engine,
          `${s.model} ${s.px} px`,
          String(s.runs),
          fmtNum(s.growthBytesPerRun.heapUsed, 0),
          fmtNum(s.growthBytesPerRun.external, 0),
          fmtNum(s.growthBytesPerRun.arrayBuffers, 0),
          fmtNum(s.growthBytesPerRun.rss, 0),
          s.steady ? 'yes' : '**no**',
        ]),
      ),
      '',
      `Steady means: ${r.steadyMemory[0].criterion}${r.steadyMemory[0].gcForced ? ' (GC forced before each sample)' : ''}.`,
      '',
    );
  }
  if (r.backward?.length) {
    out.push(
      '## Forward + backward (issue 11)',
      '',
      table(
        [
          'engine',
          'network',
          'forward ms',
          'forward + backward ms',
          'ratio',
          'FLOP ratio',
          'forward peak MiB',
          'backward peak MiB',
          'memory ratio',
        ],
        r.backward.map((b) => [
          b.engine,
          `${b.model} ${b.px} px b${b.batch}`,
          fmtNum(b.forwardMs, 1),
          fmtNum(b.backwardMs, 1),
          fmtNum(b.timeRatio, 2),
          b.flopRatio === undefined ? '—' : fmtNum(b.flopRatio, 2),
          fmtNum(b.forwardPeakBytes / 2 ** 20, 1),
          fmtNum(b.backwardPeakBytes / 2 ** 20, 1),
          fmtNum(b.memoryRatio, 2),
        ]),
      ),
      '',
      "Medians of interleaved runs (forward, then forward + backward, alternately). Peak memory: the compiled graph's planned intermediates at their peak plus its inputs and weights. Backward: the gradient of sum(output * cotangent) w.r.t. the input and every trainable parameter. FLOP ratio: the gradient graph's FLOPs over the forward's (cost model), the time ratio of a backward pass as efficient per FLOP as the forward.",
      '',
    );
  }
  for (const w of r.workloads) {
    out.push(`## ${w.title}`, '');
    const rows = r.rows.filter((x) => x.workload === w.id);
    out.push(
      table(
        [
          'network',
          'engine',
          'what',
          'tokens',
          'px',
          'batch',
          'median ms',
          'min ms',
          'max ms',
          'runs',
          'CPU ms',
          'GFLOP',
          'GFLOP/s',
          'RSS peak MiB',
          'prepare ΔRSS MiB',
          'run ΔRSS MiB',
          'ArrayBuffers MiB',
          'external MiB',
          'plan MiB',
        ],
        rows.map((x) => [
          x.model,
          x.engine,
          x.purpose,
          fmtTokens(x.tokens),
          x.px === null ? '—' : String(x.px),
          String(x.batch),
          fmtMs(x.medianMs),
          fmtMs(x.minMs),
          fmtMs(x.maxMs),
          String(x.runs),
          fmtMs(x.cpuMedianMs),
          fmtGflop(x.flops),
          fmtNum(x.gflopsPerSecond, 2),
          fmtMiB(x.memory.rssPeakBytes),
          fmtMiB(x.memory.prepareRssBytes),
          fmtMiB(x.memory.runRssBytes),
          fmtMiB(x.memory.arrayBuffersBytes),
          fmtMiB(x.memory.externalBytes),
          fmtMiB(x.memory.planPeakBytes),
        ]),
      ),
      '',
    );
    const ratios = r.ratios.filter((x) => !isTargetRatio(x) && x.id.includes(`/${w.id}/`));
    if (ratios.length) {
      out.push(
        table(
          ['ratio', 'value'],
          ratios.map((x) => [x.label, fmtNum(x.ratio, 2)]),
        ),
        '',
      );
    }
  }
  const peerRatios = r.ratios.filter((x) => x.id.includes('/over-'));
  if (peerRatios.length) {
    out.push('## Ours against the peers (time ratio, < 1: ours faster)', '');
    out.push(
      table(
        ['ratio', 'value'],
        peerRatios.map((x) => [x.label, fmtNum(x.ratio, 2)]),
      ),
      '',
    );
  }
  if (r.interference?.length) {
    out.push(
      '## Alone and interleaved (WFM-T 224 px, batch 1)',
      '',
      'Each engine in blocks of runs with nothing else between them, and interleaved run by run with one other engine; ' +
        'a ratio above 1 means that other engine slows it down.',
      '',
      table(
        ['engine', 'interleaved with', 'alone (median)', 'interleaved (median)', 'interleaved / alone'],
        r.interference.map((x) => [
          x.engine,
          x.with,
          fmtMs(x.aloneMedianMs),
          fmtMs(x.interleavedMedianMs),
          fmtNum(x.ratio, 3),
        ]),
      ),
      '',
    );
  }
  if (r.browser) {
    const b = r.browser;
    out.push(
      `## In the browser: WFM-T ${b.px} px, batch ${b.batch} (${b.browser}, headless)`,
      '',
      `Isolated page: COOP/COEP headers (SharedArrayBuffer, threads); ordinary page: no headers. ${b.rounds} rounds, ` +
        `each running every engine ${b.block} times in a row, pages alternating; errors against the float64 PyTorch fixture.`,
      '',
      table(
        ['page', 'engine', 'threads', 'what runs', 'median', 'min', 'runs', 'max abs err', 'top-1'],
        b.rows.map((x) => [
          x.page,
          x.engine,
          String(x.threads),
          x.detail,
          fmtMs(x.medianMs),
          fmtMs(x.minMs),
          String(x.runs),
          x.maxAbsErr.toExponential(1),
          x.top1 ? 'yes' : 'NO',
        ]),
      ),
      '',
    );
    if (b.ratios.length)
      out.push(
        table(
          ['ratio (< 1: ours faster)', 'value', 'target'],
          b.ratios.map((x) => [
            x.label,
            fmtNum(x.ratio, 3),
            x.target ? `${x.target.op} ${x.target.value}: ${x.met ? 'met' : 'not met'}` : '',
          ]),
        ),
        '',
      );
    if (b.skipped.length)
      out.push(
        table(
          ['page', 'engine', 'skipped because'],
          b.skipped.map((x) => [x.page, x.engine, x.reason]),
        ),
        '',
      );
  }
  if (r.analytic.length) {
    out.push('## Cost model: GFLOP of one forward pass (batch 1)', '');
    const tokens = [...new Set(r.analytic.flatMap((a) => a.points.map((p) => p.tokens)))].sort(
      (a, b) => a - b,
    );
    out.push(
      table(
        ['tokens', ...r.analytic.map((a) => a.model)],
        tokens.map((n) => [
          fmtTokens(n),
          ...r.analytic.map((a) => {
            const p = a.points.find((q) => q.tokens === n);
            return p ? fmtGflop(p.flops) : '—';
          }),
        ]),
      ),
      '',
      `FLOP slopes (log-log over the curve): ${r.analytic.map((a) => `${a.model} ${fmtNum(a.slope, 3)}`).join(', ')}.`,
      '',
    );
  }
  if (r.anchors.length) {
    out.push('## PyTorch reference (another machine: shape only)', '');
    out.push(
      table(
        ['series', 'points (tokens: ms)'],
        r.anchors.map((a) => [
          a.label,
          a.points.map((p) => `${fmtTokens(p.tokens)}: ${fmtMs(p.ms)}`).join(', '),
        ]),
      ),
      '',
    );
  }
  out.push(
    "Memory: RSS peak is process-wide, sampled every 5 ms during the row's timed runs (rows of one size share the",
    'process); prepare ΔRSS is the growth while compiling the graph or creating the session, run ΔRSS the largest',
    'growth within one run; ArrayBuffers/external are `process.memoryUsage()` after a run; plan is the compiled',
    "graph's planned intermediates.",
    '',
  );
  if (r.phases.length) {
    out.push('## Phases', '');
    out.push(
      table(
        ['phase', 'seconds'],
        r.phases.map((p) => [p.name, (p.ms / 1000).toFixed(1)]),
      ),
      '',
    );
  }
  if (r.skipped.length) {
    out.push('## Skipped', '');
    out.push(
      table(
        ['what', 'why'],
        r.skipped.map((s) => [s.what, s.reason]),
      ),
      '',
    );
  }
  return `${out.join('\n')}\n`;
}
