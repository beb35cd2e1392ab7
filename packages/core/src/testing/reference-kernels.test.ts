// Tests of the float64 oracle itself: hand-checkable small cases for the primitives, erf against known
// values, and the lowered DynLinear / DynDWConv graphs against the float64 PyTorch reference fixtures.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { trace } from '../graph/graph.js';
import { parseSafetensors } from '../io/safetensors.js';
import { erf } from '../ir/math.js';
import { OPS, type OpName } from '../ir/ops.js';
import type { Tensor } from '../ir/tensor.js';
import { type TensorData, tensorData } from '../ir/types.js';
import * as F from '../ops/functional.js';
import {
  expectClose,
  maxAbs,
  maxAbsDiff,
  randomTensor,
  rng,
  toleranceBound,
  withinTolerance,
} from './compare.js';
import { evaluateF64, type F64Data, missingReferenceOps, referenceOps } from './reference-kernels.js';

const f32 = (shape: number[], data: number[]): TensorData => tensorData(shape, Float32Array.from(data));
const i32 = (shape: number[], data: number[]): TensorData => tensorData(shape, Int32Array.from(data));

/** Evaluates a one-input graph `fn(x)` on `x` and returns the output. */
function run1(x: TensorData, fn: (t: Tensor) => Tensor): F64Data {
  const g = trace((b) => fn(b.input('x', x.shape, x.dtype)));
  return evaluateF64(g, { x }).output;
}

/** Evaluates a two-input graph `fn(a, b)`. */
function run2(a: TensorData, b: TensorData, fn: (a: Tensor, b: Tensor) => Tensor): F64Data {
  const g = trace((gb) => fn(gb.input('a', a.shape, a.dtype), gb.input('b', b.shape, b.dtype)));
  return evaluateF64(g, { a, b }).output;
}

const arr = (t: F64Data): number[] => Array.from(t.data);

describe('reference kernels: coverage', () => {
  it('has a kernel for every primitive of the op table', () => {
    expect(missingReferenceOps()).toEqual([]);
    const prims = (Object.keys(OPS) as OpName[]).filter((op) => OPS[op].kind !== 'composite');
    expect(referenceOps().sort()).toEqual(prims.sort());
  });
});

describe('reference kernels: hand-checked cases', () => {
  it('matmul 2x3 @ 3x2, with transposed operands and broadcast batch', () => {
    const a = f32([2, 3], [1, 2, 3, 4, 5, 6]);
    const b = f32([3, 2], [7, 8, 9, 10, 11, 12]);
    const y = run2(a, b, (p, q) => F.matmul(p, q));
    expect(y.shape).toEqual([2, 2]);
    expect(arr(y)).toEqual([58, 64, 139, 154]);
    const at = f32([3, 2], [1, 4, 2, 5, 3, 6]);
    const bt = f32([2, 3], [7, 9, 11, 8, 10, 12]);
    expect(arr(run2(at, b, (p, q) => F.matmul(p, q, { transA: true })))).toEqual([58, 64, 139, 154]);
    expect(arr(run2(a, bt, (p, q) => F.matmul(p, q, { transB: true })))).toEqual([58, 64, 139, 154]);
    expect(arr(run2(at, bt, (p, q) => F.matmul(p, q, { transA: true, transB: true })))).toEqual([
      58, 64, 139, 154,
    ]);
    // batch broadcast: [2,1,2,3] @ [3,3,2] -> [2,3,2,2]; batch (i, j) uses a[i] and b[j].
    const a4 = f32([2, 1, 2, 3], [1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6]);
    const b3 = f32([3, 3, 2], [7, 8, 9, 10, 11, 12, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1]);
    const y4 = run2(a4, b3, (p, q) => F.matmul(p, q));
    expect(y4.shape).toEqual([2, 3, 2, 2]);
    expect(arr(y4)).toEqual([
      58, 64, 139, 154, 1, 2, 4, 5, 3, 3, 6, 6, -58, -64, -139, -154, -1, -2, -4, -5, -3, -3, -6, -6,
    ]);
  });

  it('conv2d 1x1 with bias is a per-pixel channel mix', () => {
    const x = f32([1, 2, 2, 2], [1, 2, 3, 4, 10, 20, 30, 40]);
    const w = f32([3, 2, 1, 1], [1, 0, 0, 1, 2, -1]);
    const bias = f32([3], [0.5, 0, -1]);
    const g = trace((b) =>
      F.conv2d(b.input('x', x.shape), b.input('w', w.shape), b.input('bias', bias.shape)),
    );
    const y = evaluateF64(g, { x, w, bias }).output;
    expect(y.shape).toEqual([1, 3, 2, 2]);
    expect(arr(y)).toEqual([
      1.5,
      2.5,
      3.5,
      4.5,
      10,
      20,
      30,
      40,
      2 - 10 - 1,
      4 - 20 - 1,
      6 - 30 - 1,
      8 - 40 - 1,
    ]);
  });

  it('conv2d 3x3 padding 1, stride 2, groups, matches a direct sum', () => {
    const x = f32([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const w = f32([1, 1, 3, 3], [0, 1, 0, 1, 1, 1, 0, 1, 0]); // a plus-shaped stencil
    const y = run2(x, w, (p, q) => F.conv2d(p, q, undefined, { padding: 1 }));
    expect(arr(y)).toEqual([
      1 + 2 + 4,
      2 + 1 + 3 + 5,
      3 + 2 + 6,
      4 + 1 + 5 + 7,
      5 + 2 + 4 + 6 + 8,
      6 + 3 + 5 + 9,
      7 + 4 + 8,
      8 + 5 + 7 + 9,
      9 + 6 + 8,
    ]);
    const ys = run2(x, w, (p, q) => F.conv2d(p, q, undefined, { padding: 1, stride: 2 }));
    expect(ys.shape).toEqual([1, 1, 2, 2]);
    expect(arr(ys)).toEqual([7, 11, 19, 23]);
    // groups=2: channel 0 uses weight 0 only, channel 1 weight 1 only.
    const x2 = f32([1, 2, 1, 1], [3, 5]);
    const w2 = f32([2, 1, 1, 1], [2, -1]);
    expect(arr(run2(x2, w2, (p, q) => F.conv2d(p, q, undefined, { groups: 2 })))).toEqual([6, -5]);
  });

  it('adaptive average pooling uses the overlapping SPEC bins (10 -> 3 and 14 -> 3)', () => {
    for (const [h, w] of [
      [10, 10],
      [14, 14],
      [14, 10],
      [7, 5],
    ]) {
      const x = randomTensor([2, 3, h, w], rng(h * 31 + w));
      const y = run1(x, (t) => F.adaptiveAvgPool2d(t, 3));
      const bins = (n: number): [number, number][] =>
        n === 10
          ? [
              [0, 4],
              [3, 7],
              [6, 10],
            ]
          : n === 14
            ? [
                [0, 5],
                [4, 10],
                [9, 14],
              ]
            : [0, 1, 2].map(
                (i) => [Math.floor((i * n) / 3), Math.ceil(((i + 1) * n) / 3)] as [number, number],
              );
      const expected: number[] = [];
      for (let p = 0; p < 6; p++) {
        for (const [r0, r1] of bins(h)) {
          for (const [c0, c1] of bins(w)) {
            let s = 0;
            for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) s += x.data[p * h * w + r * w + c];
            expected.push(s / ((r1 - r0) * (c1 - c0)));
          }
        }
      }
      expect(y.shape).toEqual([2, 3, 3, 3]);
      expect(maxAbsDiff(y, { shape: [2, 3, 3, 3], data: expected })).toBeLessThan(1e-15);
    }
  });

  it('avg_pool2d drops an incomplete last row and column', () => {
    const x = f32([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(arr(run1(x, (t) => F.avgPool2d(t, 2)))).toEqual([3]);
    expect(arr(run1(x, (t) => F.avgPool2d(t, 2, 1)))).toEqual([3, 4, 6, 7]);
  });

  it('erf matches high-precision values', () => {
    const known: [number, number][] = [
      [0, 0],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [-1, -0.8427007929497149],
      [1e-3, 0.0011283787909692365],
      [2, 0.9953222650189527],
      [2.5, 0.999593047982555],
      [3, 0.9999779095030014],
      [3.5, 0.9999992569016276],
      [4.5, 0.9999999998033839],
      [7, 1],
    ];
    for (const [x, want] of known)
      expect(Math.abs(erf(x) - want)).toBeLessThanOrEqual(2e-16 + 1e-15 * Math.abs(want));
    // erfc at 3 and 4 (the continued-fraction branch), where 1 - erf keeps 5 to 8 significant digits.
    expect(Math.abs(1 - erf(3) - 2.209049699858544e-5) / 2.209049699858544e-5).toBeLessThan(1e-10);
    expect(Math.abs(1 - erf(4) - 1.541725790028002e-8) / 1.541725790028002e-8).toBeLessThan(1e-7);
    const y = run1(f32([1], [0.5]), (t) => F.erf(t));
    expect(y.data[0]).toBeCloseTo(0.5204998778130465, 15);
  });

  it('composites evaluate through their lowering (gelu, silu, linear)', () => {
    const x = f32([3], [-1, 0, 1]);
    const g = run1(x, (t) => F.gelu(t));
    expect(Math.abs(g.data[2] - 0.8413447460685429)).toBeLessThan(1e-7); // sqrt(1/2) is a float32 constant
    expect(Math.abs(g.data[0] + 0.15865525393145707)).toBeLessThan(1e-7);
    const s = run1(x, (t) => F.silu(t));
    expect(Math.abs(s.data[2] - 1 / (1 + Math.exp(-1)))).toBeLessThan(1e-15);
    const w = f32([2, 3], [1, 2, 3, 0, 0, 1]);
    const l = run2(x, w, (p, q) => F.linear(p, q));
    expect(arr(l)).toEqual([2, 1]);
  });

  it('reductions, layer norm and a stable softmax', () => {
    const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
    expect(arr(run1(x, (t) => F.sum(t, 1)))).toEqual([6, 15]);
    expect(run1(x, (t) => F.sum(t, 0, true)).shape).toEqual([1, 3]);
    expect(arr(run1(x, (t) => F.mean(t, [0, 1])))).toEqual([3.5]);
    expect(arr(run1(x, (t) => F.max(t, 0)))).toEqual([4, 5, 6]);
    expect(arr(run1(f32([2], [3, 4]), (t) => F.l2norm(t)))).toEqual([5]);
    const ln = run1(f32([1, 4], [1, 2, 3, 4]), (t) => F.layerNorm(t, undefined, undefined, 0));
    const sd = Math.sqrt(1.25);
    expect(maxAbsDiff(ln, { shape: [1, 4], data: [-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd] })).toBeLessThan(
      1e-15,
    );
    const big = trace((b) => F.softmax(b.input('x', [1, 3])));
    const sm = evaluateF64(big, {
      x: { shape: [1, 3], data: Float64Array.of(1000, 1000, 1000 + Math.log(2)) },
    }).output;
    expect(maxAbsDiff(sm, { shape: [1, 3], data: [0.25, 0.25, 0.5] })).toBeLessThan(1e-12);
    const sm0 = run1(f32([2, 1], [0, Math.fround(Math.log(3))]), (t) => F.softmax(t, 0));
    const e3 = Math.exp(Math.fround(Math.log(3)));
    expect(maxAbsDiff(sm0, { shape: [2, 1], data: [1 / (1 + e3), e3 / (1 + e3)] })).toBeLessThan(1e-15);
  });

  it('views and data movement', () => {
    const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
    expect(arr(run1(x, (t) => F.permute(t, [1, 0])))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(arr(run1(x, (t) => F.reshape(F.permute(t, [1, 0]), [-1])))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(arr(run1(x, (t) => F.sliceAxis(t, 1, 0, 3, 2)))).toEqual([1, 3, 4, 6]);
    const e = run1(f32([2, 1], [1, 2]), (t) => F.expand(t, [3, 2, 2]));
    expect(e.shape).toEqual([3, 2, 2]);
    expect(arr(e)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2]);
    expect(
      arr(
        run1(x, (t) =>
          F.pad(
            t,
            [
              [0, 1],
              [1, 0],
            ],
            -1,
          ),
        ),
      ),
    ).toEqual([-1, 1, 2, 3, -1, 4, 5, 6, -1, -1, -1, -1]);
    expect(arr(run2(x, f32([2, 1], [7, 8]), (a, b) => F.concat([a, b], 1)))).toEqual([
      1, 2, 3, 7, 4, 5, 6, 8,
    ]);
    expect(arr(run2(x, f32([1, 3], [7, 8, 9]), (a, b) => F.concat([a, b], 0)))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    const c = run1(f32([4], [-2.7, -0.5, 0.5, 2.7]), (t) => F.cast(t, 'int32'));
    expect(arr(c)).toEqual([-2, -0, 0, 2]);
    const table = f32([3, 2], [0, 1, 10, 11, 20, 21]);
    const gth = run2(table, i32([2, 2], [2, 0, 1, 1]), (a, b) => F.gather(a, b));
    expect(gth.shape).toEqual([2, 2, 2]);
    expect(arr(gth)).toEqual([20, 21, 0, 1, 10, 11, 10, 11]);
    expect(() => run2(table, i32([1], [3]), (a, b) => F.gather(a, b))).toThrow(/out of range/);
  });

  it('broadcasting binary ops', () => {
    const a = f32([2, 1, 3], [1, 2, 3, 4, 5, 6]);
    const b = f32([2, 1], [10, 20]);
    const y = run2(a, b, (p, q) => F.sub(p, q));
    expect(y.shape).toEqual([2, 2, 3]);
    expect(arr(y)).toEqual([-9, -8, -7, -19, -18, -17, -6, -5, -4, -16, -15, -14]);
    expect(arr(run1(f32([3], [-1, 0, 2]), (t) => F.pow(t, 2)))).toEqual([1, 0, 4]);
    expect(arr(run1(f32([3], [-1, 0, 2]), (t) => F.maximum(t, 0.5)))).toEqual([0.5, 0.5, 2]);
  });

  it('rejects missing and mis-shaped inputs', () => {
    const g = trace((b) => F.neg(b.input('x', [2])));
    expect(() => evaluateF64(g, {})).toThrow(/missing input "x"/);
    expect(() => evaluateF64(g, { x: f32([3], [1, 2, 3]) })).toThrow(/\[3\]/);
    expect(() => evaluateF64(g, { x: f32([2], [1, 2]), y: f32([1], [0]) })).toThrow(/unexpected input "y"/);
  });
});

describe('compare helpers', () => {
  it('implement the project bound and report the worst element', () => {
    const ref = { shape: [2, 2], data: [1, -4, 2, 0] };
    const y = { shape: [2, 2], data: [1, -4.0003, 2.0001, 0] };
    expect(maxAbs(ref)).toBe(4);
    expect(maxAbsDiff(y, ref)).toBeCloseTo(3e-4, 12);
    expect(withinTolerance(y, ref, 1e-4)).toBe(true); // 3e-4 <= 1e-4 * 4
    expect(withinTolerance(y, ref, 5e-5)).toBe(false);
    expect(() => expectClose(y, ref, 5e-5, 'case')).toThrow(/case: .*index 1 \[0,1\]/);
    expect(withinTolerance({ shape: [1], data: [Number.NaN] }, { shape: [1], data: [0] }, 1)).toBe(false);
    expect(() => expectClose({ shape: [1], data: [0] }, { shape: [2], data: [0, 0] }, 1, 'shape')).toThrow(
      /shapes differ/,
    );
  });

  it("bound small outputs by their own scale with 'output': a softmax over 257 values", () => {
    const r = rng(257);
    const x = randomTensor([1, 257], r, { lo: -2, hi: 2 });
    const ref = evaluateF64(
      trace((b) => ({ y: F.softmax(b.input('x', [1, 257])) })),
      { x },
    ).y;
    const top = maxAbs(ref);
    expect(top).toBeLessThan(0.05);
    // An error of 1e-4 on the smallest entry: a large relative error, yet within the unit-scale bound.
    let smallest = 0;
    for (let i = 1; i < 257; i++) if (ref.data[i] < ref.data[smallest]) smallest = i;
    expect(ref.data[smallest]).toBeLessThan(1e-3);
    const y = { shape: [1, 257], data: Array.from(ref.data, (v, i) => (i === smallest ? v + 1e-4 : v)) };
    expect(withinTolerance(y, ref, 1e-4)).toBe(true);
    expect(withinTolerance(y, ref, 1e-4, 'output')).toBe(false);
    expect(toleranceBound(ref, 1e-4, 'output')).toBeCloseTo(1e-4 * top, 15);
    expect(() => expectClose(y, ref, 1e-4, 'softmax', 'output')).toThrow(
      /softmax: .* exceeds bound .*\(rel 0\.0001 \* max\|ref\| = /,
    );
    // float32 rounding of the same values passes the tight bound.
    const f32y = { shape: [1, 257], data: Float32Array.from(ref.data) };
    expect(expectClose(f32y, ref, 1e-4, 'softmax f32', 'output')).toBeLessThan(1e-8);
  });
});

// ---- the lowered DynLinear / DynDWConv against the float64 PyTorch reference ----

const REF_DIR = new URL('../../../test-fixtures/reference/', import.meta.url);
const readRef = (name: string) =>
  parseSafetensors(new Uint8Array(readFileSync(fileURLToPath(new URL(name, REF_DIR)))));

describe('reference kernels: DynLinear / DynDWConv lowerings against the fixtures', () => {
  const weights = readRef('wfm-micro.safetensors');
  const p = (name: string) => weights.tensor(`blocks.1.${name}`);
  for (const run of ['wfm-micro-64', 'wfm-micro-80']) {
    const io = readRef(`${run}.io.safetensors`);

    it(`${run}: dyn_linear (bilateral) matches dynlinear.output`, () => {
      const x = io.tensor('dynlinear.input');
      const ref = io.tensor('dynlinear.output');
      const s = Math.floor(Math.sqrt(x.shape[1]));
      const g = trace((b) =>
        F.dynLinear(
          b.input('x', x.shape),
          {
            w: b.constant(p('linear1.w')),
            b: b.constant(p('linear1.b')),
            wfm_weight: b.constant(p('linear1.wfm.weight')),
            wfm_bias: b.constant(p('linear1.wfm.bias')),
            w1: b.constant(p('linear1.w1')),
            w2: b.constant(p('linear1.w2')),
          },
          { grid: [s, s] },
        ),
      );
      const y = evaluateF64(g, { x }).output;
      const err = expectClose(y, ref, 1e-5, `${run} dynlinear`);
      expect(err / Math.max(1, maxAbs(ref))).toBeLessThan(5e-7);
    });

    it(`${run}: dyn_dwconv (adaptive) matches dyndwc.output`, () => {
      const x = io.tensor('dyndwc.input');
      const ref = io.tensor('dyndwc.output');
      const g = trace((b) =>
        F.dynDWConv(b.input('x', x.shape), {
          w: b.constant(p('dwc.w')),
          b: b.constant(p('dwc.b')),
          wfm0_weight: b.constant(p('dwc.wfm.0.weight')),
          wfm0_bias: b.constant(p('dwc.wfm.0.bias')),
          wfm2_weight: b.constant(p('dwc.wfm.2.weight')),
        }),
      );
      const y = evaluateF64(g, { x }).output;
      const err = expectClose(y, ref, 1e-5, `${run} dyndwc`);
      expect(err / Math.max(1, maxAbs(ref))).toBeLessThan(5e-7);
    });
  }
});
