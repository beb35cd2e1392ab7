// Interleaved A/B timing of one WFM-T forward pass (fixture weights, 224 px, batch 1) on the cpu backend,
// between two checkouts' built packages: each round runs A then B (then B then A on the next round), each
// in a fresh process that loads the model, compiles, warms up and times `--runs` forward passes; the report
// is every round's medians and the median of the per-round ratios B / A. `--pairs N` instead loads both
// in one process (a backend each) and alternates single runs A B B A ... N times: the median of the N
// paired ratios, less exposed to load that changes between processes.
// With `--pairs`, `--grad` times the gradient graph instead (forward plus backward: the input and every
// trainable weight, loss sum(output * cotangent), as `WfModel.gradGraph`).
//   node scripts/forward-ab.mjs --a DIR --b DIR [--rounds 6 | --pairs 40 [--grad]] [--runs 10] [--threads 1] [--size 224]
// DIR is a checkout root whose packages/{core,backend-cpu,models}/dist are built. Run from apps/bench
// (pnpm turbo run build --filter=@wf/bench...); needs ../shared.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const argOf = (name, def) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? def : process.argv[i + 1];
};
const runs = Number(argOf('--runs', '10'));
const threads = Number(argOf('--threads', '1'));
const size = Number(argOf('--size', '224'));
const grad = process.argv.includes('--grad');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Loads the model from `root`'s packages and compiles it; resolves to a function that times one run.
 * `sharedHeap: false` gives the backend a plain heap (two backends in one process, `--pairs`).
 */
async function setup(root, sharedHeap = false) {
  const from = (pkg) => import(pathToFileURL(join(root, 'packages', pkg, 'dist/index.js')).href);
  const { loadModel } = await from('models');
  const { createCpuBackend, tryEnableRelaxedSimd } = await from('backend-cpu');
  const { sharedPath } = await import('@wf/test-fixtures');
  tryEnableRelaxedSimd?.();
  const model = await loadModel(readFileSync(sharedPath('fixtures/reference/wfm-tiny.safetensors')));
  const backend = createCpuBackend({ threads, ...(sharedHeap ? {} : { shared: false }) });
  await backend.ready;
  const data = new Float32Array(3 * size * size).map((_, i) => Math.sin(i * 0.01));
  const input = { dtype: 'float32', shape: [1, 3, size, size], data };
  let run;
  if (grad) {
    const { compile } = await from('core');
    const compiled = await compile(model.gradGraph({ batch: 1, height: size, width: size }), backend);
    const inputs = { input };
    for (const [name, type] of compiled.inputTypes) {
      if (name === 'input') continue;
      const n = type.shape.reduce((p, d) => p * d, 1);
      inputs[name] = model.weights.get(name) ?? {
        dtype: 'float32',
        shape: [...type.shape],
        data: new Float32Array(n).map((_, i) => Math.cos(i * 0.01)),
      };
    }
    run = () => compiled.run(inputs);
  } else {
    const compiled = await model.compile(backend, { height: size });
    run = () => compiled.run(input);
  }
  for (let i = 0; i < 2; i++) await run();
  return async () => {
    const t0 = performance.now();
    await run();
    return performance.now() - t0;
  };
}

if (process.argv.includes('--pairs')) {
  const pairs = Number(argOf('--pairs'));
  const a = await setup(resolve(argOf('--a')));
  const b = await setup(resolve(argOf('--b')));
  const ta = [];
  const tb = [];
  for (let i = 0; i < pairs; i++) {
    if (i % 2 === 0) {
      ta.push(await a());
      tb.push(await b());
    } else {
      tb.push(await b());
      ta.push(await a());
    }
  }
  const ratios = ta.map((t, i) => tb[i] / t);
  console.log(
    `WFM-T ${size}px ${grad ? 'forward + backward' : 'forward'}, cpu x${threads}, ${pairs} interleaved pairs in one process`,
  );
  console.log(`A = ${resolve(argOf('--a'))}\nB = ${resolve(argOf('--b'))}`);
  console.log(
    `median A ${median(ta).toFixed(1)} ms, median B ${median(tb).toFixed(1)} ms, median of paired B/A ${median(ratios).toFixed(3)}`,
  );
} else if (process.argv.includes('--child')) {
  const time = await setup(resolve(argOf('--root')), true);
  const ms = [];
  for (let i = 0; i < runs; i++) ms.push(await time());
  console.log(JSON.stringify({ median: median(ms) }));
  process.exit(0);
} else {
  const a = resolve(argOf('--a'));
  const b = resolve(argOf('--b'));
  const rounds = Number(argOf('--rounds', '6'));
  const self = fileURLToPath(import.meta.url);
  const child = (root) =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [
          self,
          '--child',
          '--root',
          root,
          '--runs',
          String(runs),
          '--threads',
          String(threads),
          '--size',
          String(size),
        ],
        { encoding: 'utf8' },
      ).trim(),
    ).median;
  const ratios = [];
  console.log(`WFM-T ${size}px forward, cpu x${threads}, ${runs} timed runs per process`);
  console.log(`A = ${a}\nB = ${b}`);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
    const got = {};
    for (const k of order) got[k] = child(k === 'A' ? a : b);
    ratios.push(got.B / got.A);
    console.log(
      `round ${r + 1} (${order.join(' ')}): A ${got.A.toFixed(1)} ms, B ${got.B.toFixed(1)} ms, B/A ${(got.B / got.A).toFixed(3)}`,
    );
  }
  console.log(`median B/A over ${rounds} rounds: ${median(ratios).toFixed(3)}`);
}
