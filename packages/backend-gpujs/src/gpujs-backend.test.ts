// The backend's own contract, beyond the conformance suite: mode selection and its errors, storage
// semantics (rebinding slots, zero-filled reads, reshape sharing), int32 handling, disposal, the kernel
// cache, and the per-kernel fallback of `auto` mode.
import { BackendError, compile, F, tensorData, trace } from '@wf/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createGpujsBackend } from './create.js';
import { Engine, KernelBuildError } from './engine.js';
import { gpujs } from './gpujs.js';
import { GpujsBackend } from './gpujs-backend.js';
import { IN_CI, unavailableReason } from './test-support.js';

describe('createGpujsBackend', () => {
  it('rejects an unknown mode with the list of modes', async () => {
    await expect(createGpujsBackend({ mode: 'vulkan' as never })).rejects.toThrow(
      /unknown mode "vulkan" \(use auto, webgpu, webgl2, webgl, headlessgl, webasm, cpu\)/,
    );
  });

  it('rejects bad options in one line', async () => {
    await expect(createGpujsBackend(null as never)).rejects.toThrow(/options must be an object/);
    await expect(createGpujsBackend({ threads: 'yes' as never })).rejects.toThrow(
      /threads must be a boolean/,
    );
  });

  it('names the mode that runs and what it reports', async () => {
    const b = await createGpujsBackend({ mode: 'webasm' });
    expect(b.name).toBe('gpujs:webasm');
    expect(b.mode).toBe('webasm');
    expect(b.info.requested).toBe('webasm');
    expect(b.info.device.simd).toMatch(/true|false/);
    expect(b.capabilities).toEqual({
      zeroCopyViews: false,
      syncRead: true,
      dtypes: ['float32', 'int32'],
      precision: 'float32',
    });
    b.dispose();
  });

  it('fails with a one-line BackendError for a mode the platform lacks (webgl2 in Node)', async () => {
    const p = createGpujsBackend({ mode: 'webgl2' });
    await expect(p).rejects.toBeInstanceOf(BackendError);
    await expect(p).rejects.toThrow(/^gpujs: mode "webgl2" is not available: no WebGL2 context[^\n]*$/);
  });

  it('webgpu in Node: a clear error when the webgpu package (Dawn) cannot load', async () => {
    let error: unknown;
    let backend: GpujsBackend | undefined;
    try {
      backend = await createGpujsBackend({ mode: 'webgpu' });
    } catch (e) {
      error = e;
    }
    if (backend) {
      // a machine where Dawn loads and finds an adapter: the backend must then work
      expect(backend.name).toBe('gpujs:webgpu');
      backend.dispose();
      return;
    }
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toMatch(/^gpujs: mode "webgpu" is not available: .*webgpu/);
    expect((error as Error).message).not.toContain('\n');
  });

  it('auto picks the first mode of webgpu -> webgl2 -> headlessgl -> webasm -> cpu that works, and says why it skipped the others', async () => {
    const b = await createGpujsBackend();
    expect(['gpujs:headlessgl', 'gpujs:webasm']).toContain(b.name);
    expect(b.info.requested).toBe('auto');
    const skipped = b.info.skipped.map((s) => s.mode);
    expect(skipped.slice(0, 2)).toEqual(['webgpu', 'webgl2']);
    for (const s of b.info.skipped) expect(s.reason.length).toBeGreaterThan(0);
    b.dispose();
  });
});

describe('storage, readback and disposal (webasm)', async () => {
  const b = await createGpujsBackend({ mode: 'webasm' });
  afterAll(() => b.dispose());

  it('reads zeros from a storage block nothing was written to', async () => {
    const t = b.wrap(b.allocate(16), { shape: [2, 2], dtype: 'float32' });
    expect(Array.from((await b.read(t)).data)).toEqual([0, 0, 0, 0]);
  });

  it('writes, reads back synchronously and asynchronously, and checks shapes and dtypes', async () => {
    const s = b.allocate(24);
    const t = b.wrap(s, { shape: [2, 3], dtype: 'float32' });
    b.write(t, tensorData([2, 3], [1, 2, 3, 4, 5, 6]));
    expect(Array.from(b.readSync(t).data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from((await b.read(t)).data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => b.write(t, tensorData([3, 2], [1, 2, 3, 4, 5, 6]))).toThrow(
      /write of \[3,2\] data into a \[2,3\] tensor/,
    );
    expect(() => b.write(t, tensorData([2, 3], Int32Array.of(1, 2, 3, 4, 5, 6)))).toThrow(
      /write of int32 data into a float32 tensor/,
    );
    expect(() => b.wrap(s, { shape: [4, 4], dtype: 'float32' })).toThrow(
      /needs 64 bytes, the storage block has 24/,
    );
  });

  it('stores int32 as exact floats, and rejects magnitudes float32 cannot hold', async () => {
    const t = b.wrap(b.allocate(12), { shape: [3], dtype: 'int32' });
    b.write(t, tensorData([3], Int32Array.of(-16777216, 7, 16777216)));
    const back = await b.read(t);
    expect(back.dtype).toBe('int32');
    expect(Array.from(back.data)).toEqual([-16777216, 7, 16777216]);
    expect(() => b.write(t, tensorData([3], Int32Array.of(0, 16777217, 0)))).toThrow(
      /int32 value 16777217 exceeds ±2\^24/,
    );
  });

  it('rejects reads of released storage', async () => {
    const s = b.allocate(4);
    const t = b.wrap(s, { shape: [1], dtype: 'float32' });
    b.release(s);
    b.release(s); // idempotent
    await expect(b.read(t)).rejects.toThrow(/read of a released storage block/);
    expect(() => b.wrap(s, { shape: [1], dtype: 'float32' })).toThrow(/wrap of a released storage block/);
  });

  it('compiles each kernel once per shape and reuses it across runs and graphs', async () => {
    const graph = trace((g) => F.tanh(F.add(g.input('x', [4, 5]), 1)));
    const x = tensorData([4, 5], new Float32Array(20).fill(0.5));
    const c1 = await compile(graph, b);
    await c1.run({ x });
    const n = b.compiledKernels;
    await c1.run({ x });
    const c2 = await compile(graph, b);
    const out = await c2.run({ x });
    expect(b.compiledKernels).toBe(n);
    expect(out.output.data[0]).toBeCloseTo(Math.tanh(1.5), 6);
    c1.dispose();
    c2.dispose();
  });

  it('fuses DynDWConv only for the adaptive strategy: compile lowers the others to primitives', async () => {
    expect(b.fuses('dyn_dwconv', { strategy: 'gap' })).toBe(false);
    expect(b.fuses('dyn_dwconv', { strategy: 'adaptive' })).toBe(true);
    expect(b.fuses('dyn_linear', { strategy: 'deep', grid: [2, 2] })).toBe(false);
    expect(b.fuses('dyn_linear', { strategy: 'bilateral', grid: [2, 2] })).toBe(true);
    expect(b.fuses('gelu', { approximate: 'none' })).toBe(true);
    const d = 2;
    const t = (shape: number[]) =>
      tensorData(shape, new Float32Array(shape.reduce((a, c) => a * c, 1)).fill(0.1));
    const ops = async (strategy: 'adaptive' | 'gap') => {
      const graph = trace((g) => {
        const p = {
          w: g.constant(t([d, 1, 3, 3])),
          b: g.constant(t([d])),
          wfm0_weight: g.constant(t([d, d, 1, 1])),
          wfm0_bias: g.constant(t([d])),
          wfm2_weight: g.constant(t([strategy === 'gap' ? 9 * d : d, d, 1, 1])),
        };
        return F.dynDWConv(g.input('x', [1, d, 4, 4]), p, { strategy });
      });
      const c = await compile(graph, b);
      const out = await c.run({ x: t([1, d, 4, 4]) });
      c.dispose();
      expect(out.output.shape).toEqual([1, d, 4, 4]);
      return c.graph.nodes.map((n) => n.op);
    };
    expect(await ops('adaptive')).toContain('dyn_dwconv');
    const lowered = await ops('gap');
    expect(lowered).not.toContain('dyn_dwconv');
    expect(lowered).toContain('conv2d');
  });

  it('releases every storage block when compiled graphs are disposed', async () => {
    const before = b.liveStorages;
    const graph = trace((g) => F.reshape(F.mul(g.input('x', [6]), 2), [2, 3]));
    const c = await compile(graph, b);
    const out = await c.run({ x: tensorData([6], [1, 2, 3, 4, 5, 6]) });
    expect(Array.from(out.output.data)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(b.liveStorages).toBeGreaterThan(before);
    c.dispose();
    expect(b.liveStorages).toBe(before);
  });
});

describe('disposal', () => {
  it('every call after dispose fails with a one-line BackendError; dispose is idempotent', async () => {
    const b = await createGpujsBackend({ mode: 'cpu' });
    const s = b.allocate(8);
    const t = b.wrap(s, { shape: [2], dtype: 'float32' });
    b.dispose();
    b.dispose();
    expect(() => b.allocate(8)).toThrow(/^gpujs:cpu: the backend was disposed; create a new one$/);
    expect(() => b.wrap(s, { shape: [2], dtype: 'float32' })).toThrow(BackendError);
    expect(() => b.write(t, tensorData([2], [1, 2]))).toThrow(/disposed/);
    await expect(b.read(t)).rejects.toThrow(/disposed/);
    const graph = trace((g) => F.neg(g.input('x', [2])));
    await expect(compile(graph, b)).rejects.toThrow(/disposed/);
  });
});

/** An engine whose kernels fail to build when their source matches `broken`. */
class BrokenEngine extends Engine {
  constructor(private readonly broken: RegExp) {
    super(gpujs(), 'webasm');
  }
  override run(source: string, size: number, args: readonly unknown[]) {
    if (this.broken.test(source))
      throw new KernelBuildError('webasm', source, new Error('simulated compile error'));
    return super.run(source, size, args);
  }
}

describe('auto mode falls back per kernel', () => {
  const make = (requested: 'auto' | 'webasm') =>
    new GpujsBackend({
      lib: gpujs(),
      engine: new BrokenEngine(/Math\.exp/),
      requested,
      skipped: [],
      device: {},
      engineOptions: {},
    });
  const graph = trace((g) => F.add(F.exp(g.input('x', [3])), 1));
  const x = tensorData([3], [0, 1, 2]);

  it('runs a kernel that fails to compile on the next mode of the chain and records it', async () => {
    const b = make('auto');
    const c = await compile(graph, b);
    const out = await c.run({ x });
    expect(Array.from(out.output.data).map((v) => +v.toFixed(5))).toEqual([
      2,
      +(Math.E + 1).toFixed(5),
      +(Math.exp(2) + 1).toFixed(5),
    ]);
    expect(b.fallbacks).toEqual([
      { op: 'exp', from: 'webasm', to: 'cpu', reason: expect.stringContaining('simulated compile error') },
    ]);
    c.dispose();
    b.dispose();
  });

  it('an explicitly named mode does not fall back: the error names the op and the mode', async () => {
    const b = make('webasm');
    const c = await compile(graph, b);
    await expect(c.run({ x })).rejects.toThrow(
      /^gpujs:webasm: exp failed on gpu.js webasm: .*simulated compile error/,
    );
    c.dispose();
    b.dispose();
  });
});

describe('headless GL', async () => {
  const reason = IN_CI ? undefined : await unavailableReason('headlessgl');
  it.skipIf(!!reason)(`runs and reports its renderer${reason ? ` (skipped: ${reason})` : ''}`, async () => {
    const b = await createGpujsBackend({ mode: 'headlessgl' });
    expect(b.name).toBe('gpujs:headlessgl');
    expect(b.info.device.renderer).toBeTruthy();
    const c = await compile(
      trace((g) => F.softmax(g.input('x', [2, 3]))),
      b,
    );
    const out = await c.run({ x: tensorData([2, 3], [1, 2, 3, 0, 0, 0]) });
    expect(out.output.data[3]).toBeCloseTo(1 / 3, 6);
    c.dispose();
    b.dispose();
  });
});
