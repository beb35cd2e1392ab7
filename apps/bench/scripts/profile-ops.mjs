// Per-op profile of a forward pass on the cpu backend: WFM-T (fixture weights) at 224 px, batch 1. Wraps
// every kernel with a timer, runs the compiled model, and prints the time per op kind (and the largest
// matrix products by shape), averaged over the timed runs. `--grad` profiles the gradient graph instead
// (forward plus backward: input and every trainable parameter, loss sum(output * cotangent)).
//   node scripts/profile-ops.mjs [--threads N] [--runs N] [--plain-heap] [--grad] [--mnist [--batch B]] [--top N]
//     [--strides]
// `--strides`: applications are told apart by their inputs' strides too (views: transposed, broadcast).
// `--mnist`: the built-in WeightFormer MNIST model at 32 px, batch 128 (or B), on a synthetic input.
// Run from apps/bench after building it (pnpm turbo run build --filter=@wf/bench...); needs ../shared.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCpuBackend, tryEnableRelaxedSimd } from '@wf/backend-cpu';
import { compile, parseSafetensors } from '@wf/core';
import { loadModel } from '@wf/models';
import { loadBuiltinModel } from '@wf/models/node';
import { sharedPath } from '@wf/test-fixtures';

const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? def : Number(process.argv[i + 1]);
};
const threads = arg('--threads', 2);
const runs = arg('--runs', 20);
const strides = process.argv.includes('--strides');
tryEnableRelaxedSimd();
const backend = createCpuBackend({
  threads,
  ...(process.argv.includes('--plain-heap') ? { sharedMemory: false } : {}),
});
const times = new Map();
const wrapped = {};
for (const [op, k] of Object.entries(backend.kernels)) {
  wrapped[op] = (args) => {
    const t0 = performance.now();
    const r = k(args);
    const ms = performance.now() - t0;
    const layout = strides
      ? ` strides ${args.inputs.map((t) => (t?.stride ? `(${t.stride.join(',')})` : '()')).join(' ')}`
      : '';
    const key = `${op} ${args.inputTypes.map((t) => `[${t.shape.join('x')}]`).join(' ')} ${JSON.stringify(args.attrs ?? {})}${layout}`;
    const e = times.get(key) ?? { op, ms: 0, calls: 0 };
    e.ms += ms;
    e.calls++;
    times.set(key, e);
    return r;
  };
}
const profiled = Object.create(backend);
Object.defineProperty(profiled, 'kernels', { value: wrapped });

const mnist = process.argv.includes('--mnist');
const ref = join(sharedPath('fixtures/reference') ?? '../shared/fixtures/reference');
const model = mnist
  ? await loadBuiltinModel('wfm-mnist')
  : await loadModel(readFileSync(join(ref, 'wfm-tiny.safetensors')));
const shape = mnist
  ? { batch: arg('--batch', 128), height: 32, width: 32 }
  : { batch: 1, height: 224, width: 224 };
const x = mnist
  ? null
  : parseSafetensors(readFileSync(join(ref, 'wfm-tiny-224.io.safetensors'))).tensor('input');
const inShape = model.inputShapes(shape).input.shape;
const input = {
  dtype: 'float32',
  shape: [...inShape],
  data: x
    ? Float32Array.from(x.data)
    : Float32Array.from({ length: inShape.reduce((a, b) => a * b, 1) }, (_, i) => Math.cos(i)),
};
const grad = process.argv.includes('--grad');
const compiled = grad
  ? await compile(model.gradGraph(shape), profiled)
  : await model.compile(profiled, shape);
const inputs = { input };
if (grad) {
  for (const [name, type] of compiled.inputTypes) {
    if (name === 'cotangent') {
      const n = type.shape.reduce((a, b) => a * b, 1);
      inputs[name] = {
        dtype: 'float32',
        shape: [...type.shape],
        data: Float32Array.from({ length: n }, (_, i) => Math.sin(i)),
      };
    } else if (name !== 'input') inputs[name] = model.weights.get(name);
  }
}
for (let i = 0; i < 5; i++) await compiled.run(inputs);
times.clear();
const wall = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  await compiled.run(inputs);
  wall.push(performance.now() - t0);
}
wall.sort((a, b) => a - b);
const total = [...times.values()].reduce((a, e) => a + e.ms, 0) / runs;
console.log(
  `${backend.runtime().summary}: median run ${wall[runs >> 1].toFixed(1)} ms, kernels ${total.toFixed(1)} ms/run (${runs} runs)`,
);
const byOp = new Map();
for (const e of times.values()) {
  const o = byOp.get(e.op) ?? { ms: 0, calls: 0 };
  o.ms += e.ms;
  o.calls += e.calls;
  byOp.set(e.op, o);
}
console.log('\nby op: ms/run, share, calls/run');
for (const [op, e] of [...byOp].sort((a, b) => b[1].ms - a[1].ms))
  console.log(
    `  ${op.padEnd(14)} ${(e.ms / runs).toFixed(2).padStart(7)}  ${((100 * e.ms) / runs / total).toFixed(1).padStart(5)}%  ${e.calls / runs}`,
  );
console.log('\nlargest applications by op, shapes and attributes: ms/run, calls/run');
for (const [key, e] of [...times].sort((a, b) => b[1].ms - a[1].ms).slice(0, arg('--top', 16)))
  console.log(`  ${key.padEnd(72)} ${(e.ms / runs).toFixed(2).padStart(7)}  ${e.calls / runs}`);
compiled.dispose();
backend.dispose();
