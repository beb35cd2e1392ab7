// Interleaved A/B of deferred weight-gradient products (Backend.defers / settle) on the cpu backend, in one
// process: WFM-T (random weights, as the bench's backward rows) at 224 px, batch 1. Compiles the forward
// graph, the gradient graph (input and every trainable weight, loss sum(output * cotangent)), and the same
// gradient graph on the same backend with deferral hidden; checks that both gradient graphs give the same
// bits; warms all three up, then times them in turn (forward, deferred, forward, not deferred, ...) and
// prints the medians, each gradient graph's ratio to the forward, and deferred / not deferred.
//   node scripts/deferral-ab.mjs [--pairs 25] [--threads 2]
// Run from apps/bench after building it (pnpm turbo run build --filter=@wf/bench...).
import { createCpuBackend } from '@wf/backend-cpu';
import { compile } from '@wf/core';
import { randomTensor, rng } from '@wf/core/testing/runner';
import { randomModel } from '@wf/models';

const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  const v = i < 0 ? def : Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) {
    console.error(`deferral-ab: ${name} must be an integer >= 1 (got ${process.argv[i + 1]})`);
    process.exit(2);
  }
  return v;
};
const pairs = arg('--pairs', 25);
const backend = createCpuBackend({ threads: arg('--threads', 2) });
await backend.ready;
// the same backend, its deferral hidden (compile then finishes every op at once)
const eager = Object.create(backend, { defers: { value: undefined }, settle: { value: undefined } });
const model = randomModel('wfm-tiny');
const shape = { batch: 1, height: 224, width: 224 };
const fwd = await compile(model.graph(shape), backend);
const deferred = await compile(model.gradGraph(shape), backend);
const plain = await compile(model.gradGraph(shape), eager);
const r = rng(7);
const input = randomTensor(model.inputShapes(shape).input.shape, r);
const gradInputs = { input };
for (const [name, type] of deferred.inputTypes) {
  if (name === 'cotangent') gradInputs[name] = randomTensor(type.shape, r);
  else if (name !== 'input') gradInputs[name] = model.weights.get(name);
}
const [a, b] = [await deferred.run(gradInputs), await plain.run(gradInputs)];
const differ = Object.keys(b).filter((k) => !a[k].data.every((v, i) => Object.is(v, b[k].data[i])));
if (differ.length) throw new Error(`deferred and not deferred differ in ${differ.join(', ')}`);
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
console.log(
  `${deferred.plan.deferred.length} deferred products; planned intermediates ${mib(deferred.plan.peakBytes)} (not deferred ${mib(plain.plan.peakBytes)}); same bits`,
);
const opts = { borrow: true };
const times = { forward: [], deferred: [], plain: [] };
const timed = async (key, graph, inputs) => {
  const t0 = performance.now();
  await graph.run(inputs, opts);
  times[key].push(performance.now() - t0);
};
const round = async () => {
  await timed('forward', fwd, { input });
  await timed('deferred', deferred, gradInputs);
  await timed('forward', fwd, { input });
  await timed('plain', plain, gradInputs);
};
for (let i = 0; i < 10; i++) await round(); // warm-up: JIT and WebAssembly tier-up
for (const k of Object.keys(times)) times[k].length = 0;
for (let i = 0; i < pairs; i++) await round();
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
const [f, d, p] = [median(times.forward), median(times.deferred), median(times.plain)];
console.log(
  `forward ${f.toFixed(1)} ms; forward+backward deferred ${d.toFixed(1)} ms (x${(d / f).toFixed(2)}), not deferred ${p.toFixed(1)} ms (x${(p / f).toFixed(2)}); deferred / not deferred ${(d / p).toFixed(3)}`,
);
for (const g of [fwd, deferred, plain]) g.dispose();
backend.dispose();
