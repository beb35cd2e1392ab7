// Deferred ops (`Backend.defers` / `settle`) in compiled runs, on a small backend that finishes a deferred
// matrix product only when told to settle it (the latest the contract allows): the plan keeps a deferred
// op's inputs alive until DEFERRED_OUTSTANDING more deferred ops have started, the run settles before each
// deferred op so that no more than that many are outstanding, and settles all of them before the outputs
// are read and when a run fails. Results match the same backend run without deferral and the float64 oracle.
import { describe, expect, it } from 'vitest';
import type { AnyBackend } from '../backend.js';
import type { Tensor } from '../ir/tensor.js';
import { sizeOf, type TensorData, type TensorType, tensorData } from '../ir/types.js';
import * as F from '../ops/functional.js';
import { evaluateF64 } from '../testing/reference-kernels.js';
import { compile } from './compile.js';
import { type Graph, trace } from './graph.js';
import { DEFERRED_OUTSTANDING } from './plan.js';

/** A tensor of the test backend: a dense row-major view into its arena. */
interface T32 {
  data: Float32Array;
  shape: readonly number[];
}

/** C = op(A) op(B) for dense 2-D tensors. */
function matmulInto(a: T32, b: T32, c: T32, transA: boolean, transB: boolean): void {
  const [m, n] = c.shape;
  const k = transA ? a.shape[0] : a.shape[1];
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++)
        s +=
          a.data[transA ? t * a.shape[1] + i : i * a.shape[1] + t] *
          b.data[transB ? j * b.shape[1] + t : t * b.shape[1] + j];
      c.data[i * n + j] = s;
    }
}

/** The test backend (matmul and add only) and what it saw. */
function lazyBackend(opts: { defer: boolean; failAdd?: () => boolean }) {
  const queue: (() => void)[] = [];
  const seen = { settles: [] as number[], deferred: 0, maxOutstanding: 0 };
  const backend = {
    name: 'lazy',
    capabilities: {
      zeroCopyViews: false,
      syncRead: true,
      dtypes: ['float32'],
      precision: 'float32',
      subAllocation: true,
    },
    kernels: {
      matmul: (args: {
        inputs: T32[];
        out: T32;
        attrs: { transA?: boolean; transB?: boolean };
        deferred?: boolean;
      }) => {
        const [a, b] = args.inputs;
        const run = () => matmulInto(a, b, args.out, !!args.attrs.transA, !!args.attrs.transB);
        if (!args.deferred) run();
        else {
          // finished only at settle: reads its inputs then, wherever the plan left them
          queue.push(run);
          seen.deferred++;
          seen.maxOutstanding = Math.max(seen.maxOutstanding, queue.length);
        }
        return args.out;
      },
      add: (args: { inputs: T32[]; out: T32 }) => {
        if (opts.failAdd?.()) throw new Error('add failed on purpose');
        const [a, b] = args.inputs;
        for (let i = 0; i < args.out.data.length; i++) args.out.data[i] = a.data[i] + b.data[i];
        return args.out;
      },
    },
    defers: opts.defer ? (op: string) => op === 'matmul' : undefined,
    settle: (outstanding: number) => {
      seen.settles.push(outstanding);
      const done = queue.splice(0, Math.max(0, queue.length - outstanding));
      for (const run of done) run();
    },
    allocate: (bytes: number) => new ArrayBuffer(bytes),
    release() {},
    wrap: (s: ArrayBuffer, type: TensorType, byteOffset = 0): T32 => ({
      data: new Float32Array(s, byteOffset, sizeOf(type.shape)),
      shape: type.shape,
    }),
    write: (dst: T32, d: TensorData) => dst.data.set(d.data),
    read: async (t: T32) => tensorData([...t.shape], Float32Array.from(t.data)),
    dispose() {},
  };
  return { backend: backend as unknown as AnyBackend, queue, seen };
}

/** x [8, 8], W [8, 8]: h(i+1) = h(i) W + h(i), every g(i) = h(i)^T h(i) an output nobody reads. */
const STEPS = 10;
const chain: Graph = trace((b) => {
  let h: Tensor = b.input('x', [8, 8]);
  const w = b.input('w', [8, 8]);
  const out: Record<string, Tensor> = {};
  for (let i = 0; i < STEPS; i++) {
    const next = F.add(F.matmul(h, w), h);
    out[`g${i}`] = F.matmul(h, h, { transA: true });
    h = next;
  }
  out.h = h;
  return out;
});

const inputs = {
  x: tensorData(
    [8, 8],
    Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 1.7)),
  ),
  w: tensorData(
    [8, 8],
    Float32Array.from({ length: 64 }, (_, i) => 0.1 * Math.cos(i * 2.3)),
  ),
};

describe('deferred ops in compiled runs', () => {
  it('plans the output-only products as deferred, keeping their inputs alive until they are settled', async () => {
    const { backend } = lazyBackend({ defer: true });
    const c = await compile(chain, backend);
    const g = c.graph;
    const outputs = new Set(g.outputs.values());
    // every g(i) product, none of the h(i) W products (an add reads those)
    expect(c.plan.deferred.map((id) => g.nodes[id].op)).toEqual(Array(STEPS).fill('matmul'));
    expect(c.plan.deferred.every((id) => outputs.has(id))).toBe(true);
    c.plan.deferred.forEach((id, i) => {
      const settledAt = c.plan.deferred[i + DEFERRED_OUTSTANDING] ?? g.nodes.length;
      for (const input of g.nodes[id].inputs)
        expect(c.plan.lastUse[c.plan.root[input]]).toBeGreaterThanOrEqual(settledAt);
    });
    const plain = await compile(chain, lazyBackend({ defer: false }).backend);
    expect(plain.plan.deferred).toEqual([]);
    // the longer lives cost memory: h(i) cannot be reused before g(i) is finished
    expect(c.plan.arenaBytes).toBeGreaterThan(plain.plan.arenaBytes);
  });

  it('settles at most DEFERRED_OUTSTANDING at a time and all before reading: the same results', async () => {
    const lazy = lazyBackend({ defer: true });
    const eager = lazyBackend({ defer: false });
    const got = await (await compile(chain, lazy.backend)).run(inputs);
    const want = await (await compile(chain, eager.backend)).run(inputs);
    expect(lazy.seen.deferred).toBe(STEPS);
    expect(eager.seen.deferred).toBe(0);
    expect(lazy.seen.maxOutstanding).toBe(DEFERRED_OUTSTANDING);
    expect(lazy.queue).toHaveLength(0);
    // before each deferred op all but the newest DEFERRED_OUTSTANDING - 1, then all of them
    expect(lazy.seen.settles).toEqual([...Array(STEPS).fill(DEFERRED_OUTSTANDING - 1), 0]);
    const oracle = evaluateF64(chain, inputs);
    for (const name of Object.keys(want)) {
      expect([...got[name].data], name).toEqual([...want[name].data]);
      const ref = oracle[name].data;
      const scale = Math.max(...ref.map(Math.abs));
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[name].data[i] - ref[i]));
      expect(worst, name).toBeLessThanOrEqual(1e-5 * scale);
    }
  });

  it('settles every deferred op when a run fails, and reports the failure itself', async () => {
    let adds = 0;
    const lazy = lazyBackend({ defer: true, failAdd: () => ++adds === 4 });
    const c = await compile(chain, lazy.backend);
    await expect(c.run(inputs)).rejects.toThrow('add failed on purpose');
    expect(lazy.seen.deferred).toBeGreaterThan(0);
    expect(lazy.queue).toHaveLength(0);
    expect(lazy.seen.settles.at(-1)).toBe(0);
    // and the graph runs again, correctly
    const again = await c.run(inputs);
    const want = await (await compile(chain, lazyBackend({ defer: false }).backend)).run(inputs);
    expect([...again.g0.data]).toEqual([...want.g0.data]);
  });
});
