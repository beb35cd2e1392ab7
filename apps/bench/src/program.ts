// The command line of the bench (`pnpm bench [--quick] ...`): options, the run, the summary on stdout and
// the three output files. `main` is the testable entry; cli.ts calls it with process.argv.
import { resolve } from 'node:path';
import { tryEnableRelaxedSimd } from '@wf/backend-cpu';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { formatBackwardRow } from './backward.js';
import { type BenchConfig, runBench } from './bench.js';
import { isTargetRatio } from './derive.js';
import { fmtNum, fmtTokens } from './format.js';
import { engineFilter, OptionError, parseModels, parseTokens, splitList } from './options.js';
import { phaseLines, progressBar } from './progress.js';
import { describeCrossover } from './report-md.js';
import type { BenchResults } from './schema.js';
import { appDir } from './shared-dir.js';
import { writeOutputs } from './write-outputs.js';

/** Where `main` writes: stdout lines (summary) and stderr lines (notes, errors). */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

const defaultIo: Io = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

function int(name: string, min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** The default output folder: apps/bench/results. */
export function defaultOutDir(): string {
  return resolve(appDir(), 'results');
}

/** Resolves `--out` against the folder `pnpm bench` was started from (INIT_CWD), else the current one. */
export function resolveOutDir(out: string | undefined): string {
  if (!out) return defaultOutDir();
  const base =
    process.env.npm_lifecycle_event === 'bench' && process.env.INIT_CWD
      ? process.env.INIT_CWD
      : process.cwd();
  return resolve(base, out);
}

/** The lines printed on stdout after a run. */
export function summaryLines(r: BenchResults): string[] {
  const lines = [
    `WeightFormer.js bench (${r.mode}) on ${r.machine.label}, ${(r.durationMs / 1000).toFixed(1)} s`,
    `  engines: ${r.config.engineInfo.map((e) => (e.detail ? `${e.name} (${e.detail})` : e.name)).join(', ')}`,
  ];
  for (const f of r.fits.filter((x) => x.range === 'check' || x.workload === 'models'))
    lines.push(
      `  slope ${f.model.padEnd(10)} ${f.engine.padEnd(8)} ${fmtNum(f.slope, 3)} median, ${fmtNum(f.slopeMin, 3)} min, ` +
        `${fmtNum(f.slopeCpu, 3)} CPU (${f.range}, ${fmtTokens(f.fromTokens)}..${fmtTokens(f.toTokens)} tokens)`,
    );
  for (const c of r.crossovers)
    lines.push(
      `  crossover ${c.workload.padEnd(6)} ${c.engine.padEnd(10)} ${describeCrossover(c)} (median), ` +
        `${describeCrossover(c.min)} (min), ${describeCrossover(c.cpu)} (CPU)`,
    );
  for (const x of r.ratios.filter(isTargetRatio))
    lines.push(
      `  ${x.label}: ${x.ratio === null ? x.note : fmtNum(x.ratio, 3)}${x.target ? ` (target ${x.target.op} ${x.target.value})` : ''}`,
    );
  for (const b of r.backward ?? []) lines.push(formatBackwardRow(b));
  for (const s of r.steadyMemory)
    lines.push(
      `  steady memory ${s.engine} over ${s.runs} runs: ${s.steady ? 'no growth' : 'GROWS'} (heap ${fmtNum(s.growthBytesPerRun.heapUsed, 0)} B/run, external ${fmtNum(s.growthBytesPerRun.external, 0)} B/run)`,
    );
  for (const x of r.interference ?? [])
    lines.push(
      `  ${x.engine} WFM-T 224 px alone ${fmtNum(x.aloneMedianMs, 3)} ms, interleaved with ${x.with} ${fmtNum(x.interleavedMedianMs, 3)} ms (x${fmtNum(x.ratio, 3)})`,
    );
  for (const b of r.browser?.rows ?? [])
    lines.push(
      `  browser ${b.page.padEnd(8)} ${b.engine.padEnd(14)} ${fmtNum(b.medianMs, 3)} ms median (${b.detail}; max err ${b.maxAbsErr.toExponential(1)})`,
    );
  for (const x of r.browser?.ratios ?? [])
    lines.push(
      `  ${x.label}: ${fmtNum(x.ratio, 3)}${x.target ? ` (target ${x.target.op} ${x.target.value})` : ''}`,
    );
  for (const c of r.checks) {
    const on = c.stat === 'cpu' ? 'CPU time' : `${c.stat} latency`;
    const value = c.name.includes('crossover')
      ? c.value === null
        ? c.note.split(';')[0].split(', ').slice(1).join(', ')
        : fmtTokens(c.value)
      : fmtNum(c.value, 3);
    const verdict = c.note.startsWith('not measured')
      ? c.note // e.g. a run without the block workloads: nothing to judge (--check still fails)
      : `${c.pass ? 'pass' : 'FAIL'} (${value} on ${on})`;
    lines.push(`  check ${c.engine}: ${c.name} ${c.op} ${c.limit}: ${verdict}`);
  }
  return lines;
}

/** Builds the command. Its action runs the bench and resolves to the exit code through `done`. */
export function buildProgram(io: Io, done: (code: number) => void): Command {
  return new Command('bench')
    .description(
      'Complexity curves of WeightFormer against softmax attention, on every backend and against ONNX Runtime',
    )
    .option(
      '--quick',
      'the CI mode: few sizes and repetitions (under a minute on two cores with the fast CPU path)',
    )
    .option(
      '--backend <names>',
      'engines: cpu, cpu:plain, gpujs[:mode], wf-ort, ort-node, ort-node-wf, ort-web, ort/peers, ours (repeat or comma-separate)',
      collect,
    )
    .option(
      '--model <names>',
      'networks: wfm-block, attn-block, wfm-tiny, deit-tiny, blocks, models, wfm, attn',
      collect,
    )
    .option(
      '--tokens <counts>',
      'token counts of both workloads (square numbers; models at 16*sqrt(N) px)',
      collect,
    )
    .option('--out <dir>', 'output folder for results.json, results.md and index.html', undefined)
    .option(
      '--threads <n>',
      "threads of our backends and of the peers (default: the cpu backend's own)",
      int('--threads'),
    )
    .option('--reps <n>', 'fixed timed repetitions per row (default: by time budget)', int('--reps'))
    .option(
      '--warmup <n>',
      'warm-up runs per row, exactly (default: one, then more until they add up to 400 ms quick, 1 s full)',
      int('--warmup', 0),
    )
    .option(
      '--shared <dir>',
      'the shared data folder (default: WF_SHARED or ../shared beside the repository)',
    )
    .option('--no-extras', "skip issue 6's batch throughput and steady-memory runs")
    .option(
      '--backward',
      'also time forward + backward against forward on the cpu backend (WFM-T, DeiT-T at 224 px; WFM-MNIST batch 128); on by default in full mode',
    )
    .option(
      '--backward-runs <n>',
      'interleaved forward / forward+backward pairs per backward row (default 3 quick, 9 full)',
      int('--backward-runs'),
    )
    .option(
      '--no-settle',
      "time each run right after the previous one (default: wait until the last engine's threads are idle)",
    )
    .option('--no-progress', 'no progress bar')
    .option(
      '--no-relaxed-simd',
      "keep Node 20's default of WebAssembly relaxed SIMD off (on by default from Node 22 / Chrome 114)",
    )
    .option(
      '--browser',
      'also run WFM-T (224 px) in headless Chromium: ours and onnxruntime-web, isolated and ordinary page',
    )
    .option(
      '--browser-rounds <n>',
      'with --browser: rounds over both pages (default 3 quick, 10 full)',
      int('--browser-rounds'),
    )
    .option(
      '--browser-block <n>',
      'with --browser: consecutive runs of an engine per round (default 2 quick, 3 full)',
      int('--browser-block'),
    )
    .option('--no-node', 'skip the Node measurements (with --browser: the browser bench alone)')
    .option('--check', "exit 1 unless issue 5's checks pass on the cpu backend")
    .addOption(
      new Option('--check-stat <stat>', 'times the checks read: min or median latency, or cpu time')
        .choices(['min', 'median', 'cpu'])
        .default('min'),
    )
    .option('--verbose', 'show notes and stack traces')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .action(async (o) => {
      const tokens = parseTokens(splitList(o.tokens));
      const models = splitList(o.model);
      const engines = splitList(o.backend);
      parseModels(models);
      engineFilter(engines);
      // Before any backend exists: the gemm module is generated for what the runtime validates. The cpu
      // engine's name in the results says which one ran (`wasm-simd-relaxed` or `wasm-simd`).
      if (o.relaxedSimd) tryEnableRelaxedSimd();
      const bar = o.progress && process.stderr.isTTY ? progressBar() : phaseLines(io.err);
      const config: BenchConfig = {
        mode: o.quick ? 'quick' : 'full',
        engines,
        models,
        tokens,
        threads: o.threads,
        sharedDir: o.shared,
        extras: o.extras,
        backward: o.backward,
        ...(o.backwardRuns !== undefined ? { backwardRuns: o.backwardRuns } : {}),
        checkStat: o.checkStat,
        policy: {
          ...(o.reps !== undefined ? { reps: o.reps } : {}),
          ...(o.warmup !== undefined ? { warmup: o.warmup, warmupMs: 0 } : {}),
          ...(o.settle === false ? { settle: null } : {}),
        },
        browser:
          o.browser === true && (o.browserRounds !== undefined || o.browserBlock !== undefined)
            ? {
                ...(o.browserRounds !== undefined ? { rounds: o.browserRounds } : {}),
                ...(o.browserBlock !== undefined ? { block: o.browserBlock } : {}),
              }
            : o.browser === true,
        node: o.node,
        log: o.verbose ? (l) => io.err(`  ${l}`) : undefined,
        progress: o.progress ? bar : undefined,
      };
      let results: BenchResults;
      try {
        results = await runBench(config);
      } finally {
        bar.stop();
      }
      const files = writeOutputs(results, resolveOutDir(o.out));
      for (const l of summaryLines(results)) io.out(l);
      io.out(`  wrote ${files.json}, ${files.markdown}, ${files.html}`);
      const failing = results.checks.filter((c) => c.engine === 'cpu' && !c.pass);
      if (o.check && (failing.length > 0 || !results.checks.some((c) => c.engine === 'cpu'))) {
        io.err(`bench: ${failing.length || 'all'} check(s) failed on the cpu backend`);
        done(1);
      } else done(0);
    });
}

/** Runs the bench command line; resolves to the exit code (1 for failed checks, 2 for usage errors). */
export async function main(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  let code = 0;
  const verbose = argv.includes('--verbose');
  try {
    await buildProgram(io, (c) => {
      code = c;
    }).parseAsync([...argv]);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof OptionError) {
      io.err(`bench: ${e.message}`);
      return 2;
    }
    io.err(
      verbose && e instanceof Error && e.stack ? e.stack : `bench: ${(e as Error).message ?? String(e)}`,
    );
    return 1;
  }
}
