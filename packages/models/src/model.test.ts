// Model loading and configuration: config sources in priority order, inference from shapes alone, every
// weight problem listed in one error, URL loading with progress from a local server, non-square inputs
// checked against the float64 oracle, ViT position-table resizing, and classifier-free guidance.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCpuBackend } from '@wf/backend-cpu';
import { parseSafetensors, serializeSafetensors, type TensorData } from '@wf/core';
import { evaluateF64, expectClose } from '@wf/core/testing';
import { readFixture } from '@wf/test-fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError, resolveConfig } from './config.js';
import { loadModel, modelFromSafetensors } from './load.js';
import { resizePosEmbed } from './pos-embed.js';

const microBytes = readFixture('reference/wfm-micro.safetensors');
const micro = parseSafetensors(microBytes);
const backend = createCpuBackend();

/** The fixture re-serialized with only `{"format":"pt"}` metadata, like a hub checkpoint. */
function hubStyle(bytes: Uint8Array): Uint8Array {
  const st = parseSafetensors(bytes);
  const tensors: Record<string, TensorData> = {};
  for (const n of st.names()) tensors[n] = st.tensor(n);
  return serializeSafetensors(tensors, { format: 'pt' });
}

describe('configuration', () => {
  it('infers WFM from tensor shapes alone (hub checkpoints)', async () => {
    const m = await loadModel(hubStyle(microBytes));
    expect(m.config).toMatchObject({
      arch: 'wfm',
      embedDim: 64,
      depth: 5,
      patchSize: 8,
      inChans: 3,
      numClasses: 10,
    });
    expect(m.config.arch === 'wfm' && m.config.dynamicBlocks).toEqual([1, 4]);
  });

  it('explicit options beat config.json, which beats metadata', () => {
    const shapes = new Map([...micro.names()].map((n) => [n, micro.tensor(n).shape]));
    const cfg = resolveConfig(shapes, [
      { img_size: 96 },
      { img_size: 80, num_classes: 10 },
      { img_size: 64 },
    ]);
    expect(cfg.arch === 'wfm' && cfg.imgSize).toBe(96);
    const cfg2 = resolveConfig(shapes, [undefined, { img_size: 80 }, { img_size: 64 }]);
    expect(cfg2.arch === 'wfm' && cfg2.imgSize).toBe(80);
  });

  it('ViT heads come from config, or a clear error', async () => {
    const deit = hubStyle(readFixture('reference/deit-micro-64.safetensors'));
    await expect(loadModel(deit)).rejects.toThrow(/heads is not recoverable from the weights; pass heads/);
    const m = await loadModel(deit, { heads: 2 });
    expect(m.config.arch === 'vit' && m.config.numHeads).toBe(2);
  });

  it('lists every missing, unexpected and mis-shaped tensor in one error', () => {
    const tensors: Record<string, TensorData> = {};
    for (const n of micro.names()) tensors[n] = micro.tensor(n);
    delete tensors['blocks.0.linear2.bias'];
    delete tensors['head.bias'];
    tensors['blocks.9.extra'] = tensors['norm.bias'];
    tensors['blocks.1.linear1.w1'] = { dtype: 'float32', shape: [15, 64], data: new Float32Array(15 * 64) };
    const bytes = serializeSafetensors(tensors, { arch: 'wfm', config: JSON.stringify({ depth: 5 }) });
    let msg = '';
    try {
      modelFromSafetensors(parseSafetensors(bytes));
    } catch (e) {
      expect(e).toBeInstanceOf(ModelError);
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/missing 2: blocks\.0\.linear2\.bias, head\.bias/);
    expect(msg).toMatch(/unexpected 1: blocks\.9\.extra/);
    expect(msg).toMatch(/mis-shaped 1: blocks\.1\.linear1\.w1 is \[15,64\], expected \[16,64\]/);
  });
});

describe('loading from a URL', () => {
  let base = '';
  const server = createServer((req, res) => {
    if (req.url === '/m/model.safetensors') {
      res.writeHead(200, { 'content-length': String(microBytes.length) });
      res.end(Buffer.from(microBytes));
    } else if (req.url === '/m/config.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ img_size: 80 }));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('fetches with progress and reads config.json beside the weights', async () => {
    const seen: number[] = [];
    const m = await loadModel(`${base}/m/model.safetensors`, { onProgress: (p) => seen.push(p.loaded) });
    expect(seen.at(-1)).toBe(microBytes.length);
    expect(seen.every((v, i) => i === 0 || v >= seen[i - 1])).toBe(true);
    expect(m.config.arch === 'wfm' && m.config.imgSize).toBe(80);
    const io = parseSafetensors(readFixture('reference/wfm-micro-80.io.safetensors'));
    const out = await m.run(backend, io.tensor('input'));
    expectClose(out.logits, io.tensor('logits'), 1e-4, 'logits via URL');
  });

  it('reports HTTP errors in one line', async () => {
    await expect(loadModel(`${base}/missing.safetensors`)).rejects.toThrow(/HTTP 404/);
  });
});

describe('resolutions and grids', () => {
  it('runs a non-square 64x80 image and matches the float64 oracle on the same graph', async () => {
    const m = modelFromSafetensors(micro);
    const x: TensorData = {
      dtype: 'float32',
      shape: [1, 3, 64, 80],
      data: Float32Array.from({ length: 3 * 64 * 80 }, (_, i) => Math.sin(i * 0.013)),
    };
    const got = await m.run(backend, x);
    const ref = evaluateF64(m.graph({ height: 64, width: 80 }), { input: x });
    expectClose(got.logits, ref.logits, 1e-4, 'non-square logits');
  });

  it('rejects a size that is not a multiple of the patch', async () => {
    const m = modelFromSafetensors(micro);
    expect(() => m.graph({ height: 63 })).toThrow(/multiple of the patch size 8/);
  });

  it('resizes ViT position tables: identity at the native grid, constants stay constant', () => {
    const d = 3;
    const pos: TensorData = {
      dtype: 'float32',
      shape: [1, 5, d],
      data: Float32Array.from({ length: 15 }, (_, i) => (i < 3 ? 9 : 2)),
    };
    expect(Array.from(resizePosEmbed(pos, [2, 2], [2, 2]).data)).toEqual(Array.from(pos.data));
    const up = resizePosEmbed(pos, [2, 2], [3, 5]);
    expect(up.shape).toEqual([1, 16, d]);
    expect(Array.from(up.data.subarray(0, 3))).toEqual([9, 9, 9]);
    for (const v of up.data.subarray(3)) expect(v).toBeCloseTo(2, 6);
  });
});

describe('wfm-dit classifier-free guidance', () => {
  it('scale 1 returns the conditional prediction; rest channels pass through', async () => {
    const st = parseSafetensors(readFixture('reference/wfm-dit-micro-16.safetensors'));
    const io = parseSafetensors(readFixture('reference/wfm-dit-micro-16.io.safetensors'));
    const m = modelFromSafetensors(st);
    const x = io.tensor('x');
    const t = io.tensor('t');
    const yCond = io.tensor('y');
    const y: TensorData = { dtype: 'int32', shape: [2], data: Int32Array.of(yCond.data[0], 10) };
    const xx: TensorData = { dtype: 'float32', shape: x.shape, data: x.data.slice() };
    xx.data.set(x.data.subarray(0, x.data.length / 2), x.data.length / 2); // [x0, x0]
    const tt: TensorData = { dtype: 'float32', shape: [2], data: Float32Array.of(t.data[0], t.data[0]) };
    const plain = (await m.run(backend, { x: xx, t: tt, y })).output;
    const cfg1 = (await m.run(backend, { x, t: tt, y }, { cfgScale: 1 })).output;
    const cfg4 = (await m.run(backend, { x, t: tt, y }, { cfgScale: 4 })).output;
    const per = plain.data.length / 2;
    const hw = 16 * 16;
    for (let c = 0; c < 8; c++) {
      for (let i = 0; i < hw; i += 37) {
        const cond = plain.data[c * hw + i];
        const uncond = plain.data[per + c * hw + i];
        if (c < 3) {
          expect(cfg1.data[c * hw + i]).toBeCloseTo(cond, 5);
          expect(cfg4.data[per + c * hw + i]).toBeCloseTo(uncond + 4 * (cond - uncond), 4);
        } else {
          expect(cfg4.data[c * hw + i]).toBeCloseTo(cond, 5);
          expect(cfg4.data[per + c * hw + i]).toBeCloseTo(uncond, 5);
        }
      }
    }
  });
});

describe('named variants', () => {
  it('WFM-T has 7,074,184 parameters; random models run', async () => {
    const { randomModel, MODEL_VARIANTS } = await import('./variants.js');
    expect(randomModel('wfm-tiny').parameterCount).toBe(7074184);
    expect(Object.keys(MODEL_VARIANTS)).toEqual(
      expect.arrayContaining([
        'wfm-tiny',
        'wfm-small',
        'wfm-base',
        'deit-tiny',
        'deit-small',
        'wfm-dit-s-2',
        'wfm-dit-b-8',
      ]),
    );
    const m = randomModel(
      { ...MODEL_VARIANTS['deit-tiny'], depth: 1, imgSize: 32, numClasses: 4 },
      { seed: 3 },
    );
    const out = await m.run(backend, {
      dtype: 'float32',
      shape: [1, 3, 64, 64],
      data: new Float32Array(3 * 64 * 64).fill(0.1),
    });
    expect(out.logits.shape).toEqual([1, 4]);
    expect(Array.from(out.logits.data).every(Number.isFinite)).toBe(true);
  });

  it('a variant fills the configuration a hub checkpoint lacks (heads)', async () => {
    const deit = hubStyle(readFixture('reference/deit-micro-64.safetensors'));
    await expect(loadModel(deit, { variant: 'nope' })).rejects.toThrow(/unknown model variant "nope"/);
  });
});
