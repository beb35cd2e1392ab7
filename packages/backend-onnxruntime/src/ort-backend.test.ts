// The ONNX Runtime backend through the models' own API: every reference fixture (every stored tensor,
// hidden states included) within max|y - ref| <= 1e-4 * max(1, max|ref|) via `model.run(backend, x)`;
// sessions cached per compiled shape and released on dispose; aborts and input errors; and the
// onnxruntime-web runtime (wasm) in Node on one fixture. WFM-T comes from ../shared (required in CI).
import { readFileSync } from 'node:fs';
import { compile, parseSafetensors, type TensorData, trace } from '@wf/core';
import { loadModel } from '@wf/models';
import { fixturePath, isCI, readFixture, sharedPath } from '@wf/test-fixtures';
import { afterAll, describe, expect, it } from 'vitest';
import { CPU_DISABLED_OPTIMIZERS, createOrtBackend, type OrtModule } from './index.js';

const TOL = 1e-4;

function check(name: string, got: TensorData | undefined, ref: TensorData): void {
  expect(got, `output ${name} missing`).toBeDefined();
  expect([...got!.shape], name).toEqual([...ref.shape]);
  let err = 0;
  let mx = 0;
  for (let i = 0; i < ref.data.length; i++) {
    err = Math.max(err, Math.abs(got!.data[i] - ref.data[i]));
    mx = Math.max(mx, Math.abs(ref.data[i]));
  }
  const bound = TOL * Math.max(1, mx);
  expect(err, `${name}: max error ${err} > bound ${bound}`).toBeLessThanOrEqual(bound);
}

interface Case {
  run: string;
  weights: () => string;
  io: () => Uint8Array;
}

const cases: Case[] = ['wfm-micro-64', 'wfm-micro-80', 'deit-micro-64', 'wfm-dit-micro-16'].map((run) => ({
  run,
  weights: () => fixturePath(`reference/${run.startsWith('wfm-micro') ? 'wfm-micro' : run}.safetensors`),
  io: () => readFixture(`reference/${run}.io.safetensors`),
}));
const tinyWeights = sharedPath('fixtures/reference/wfm-tiny.safetensors');
const tinyIo = sharedPath('fixtures/reference/wfm-tiny-224.io.safetensors');
if (tinyWeights && tinyIo) {
  cases.push({
    run: 'wfm-tiny-224',
    weights: () => tinyWeights,
    io: () => new Uint8Array(readFileSync(tinyIo)),
  });
}

async function runFixture(backend: Awaited<ReturnType<typeof createOrtBackend>>, c: Case): Promise<number> {
  const model = await loadModel(c.weights());
  const fx = parseSafetensors(c.io());
  const inputs: Record<string, TensorData> =
    model.config.arch === 'wfm-dit'
      ? { x: fx.tensor('x'), t: fx.tensor('t'), y: fx.tensor('y') }
      : { input: fx.tensor('input') };
  const out = await model.run(backend, inputs, { hidden: true });
  let compared = 0;
  for (const name of fx.names()) {
    if (['input', 'x', 't', 'y'].includes(name) || name.startsWith('dyn')) continue;
    check(`${c.run} ${name}`, out[name], fx.tensor(name));
    compared++;
  }
  await model.dispose();
  return compared;
}

describe('ONNX Runtime backend (onnxruntime-node)', async () => {
  const backend = await createOrtBackend({ threads: 1 });
  afterAll(() => backend.dispose());

  it('runs wfm-tiny from ../shared (required when CI=true)', () => {
    if (isCI()) expect(cases.map((c) => c.run)).toContain('wfm-tiny-224');
  });

  it.each(cases)(
    '$run: every stored tensor matches the PyTorch fixture',
    async (c) => {
      expect(await runFixture(backend, c)).toBeGreaterThanOrEqual(3);
    },
    120_000,
  );

  it('caches one session per compiled shape and releases them on dispose', async () => {
    const model = await loadModel(fixturePath('reference/wfm-micro.safetensors'));
    const before = backend.openSessions;
    const created = backend.sessionsCreated;
    const x = (h: number) =>
      ({ dtype: 'float32', shape: [1, 3, h, h], data: new Float32Array(3 * h * h).fill(0.5) }) as TensorData;
    const a = await model.run(backend, x(64));
    const b = await model.run(backend, x(64));
    expect([...b.logits.data]).toEqual([...a.logits.data]);
    expect(backend.sessionsCreated - created).toBe(1);
    await model.run(backend, x(48));
    expect(backend.sessionsCreated - created).toBe(2);
    expect(backend.openSessions - before).toBe(2);
    await model.dispose();
    expect(backend.openSessions).toBe(before);
  });

  it('checks inputs, honours an aborted signal, and refuses runs after dispose', async () => {
    const graph = trace((g) => ({ y: g.emit('exp', [g.input('x', [2, 3])], {}) }));
    const compiled = await compile(graph, backend);
    expect(compiled.backend).toBe(backend);
    const x: TensorData = { dtype: 'float32', shape: [2, 3], data: Float32Array.of(0, 1, 2, 3, 4, 5) };
    const out = await compiled.run({ x });
    expect(out.y.data[1]).toBeCloseTo(Math.E, 5);
    await expect(compiled.run({ x: { ...x, shape: [3, 2] } })).rejects.toThrow(/traced for float32\[2,3\]/);
    await expect(compiled.run({ x }, { signal: AbortSignal.abort(new Error('stop')) })).rejects.toThrow(
      'stop',
    );
    compiled.dispose();
    await expect(compiled.run({ x })).rejects.toThrow(/disposed/);
  });
});

describe('ONNX Runtime backend session options', () => {
  // The options each session is created with, captured through an injected runtime (no model is run).
  async function optionsOf(opts: Parameters<typeof createOrtBackend>[0]): Promise<Record<string, unknown>> {
    const seen: object[] = [];
    const ort = {
      InferenceSession: {
        async create(_model: Uint8Array, options?: object) {
          seen.push(options ?? {});
          return { inputNames: [], outputNames: [], run: async () => ({}), release: async () => {} };
        },
      },
      Tensor: class {},
      env: {},
    } as unknown as OrtModule;
    const backend = await createOrtBackend({ runtime: 'node', ...opts, ort });
    const graph = trace((g) => ({ y: g.emit('exp', [g.input('x', [2])], {}) }));
    (await compile(graph, backend)).dispose();
    backend.dispose();
    expect(seen).toHaveLength(1);
    return seen[0] as Record<string, unknown>;
  }

  it("turns off the fusions that are slower on the CPU provider, merged with the caller's extra entries", async () => {
    expect(CPU_DISABLED_OPTIMIZERS).toContain('SkipLayerNormFusion');
    const spin = { session: { intra_op: { allow_spinning: '0' } } };
    const o = await optionsOf({ threads: 2, sessionOptions: { executionMode: 'sequential', extra: spin } });
    expect(o).toMatchObject({
      intraOpNumThreads: 2,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    expect(o.extra).toEqual({
      ...spin,
      optimization: { disable_specified_optimizers: CPU_DISABLED_OPTIMIZERS.join(',') },
    });
    // Other providers keep every fusion; the caller can turn them back on.
    expect((await optionsOf({ executionProviders: ['cuda', 'cpu'] })).extra).toBeUndefined();
    const on = { optimization: { disable_specified_optimizers: '' } };
    expect((await optionsOf({ sessionOptions: { extra: on } })).extra).toEqual(on);
  });
});

describe('ONNX Runtime backend (onnxruntime-web, wasm, in Node)', () => {
  it('wfm-micro-80: every stored tensor matches the PyTorch fixture', async () => {
    const web = await createOrtBackend({ runtime: 'web', threads: 1 });
    try {
      expect(web.name).toBe('ort-web:wasm');
      expect(await runFixture(web, cases[1])).toBeGreaterThanOrEqual(3);
    } finally {
      web.dispose();
    }
  }, 120_000);
});
