#!/usr/bin/env node
// Draws the MNIST test-accuracy curves of `wf train` runs next to the reference's
// (../shared/fixtures/mnist/train-summary.json): an SVG chart and a markdown table, for the
// "Training and fine-tuning" docs page.
//
//   node scripts/train-curves.mjs --run wfm-mnist=runs/wfm-mnist-50.jsonl --run vit-mnist=runs/vit-mnist-50.jsonl \
//     [--summary ../shared/fixtures/mnist/train-summary.json] [--out-dir docs/guide/training]
//
// A run log is `wf train --log`'s JSON lines: the per-epoch lines carry `test_accuracy`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: o } = parseArgs({
  options: {
    run: { type: 'string', multiple: true, default: [] },
    summary: { type: 'string', default: join(root, '../shared/fixtures/mnist/train-summary.json') },
    'out-dir': { type: 'string', default: join(root, 'docs/guide/training') },
  },
});

function fail(message) {
  console.error(`train-curves: ${message}`);
  process.exit(2);
}

/** Test accuracy per epoch of a `wf train --log` file (the last line of each epoch wins). */
function curveOf(file) {
  const acc = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    if (typeof r.test_accuracy === 'number') acc[r.epoch] = r.test_accuracy;
  }
  if (!acc.length) fail(`${file} has no per-epoch test_accuracy lines`);
  return acc;
}

const runs = o.run.map((spec) => {
  const m = /^([^=]+)=(.+)$/.exec(spec);
  if (!m) fail(`--run ${spec}: use NAME=LOG.jsonl`);
  return { name: m[1], acc: curveOf(m[2]) };
});
if (!runs.length) fail('give at least one --run NAME=LOG.jsonl');
const reference = Object.fromEntries(
  JSON.parse(readFileSync(o.summary, 'utf8')).map((r) => [r.name, r.hist]),
);

// --- SVG: accuracy (50-100%) against epoch, ours solid, the reference dashed
const [W, H, L, R, T, B] = [720, 400, 56, 170, 20, 44];
const epochs = Math.max(...runs.map((r) => r.acc.length), ...runs.map((r) => reference[r.name]?.length ?? 0));
const lo = 0.5;
const x = (e) => L + ((W - L - R) * e) / Math.max(1, epochs - 1);
const y = (a) => T + (H - T - B) * (1 - (Math.max(lo, a) - lo) / (1 - lo));
const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
const path = (acc) => acc.map((a, e) => `${e ? 'L' : 'M'}${x(e).toFixed(1)},${y(a).toFixed(1)}`).join(' ');
const parts = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12" role="img">`,
  '<title>MNIST test accuracy per epoch: WeightFormer.js runs (solid) against the PyTorch reference (dashed)</title>',
  `<rect width="${W}" height="${H}" fill="white"/>`,
];
for (let a = lo; a <= 1.0001; a += 0.1) {
  parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(a)}" y2="${y(a)}" stroke="#ddd"/>`);
  parts.push(`<text x="${L - 6}" y="${y(a) + 4}" text-anchor="end">${Math.round(a * 100)}%</text>`);
}
for (let e = 0; e < epochs; e += 10)
  parts.push(`<text x="${x(e)}" y="${H - B + 16}" text-anchor="middle">${e + 1}</text>`);
parts.push(`<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">epoch</text>`);
runs.forEach((r, i) => {
  const c = colours[i % colours.length];
  const ref = reference[r.name];
  if (ref)
    parts.push(
      `<path d="${path(ref)}" fill="none" stroke="${c}" stroke-width="1.5" stroke-dasharray="5,4"/>`,
    );
  parts.push(`<path d="${path(r.acc)}" fill="none" stroke="${c}" stroke-width="2"/>`);
  const ly = T + 16 + i * 36;
  parts.push(
    `<line x1="${W - R + 12}" x2="${W - R + 36}" y1="${ly}" y2="${ly}" stroke="${c}" stroke-width="2"/>`,
  );
  parts.push(`<text x="${W - R + 42}" y="${ly + 4}">${r.name} (JS)</text>`);
  if (ref) {
    parts.push(
      `<line x1="${W - R + 12}" x2="${W - R + 36}" y1="${ly + 16}" y2="${ly + 16}" stroke="${c}" stroke-width="1.5" stroke-dasharray="5,4"/>`,
    );
    parts.push(`<text x="${W - R + 42}" y="${ly + 20}">${r.name} (PyTorch)</text>`);
  }
});
parts.push('</svg>');

// --- markdown table: every fifth epoch and the last
const pct = (a) => (a === undefined ? '-' : `${(100 * a).toFixed(2)}%`);
const rows = [];
for (let e = 0; e < epochs; e++) {
  if (e !== 0 && (e + 1) % 5 !== 0 && e !== epochs - 1) continue;
  rows.push(
    `| ${e + 1} | ${runs.map((r) => `${pct(r.acc[e])} | ${pct(reference[r.name]?.[e])}`).join(' | ')} |`,
  );
}
const table = [
  `| epoch | ${runs.map((r) => `${r.name} (JS) | ${r.name} (PyTorch)`).join(' | ')} |`,
  `| ---: | ${runs.map(() => '---: | ---:').join(' | ')} |`,
  ...rows,
].join('\n');

mkdirSync(o['out-dir'], { recursive: true });
writeFileSync(join(o['out-dir'], 'mnist-curves.svg'), `${parts.join('\n')}\n`);
writeFileSync(join(o['out-dir'], 'mnist-curves.md'), `${table}\n`);
console.log(`train-curves: wrote mnist-curves.svg and mnist-curves.md to ${o['out-dir']}`);
