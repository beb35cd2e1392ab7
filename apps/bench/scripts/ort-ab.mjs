// Interleaved A/B of WFM-T 224 px, batch 1 (issue 14): our ONNX Runtime backend (wf-ort, the bench's
// settings) against onnxruntime-node on the PyTorch export in ../shared/peers/onnx (the ort-node engine's
// settings), both with the fixture's trained weights and the same intra-op threads, in one process,
// alternating A B / B A for `--rounds` rounds. Prints each side's median and the median of the per-round
// ratios. `--also` adds variants to the rotation, for finding where time goes:
//   ort-export   onnxruntime-node on our dynamic-batch export (`wf export`; the ort-node-wf engine)
//   fused        wf-ort with ONNX Runtime's SkipLayerNormFusion left on
//   node-fixed   onnxruntime-node, plain settings, on the fixed-shape export wf-ort compiles
//   node-taps    the same with DynDWConv as nine taps (as before the fixed-batch Conv form)
//   node-nofuse  the PyTorch export with SkipLayerNormFusion off
//   node scripts/ort-ab.mjs [--threads N] [--rounds N] [--also a,b]
// Run from apps/bench after building it (pnpm turbo run build --filter=@wf/bench...); needs ../shared.
import { readFileSync } from 'node:fs';
import { createOrtBackend } from '@wf/backend-onnxruntime';
import { compile, parseSafetensors } from '@wf/core';
import { loadModel } from '@wf/models';
import { EXPORT_RULES, exportModel, exportOnnx, lowerDynDWConvTaps } from '@wf/onnx';
import { sharedPath } from '@wf/test-fixtures';
import * as ort from 'onnxruntime-node';

const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? def : process.argv[i + 1];
};
const threads = Number(arg('--threads', 2));
const rounds = Number(arg('--rounds', 60));
const also = arg('--also', '').split(',').filter(Boolean);
const weights = sharedPath('fixtures/reference/wfm-tiny.safetensors');
const io = sharedPath('fixtures/reference/wfm-tiny-224.io.safetensors');
const peerFile = sharedPath('peers/onnx/wfm-tiny/wfm-tiny-224.onnx');
if (!weights || !io || !peerFile) throw new Error('needs ../shared (fixtures/reference, peers/onnx)');

// The bench's settings (engines/onnx-input.ts, engines/ours.ts).
const NO_SPIN = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };
const peerOptions = (extra = {}) => ({
  executionProviders: ['cpu'],
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  extra: { ...NO_SPIN, ...extra },
});
const noSkipFusion = { optimization: { disable_specified_optimizers: 'SkipLayerNormFusion' } };

const x = parseSafetensors(new Uint8Array(readFileSync(io))).tensor('input');
const shape = [...x.shape];
const model = await loadModel(weights);
const graph = () => model.graph({ batch: 1, height: 224, width: 224 });

async function sessionRunner(file, options) {
  const s = await ort.InferenceSession.create(file, options);
  const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', x.data, shape) };
  return () => s.run(feeds);
}
async function backendRunner(sessionOptions) {
  const backend = await createOrtBackend({ threads, sessionOptions });
  const compiled = await compile(graph(), backend);
  return () => compiled.run({ input: x });
}

const runners = {
  'ort-node': await sessionRunner(peerFile, peerOptions()),
  'wf-ort': await backendRunner({ executionMode: 'sequential', extra: NO_SPIN }),
};
for (const v of also) {
  if (v === 'ort-export')
    runners[v] = await sessionRunner(exportModel(model, { height: 224 }).model, peerOptions());
  else if (v === 'fused')
    runners[v] = await backendRunner({
      executionMode: 'sequential',
      extra: { ...NO_SPIN, optimization: { disable_specified_optimizers: '' } },
    });
  else if (v === 'node-fixed') runners[v] = await sessionRunner(exportOnnx(graph()).model, peerOptions());
  else if (v === 'node-taps') {
    const rules = EXPORT_RULES;
    const saved = rules.dyn_dwconv;
    rules.dyn_dwconv = { lower: lowerDynDWConvTaps };
    try {
      runners[v] = await sessionRunner(exportOnnx(graph()).model, peerOptions());
    } finally {
      rules.dyn_dwconv = saved;
    }
  } else if (v === 'node-nofuse') runners[v] = await sessionRunner(peerFile, peerOptions(noSkipFusion));
  else throw new Error(`unknown variant ${v}`);
}

const names = Object.keys(runners);
for (const n of names) for (let i = 0; i < 5; i++) await runners[n]();
const times = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < rounds; r++) {
  for (const n of r % 2 ? [...names].reverse() : names) {
    const t0 = performance.now();
    await runners[n]();
    times[n].push(performance.now() - t0);
  }
}
const median = (a) => {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
console.log(
  `WFM-T 224 px batch 1, ${threads} intra-op threads, ${rounds} interleaved rounds (ONNX Runtime ${ort.env.versions?.node ?? ''})`,
);
for (const n of names) {
  const perRound = times[n].map((t, i) => t / times['ort-node'][i]);
  console.log(
    `  ${n.padEnd(12)} median ${median(times[n]).toFixed(2)} ms  min ${Math.min(...times[n]).toFixed(2)} ms  ` +
      `/ ort-node: ratio of medians ${(median(times[n]) / median(times['ort-node'])).toFixed(3)}, ` +
      `median per-round ratio ${median(perRound).toFixed(3)}`,
  );
}
