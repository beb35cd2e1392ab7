#!/usr/bin/env node
// Remakes the receptive-field figures with their trained row: trains every ablation variant of Figure 3
// that has no built-in checkpoint (Static, DynLinear GAP / Linear / Nonlinear / Deep, DynDWConv GAP /
// Amp-Dir / Conv) on the MNIST digits with the reference recipe compressed to --epochs (default 10), two
// runs at a time with one thread each, then runs `wf erf-figure` with those checkpoints (the built-in
// wfm-mnist and vit-mnist fill the Bilateral, Adaptive and ViT columns).
//
//   pnpm turbo run build --filter=@wf/cli...
//   node scripts/erf-variants.mjs [--epochs 10] [--jobs 2] [--dir runs/erf] [--out-dir docs/guide/erf]
//                                 [--force] [--train-only] [-- extra erf-figure options]
//
// Checkpoints land in --dir (not committed; a checkpoint that exists is reused unless --force), with a
// JSON log per run; the figures and the table land in --out-dir.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'packages/cli/dist/bin.js');
const split = process.argv.indexOf('--');
const { values: o } = parseArgs({
  args: process.argv.slice(2, split < 0 ? undefined : split),
  options: {
    epochs: { type: 'string', default: '10' },
    jobs: { type: 'string', default: '2' },
    dir: { type: 'string', default: join(root, 'runs/erf') },
    'out-dir': { type: 'string', default: join(root, 'docs/guide/erf') },
    force: { type: 'boolean', default: false },
    'train-only': { type: 'boolean', default: false },
  },
});
const figureExtra = split < 0 ? [] : process.argv.slice(split + 1);
const epochs = Number(o.epochs);
const jobs = Number(o.jobs);
if (!Number.isInteger(epochs) || epochs < 1) fail(`--epochs must be a positive integer, got ${o.epochs}`);
if (!Number.isInteger(jobs) || jobs < 1) fail(`--jobs must be a positive integer, got ${o.jobs}`);
if (!existsSync(bin)) fail(`${bin} is missing: run \`pnpm turbo run build --filter=@wf/cli...\` first`);

/** Column key of `wf erf-figure` -> the strategies of its WeightFormer. */
const VARIANTS = {
  static: ['static', 'static'],
  'linear-gap': ['gap', 'adaptive'],
  'linear-linear': ['linear', 'adaptive'],
  'linear-nonlinear': ['nonlinear', 'adaptive'],
  'linear-deep': ['deep', 'adaptive'],
  'dwconv-gap': ['bilateral', 'gap'],
  'dwconv-ampdir': ['bilateral', 'ampdir'],
  'dwconv-conv': ['bilateral', 'conv'],
};

function fail(message) {
  console.error(`erf-variants: ${message}`);
  process.exit(2);
}

/** Runs `node bin args`, its output prefixed with `tag`; resolves on exit 0. */
function run(tag, args) {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const relay = (stream, out) =>
      stream.on('data', (chunk) => {
        for (const line of String(chunk).split(/\r?\n|\r/)) if (line.trim()) out.write(`[${tag}] ${line}\n`);
      });
    relay(child.stdout, process.stdout);
    relay(child.stderr, process.stderr);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? done() : reject(new Error(`${tag} exited with ${code}`))));
  });
}

mkdirSync(o.dir, { recursive: true });
const checkpoints = Object.fromEntries(
  Object.keys(VARIANTS).map((k) => [k, join(o.dir, `${k}.safetensors`)]),
);
const todo = Object.entries(VARIANTS).filter(([k]) => o.force || !existsSync(checkpoints[k]));
const started = Date.now();
const queue = [...todo];
await Promise.all(
  Array.from({ length: Math.min(jobs, queue.length) }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [key, [dynLinear, dynDwconv]] = next;
      const t0 = Date.now();
      // the reference recipe (../shared/README.md), compressed to `epochs`
      await run(key, [
        'train',
        '--model',
        'wfm-mnist',
        '--dyn-linear',
        dynLinear,
        '--dyn-dwconv',
        dynDwconv,
        '--data',
        'mnist',
        '--epochs',
        String(epochs),
        '--batch',
        '128',
        '--lr',
        '2e-3',
        '--weight-decay',
        '0.05',
        '--decay-all',
        '--schedule',
        'onecycle',
        '--warmup',
        '0.1',
        '--label-smoothing',
        '0.1',
        '--drop-path',
        '0.05',
        '--seed',
        '0',
        '--threads',
        '1',
        '--output',
        checkpoints[key],
        '--log',
        join(o.dir, `${key}.jsonl`),
        '--json',
      ]);
      console.log(`[${key}] trained in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
  }),
);
console.log(
  `erf-variants: ${todo.length} variant(s) trained in ${((Date.now() - started) / 1000).toFixed(0)} s (${epochs} epochs each)`,
);
if (!o['train-only']) {
  const ck = Object.entries(checkpoints).flatMap(([k, f]) => ['--checkpoint', `${k}=${f}`]);
  await run('erf-figure', [
    'erf-figure',
    '--out-dir',
    o['out-dir'],
    '--images',
    'mnist:200',
    '--seed',
    '0',
    ...ck,
    ...figureExtra,
  ]);
}
