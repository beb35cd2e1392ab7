// Bytes a cpu backend holds for WFM-T (fixture weights) compiled at several resolutions: the weights' own
// size, the backend's allocated storage after each compile, and how much of it is weights (allocated minus
// the compiled graphs' intermediate arenas and input/output tensors). With parameters shared per backend,
// the weights are held once whatever the number of compiled shapes.
//   node scripts/weight-bytes.mjs [--root DIR] [--sizes 160,192,224] [--json]
// Run from apps/bench after building (pnpm turbo run build --filter=@wf/bench...); needs ../shared.
// `--root` loads @wf/models and @wf/backend-cpu from another checkout's built packages (an A/B run).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sharedPath } from '@wf/test-fixtures';

const argOf = (name) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const root = argOf('--root');
const sizes = (argOf('--sizes') ?? '160,192,224').split(',').map(Number);
const from = (pkg) =>
  root
    ? import(pathToFileURL(join(resolve(root), 'packages', pkg, 'dist/index.js')).href)
    : import(`@wf/${pkg}`);
const { loadModel } = await from('models');
const { createCpuBackend } = await from('backend-cpu');

const model = await loadModel(
  readFileSync(sharedPath(join('fixtures', 'reference', 'wfm-tiny.safetensors'))),
);
let weightBytes = 0;
for (const t of model.weights.values()) weightBytes += t.data.byteLength;
const backend = createCpuBackend({ shared: false, threads: 1 });
await backend.ready;
const rows = [];
let otherBytes = 0;
for (const s of sizes) {
  const compiled = await model.compile(backend, { height: s, width: s });
  const g = compiled.graph;
  // Per graph, besides weights: the intermediates' arena and one tensor per input.
  otherBytes += backend.capabilities.subAllocation ? g.plan.arenaBytes : g.plan.peakBytes;
  for (const t of g.inputTypes.values()) otherBytes += t.shape.reduce((a, b) => a * b, 1) * 4;
  rows.push({
    size: s,
    allocatedBytes: backend.allocatedBytes,
    weightCopies: (backend.allocatedBytes - otherBytes) / weightBytes,
  });
}
const result = { weightBytes, compiled: sizes.length, rows, allocatedBytes: backend.allocatedBytes };
if (process.argv.includes('--json')) console.log(JSON.stringify(result));
else {
  const mb = (b) => `${(b / 2 ** 20).toFixed(2)} MiB`;
  console.log(`WFM-T weights: ${weightBytes} bytes (${mb(weightBytes)})`);
  for (const r of rows)
    console.log(
      `after compiling ${r.size}px: cpu backend holds ${r.allocatedBytes} bytes (${mb(r.allocatedBytes)}), weights ~${r.weightCopies.toFixed(2)} copies`,
    );
}
await model.dispose();
backend.dispose();
