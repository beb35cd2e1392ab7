// The exporter against ONNX Runtime (onnxruntime-node): every reference fixture's model exported once with
// a dynamic batch, run in ONNX Runtime at batch 1 and 3 (and the fixture's own batch), and compared with
// the float64 PyTorch fixtures and with our cpu backend; odd and non-square grids against our cpu backend;
// other opsets and external data; and the errors. WFM-T at 224 px comes from ../shared (required in CI).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCpuBackend } from '@wf/backend-cpu';
import { OPS, type OpName, parseSafetensors, type TensorData, trace } from '@wf/core';
import { loadModel, randomModel, type WfModel } from '@wf/models';
import { fixturePath, isCI, readFixture, sharedPath } from '@wf/test-fixtures';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { exportOnnx, type OnnxExport } from './export.js';
import { exportModel } from './model-export.js';
import { decodeModel } from './onnx-proto.js';
import { EXPORT_RULES, OnnxExportError } from './rules.js';
import { tritonConfig } from './triton.js';

const TOL = 1e-4;
const cpu = createCpuBackend();
afterAll(() => cpu.dispose());

function maxErr(got: TensorData, ref: TensorData, label: string): number {
  expect([...got.shape], label).toEqual([...ref.shape]);
  let err = 0;
  let mx = 0;
  for (let i = 0; i < ref.data.length; i++) {
    err = Math.max(err, Math.abs(got.data[i] - ref.data[i]));
    mx = Math.max(mx, Math.abs(ref.data[i]));
  }
  const bound = TOL * Math.max(1, mx);
  expect(err, `${label}: max error ${err} > bound ${bound}`).toBeLessThanOrEqual(bound);
  return err;
}

async function session(exp: OnnxExport | string): Promise<ort.InferenceSession> {
  return typeof exp === 'string'
    ? ort.InferenceSession.create(exp, { intraOpNumThreads: 1 })
    : ort.InferenceSession.create(exp.model, { intraOpNumThreads: 1 });
}

async function runOrt(
  s: ort.InferenceSession,
  feeds: Record<string, TensorData>,
): Promise<Record<string, TensorData>> {
  const input: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) {
    input[k] = new ort.Tensor(v.dtype === 'int32' ? 'int32' : 'float32', v.data, [...v.shape]);
  }
  const out = await s.run(input);
  const res: Record<string, TensorData> = {};
  for (const [k, v] of Object.entries(out)) {
    res[k] = { dtype: 'float32', shape: [...v.dims], data: v.data as Float32Array };
  }
  return res;
}

/** Rows `rows` of a batch-first tensor, stacked (e.g. [0, 1, 0] makes a batch of 3 from a batch of 2). */
function pickRows(t: TensorData, rows: readonly number[]): TensorData {
  const per = t.data.length / t.shape[0];
  const data = t.dtype === 'int32' ? new Int32Array(rows.length * per) : new Float32Array(rows.length * per);
  rows.forEach((r, i) => {
    data.set(t.data.subarray(r * per, (r + 1) * per), i * per);
  });
  return { dtype: t.dtype, shape: [rows.length, ...t.shape.slice(1)], data } as TensorData;
}

function seeded(shape: number[], seed: number): TensorData {
  let s = seed >>> 0;
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    data[i] = (s / 2 ** 32) * 2 - 1;
  }
  return { dtype: 'float32', shape, data };
}

interface FixtureCase {
  run: string;
  weights: () => string;
  io: () => Uint8Array;
}

const fixtures: FixtureCase[] = [
  {
    run: 'wfm-micro-64',
    weights: () => fixturePath('reference/wfm-micro.safetensors'),
    io: () => readFixture('reference/wfm-micro-64.io.safetensors'),
  },
  {
    run: 'wfm-micro-80',
    weights: () => fixturePath('reference/wfm-micro.safetensors'),
    io: () => readFixture('reference/wfm-micro-80.io.safetensors'),
  },
  {
    run: 'deit-micro-64',
    weights: () => fixturePath('reference/deit-micro-64.safetensors'),
    io: () => readFixture('reference/deit-micro-64.io.safetensors'),
  },
  {
    run: 'wfm-dit-micro-16',
    weights: () => fixturePath('reference/wfm-dit-micro-16.safetensors'),
    io: () => readFixture('reference/wfm-dit-micro-16.io.safetensors'),
  },
];
const tinyWeights = sharedPath('fixtures/reference/wfm-tiny.safetensors');
const tinyIo = sharedPath('fixtures/reference/wfm-tiny-224.io.safetensors');
if (tinyWeights && tinyIo) {
  fixtures.push({
    run: 'wfm-tiny-224',
    weights: () => tinyWeights,
    io: () => new Uint8Array(readFileSync(tinyIo)),
  });
}

describe('exportOnnx in onnxruntime-node against the PyTorch fixtures and our cpu backend', () => {
  it('has wfm-tiny from ../shared (required when CI=true)', () => {
    if (isCI()) expect(fixtures.map((c) => c.run)).toContain('wfm-tiny-224');
  });

  it.each(fixtures)(
    '$run: one dynamic-batch export runs at the fixture batch, batch 1 and batch 3',
    async ({ run, weights, io }) => {
      const model = await loadModel(weights());
      const fx = parseSafetensors(io());
      const dit = model.config.arch === 'wfm-dit';
      const inNames = dit ? ['x', 't', 'y'] : ['input'];
      const outName = dit ? 'output' : 'logits';
      const feeds = Object.fromEntries(inNames.map((n) => [n, fx.tensor(n)]));
      const ref = fx.tensor(outName);
      const [, , h, w] = feeds[inNames[0]].shape;
      const exp = exportModel(model, dit ? {} : { height: h, width: w });
      expect(exp.inputs.map((v) => v.shape[0])).toEqual(inNames.map(() => 'batch'));
      expect(exp.outputs.map((v) => v.name)).toEqual([outName]);
      const s = await session(exp);
      try {
        const nb = feeds[inNames[0]].shape[0];
        // The fixture's own batch: PyTorch's float64 numbers and our cpu backend's.
        const got = (await runOrt(s, feeds))[outName];
        maxErr(got, ref, `${run} ort vs PyTorch`);
        const ours = (await model.run(cpu, feeds))[outName];
        maxErr(got, ours, `${run} ort vs cpu backend`);
        // Batch 1 and batch 3 through the same session.
        for (const rows of [[nb - 1], [0, nb - 1, 0]]) {
          const out = (
            await runOrt(s, Object.fromEntries(inNames.map((n) => [n, pickRows(feeds[n], rows)])))
          )[outName];
          maxErr(out, pickRows(ref, rows), `${run} batch ${rows.length}`);
        }
      } finally {
        await s.release();
        await model.dispose();
      }
    },
    120_000,
  );

  let micro: WfModel | undefined;
  const microModel = async () => {
    micro ??= await loadModel(fixturePath('reference/wfm-micro.safetensors'));
    return micro;
  };
  afterAll(async () => micro?.dispose());

  it.each([
    { label: '7x7 grid (56 px)', h: 56, w: 56 },
    { label: 'non-square 8x6 grid (64x48 px)', h: 64, w: 48 },
    { label: 'non-square odd 5x9 grid (40x72 px)', h: 40, w: 72 },
  ])('wfm-micro on a $label matches our cpu backend at batch 1 and 3', async ({ h, w }) => {
    const model = await microModel();
    const exp = exportModel(model, { height: h, width: w, features: true });
    const s = await session(exp);
    try {
      for (const b of [1, 3]) {
        const x = seeded([b, 3, h, w], 7 + b);
        const got = await runOrt(s, { input: x });
        const ours = await model.run(cpu, x);
        maxErr(got.logits, ours.logits, `logits ${h}x${w} batch ${b}`);
        maxErr(got.features, ours.features, `features ${h}x${w} batch ${b}`);
      }
    } finally {
      await s.release();
    }
  });

  it('WFM-S/B architecture (D=384) at 224 px, random weights: ONNX Runtime matches our cpu backend', async () => {
    const model = randomModel('wfm-small', { seed: 3 });
    const exp = exportModel(model, { height: 224 });
    const s = await session(exp);
    try {
      const x = seeded([1, 3, 224, 224], 11);
      maxErr((await runOrt(s, { input: x })).logits, (await model.run(cpu, x)).logits, 'wfm-small 224');
    } finally {
      await s.release();
      await model.dispose();
    }
  });

  it.each([13, 17, 20])('opset %i exports wfm-micro that matches the fixture', async (opset) => {
    const model = await microModel();
    const fx = parseSafetensors(readFixture('reference/wfm-micro-80.io.safetensors'));
    const exp = exportModel(model, { height: 80, opset });
    const decoded = decodeModel(exp.model) as { opset_import: { version: number }[] };
    expect(decoded.opset_import[0].version).toBe(opset);
    const s = await session(exp);
    try {
      maxErr((await runOrt(s, { input: fx.tensor('input') })).logits, fx.tensor('logits'), `opset ${opset}`);
    } finally {
      await s.release();
    }
  });

  it('writes weights to an external data file that ONNX Runtime loads beside the model', async () => {
    const model = await microModel();
    const fx = parseSafetensors(readFixture('reference/wfm-micro-64.io.safetensors'));
    const exp = exportModel(model, { height: 64, externalData: 'micro.onnx.data' });
    expect(exp.externalData!.bytes.byteLength).toBeGreaterThan(exp.model.byteLength);
    const dir = mkdtempSync(join(tmpdir(), 'wf-onnx-'));
    try {
      writeFileSync(join(dir, 'micro.onnx'), exp.model);
      writeFileSync(join(dir, 'micro.onnx.data'), exp.externalData!.bytes);
      const s = await session(join(dir, 'micro.onnx'));
      maxErr((await runOrt(s, { input: fx.tensor('input') })).logits, fx.tensor('logits'), 'external data');
      await s.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes ONNX fused ops: LayerNormalization, Softmax, and Gelu at opset 20', async () => {
    const deit = await loadModel(fixturePath('reference/deit-micro-64.safetensors'));
    const ops = (exp: OnnxExport) =>
      new Set(
        (decodeModel(exp.model) as { graph: { node: { op_type: string }[] } }).graph.node.map(
          (n) => n.op_type,
        ),
      );
    const at18 = ops(exportModel(deit, { height: 64 }));
    expect(at18.has('LayerNormalization') && at18.has('Softmax') && at18.has('Erf')).toBe(true);
    expect(ops(exportModel(deit, { height: 64, opset: 20 })).has('Gelu')).toBe(true);
    // No convolution with batch-times-channels groups: the per-sample depthwise convolution is nine taps.
    const micro = exportModel(await microModel(), { height: 64 });
    const convs = (
      decodeModel(micro.model) as {
        graph: { node: { op_type: string; attribute: { name: string; i?: number }[] }[] };
      }
    ).graph.node
      .filter((n) => n.op_type === 'Conv')
      .map((n) => n.attribute.find((a) => a.name === 'group')?.i ?? 1);
    expect(Math.max(...convs)).toBeLessThanOrEqual(64);
    await deit.dispose();
  });

  it('writes a fixed-batch DynDWConv as one depthwise Conv with batch-times-channels groups', async () => {
    const model = await microModel();
    const x = seeded([3, 3, 64, 64], 5);
    const exp = exportOnnx(model.graph({ batch: 3, height: 64, width: 64 }));
    expect(exp.inputs[0].shape).toEqual([3, 3, 64, 64]);
    const nodes = (
      decodeModel(exp.model) as {
        graph: { node: { op_type: string; attribute: { name: string; i?: number }[] }[] };
      }
    ).graph.node;
    const d = model.config.arch === 'wfm' ? model.config.embedDim : 0;
    expect(d).toBeGreaterThan(0);
    const groups = nodes
      .filter((n) => n.op_type === 'Conv')
      .map((n) => n.attribute.find((a) => a.name === 'group')?.i ?? 1);
    // The dynamic-batch export's nine taps pad the input; the fixed-batch form pads inside the Conv.
    expect(nodes.some((n) => n.op_type === 'Pad')).toBe(false);
    expect(groups).toContain(3 * d);
    const s = await session(exp);
    try {
      maxErr((await runOrt(s, { input: x })).logits, (await model.run(cpu, x)).logits, 'fixed batch 3');
    } finally {
      await s.release();
    }
  });

  it('writes a Triton config with dims less the batch axis and dynamic batching', async () => {
    const exp = exportModel(await microModel(), { height: 64 });
    const text = tritonConfig(exp, { name: 'wfm-micro', maxBatchSize: 16 });
    expect(text).toContain('platform: "onnxruntime_onnx"');
    expect(text).toContain('max_batch_size: 16');
    expect(text).toContain('dims: [ 3, 64, 64 ]');
    expect(text).toContain('dims: [ 10 ]');
    expect(text).toContain('dynamic_batching');
    expect(() => tritonConfig(exp, { name: '../x' })).toThrow(/plain folder name/);
  });

  it('rejects what it cannot write with one line naming it', async () => {
    const model = await microModel();
    expect(() => exportModel(model, { height: 64, opset: 12 })).toThrow(OnnxExportError);
    expect(() => exportModel(model, { height: 64, opset: 12 })).toThrow(/opset 12 is not supported/);
    // Slicing the batch axis cannot follow a symbolic batch.
    const halves = (batch: number) =>
      trace((g) => {
        const x = g.input('x', [batch, 4]);
        return { output: g.emit('slice', [x], { begin: [0, 0], end: [1, 4], step: [1, 1] }) };
      });
    expect(() => exportOnnx(halves)).toThrow(/cannot export node %1 \(slice\): slicing axis 0/);
  });

  it('has a writing rule for every primitive of the op table', () => {
    const prims = (Object.keys(OPS) as OpName[]).filter((op) => OPS[op].kind !== 'composite');
    expect(prims.filter((op) => typeof EXPORT_RULES[op] !== 'function')).toEqual([]);
  });
});
