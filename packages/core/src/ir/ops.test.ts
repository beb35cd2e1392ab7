// Shape rules of the op table: good shapes give the documented output types, bad ones a ShapeError that
// names the op and the shapes.
import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ShapeError } from '../errors.js';
import { trace } from '../graph/graph.js';
import * as F from '../ops/functional.js';
import { evaluateF64 } from '../testing/reference-kernels.js';
import {
  ACTIVATION_OPS,
  type ActivationOp,
  absorbsActivation,
  BINARY_OPS,
  type BinaryOp,
  binaryScalar,
  COMPOSITE_OPS,
  type CompositeOp,
  inferType,
  OP_NAMES,
  OPS,
  type OpName,
  type PrimitiveOp,
  REDUCE_OPS,
  type ReduceOp,
  UNARY_OPS,
  type UnaryOp,
  unaryScalar,
  VIEW_OPS,
  type ViewOp,
  viewStridesOf,
} from './ops.js';
import { broadcastShapes } from './shape-utils.js';
import type { Tensor } from './tensor.js';
import type { TensorType } from './types.js';

const t = (...shape: number[]): TensorType => ({ shape, dtype: 'float32' });
const ti = (...shape: number[]): TensorType => ({ shape, dtype: 'int32' });

function shapeOf<K extends OpName>(op: K, inputs: TensorType[], attrs: unknown): readonly number[] {
  return inferType(op, inputs, attrs as never).shape;
}

function rejects<K extends OpName>(op: K, inputs: TensorType[], attrs: unknown, pattern: RegExp): void {
  let err: unknown;
  try {
    inferType(op, inputs, attrs as never);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ShapeError);
  expect((err as Error).message.startsWith(`${op}:`)).toBe(true);
  expect((err as Error).message).toMatch(pattern);
}

describe('op table', () => {
  it('every entry is complete: name matches key, doc, arity, and a lowering exactly for composites', () => {
    for (const op of OP_NAMES) {
      const def = OPS[op];
      expect(def.name).toBe(op);
      expect(def.doc.length).toBeGreaterThan(10);
      expect(def.arity[0]).toBeLessThanOrEqual(def.arity[1]);
      expect(!!def.lower).toBe(def.kind === 'composite');
      if (def.kind !== 'composite') expect(typeof def.flops).toBe('function');
    }
  });

  it('rejects the wrong number of inputs', () => {
    rejects('add', [t(2)], {}, /takes 2 inputs, got 1/);
    rejects('conv2d', [t(1, 1, 3, 3)], { stride: [1, 1], padding: [0, 0], groups: 1 }, /2 to 3 inputs/);
  });
});

describe('broadcasting', () => {
  it('follows NumPy rules', () => {
    expect(shapeOf('add', [t(2, 1, 4), t(3, 1)], {})).toEqual([2, 3, 4]);
    expect(shapeOf('mul', [t(), t(5)], {})).toEqual([5]);
    rejects('sub', [t(2, 3), t(4, 3)], {}, /cannot broadcast \[2,3\] with \[4,3\]/);
  });
  it('is commutative and idempotent (property)', () => {
    const dim = fc.integer({ min: 1, max: 4 });
    fc.assert(
      fc.property(
        fc.array(dim, { maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        (s, ones) => {
          const u = s.map((d, i) => (ones[i] ? 1 : d));
          const ab = broadcastShapes('add', s, u);
          expect(ab).toEqual(broadcastShapes('add', u, s));
          expect(ab).toEqual(s);
          expect(broadcastShapes('add', ab, ab)).toEqual(ab);
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });
  it('rejects int32 operands of float ops', () => {
    rejects('exp', [ti(3)], {}, /expects float32 inputs, got int32\[3\]/);
  });
});

describe('reductions, matmul, conv, pooling', () => {
  it('reduce keeps or drops axes and rejects bad axes', () => {
    expect(shapeOf('sum', [t(2, 3, 4)], { axes: [1], keepDims: false })).toEqual([2, 4]);
    expect(shapeOf('l2norm', [t(2, 3, 4)], { axes: [-1, 0], keepDims: true })).toEqual([1, 3, 1]);
    rejects('mean', [t(2, 3)], { axes: [2], keepDims: false }, /axis 2 is out of range for shape \[2,3\]/);
    rejects('sum', [t(2, 3)], { axes: [1, -1], keepDims: false }, /repeated axis/);
  });
  it('matmul transposes and broadcasts batch axes', () => {
    expect(shapeOf('matmul', [t(5, 2, 3), t(3, 4)], {})).toEqual([5, 2, 4]);
    expect(shapeOf('matmul', [t(3, 2), t(4, 3)], { transA: true, transB: true })).toEqual([2, 4]);
    expect(shapeOf('matmul', [t(2, 1, 3, 4), t(6, 4, 5)], {})).toEqual([2, 6, 3, 5]);
    rejects('matmul', [t(2, 3), t(4, 5)], {}, /inner dimensions differ: \[2,3\] @ \[4,5\] \(3 vs 4\)/);
    rejects('matmul', [t(3), t(3, 2)], {}, /rank >= 2/);
  });
  it('conv2d covers patch embedding, depthwise 3x3 and stride/padding arithmetic', () => {
    const patch = { stride: [16, 16], padding: [0, 0], groups: 1 };
    expect(shapeOf('conv2d', [t(1, 3, 224, 224), t(192, 3, 16, 16), t(192)], patch)).toEqual([
      1, 192, 14, 14,
    ]);
    const dw = { stride: [1, 1], padding: [1, 1], groups: 64 };
    expect(shapeOf('conv2d', [t(2, 64, 10, 10), t(64, 1, 3, 3)], dw)).toEqual([2, 64, 10, 10]);
    expect(
      shapeOf('conv2d', [t(1, 4, 7, 7), t(8, 4, 3, 3)], { stride: [2, 2], padding: [1, 1], groups: 1 }),
    ).toEqual([1, 8, 4, 4]);
    rejects(
      'conv2d',
      [t(1, 6, 5, 5), t(4, 4, 3, 3)],
      { ...dw, groups: 2 },
      /\[1,6,5,5\] and weight \[4,4,3,3\].*groups=2/,
    );
    rejects('conv2d', [t(1, 3, 2, 2), t(4, 3, 5, 5)], { ...patch, stride: [1, 1] }, /does not fit/);
    rejects(
      'conv2d',
      [t(1, 3, 8, 8), t(4, 3, 1, 1), t(5)],
      { ...patch, stride: [1, 1] },
      /bias \[5\] must be \[4\]/,
    );
  });
  it('pooling: 2x2 drops an odd last row, adaptive accepts any size', () => {
    expect(shapeOf('avg_pool2d', [t(1, 2, 7, 5)], { kernel: [2, 2], stride: [2, 2] })).toEqual([1, 2, 3, 2]);
    expect(shapeOf('adaptive_avg_pool2d', [t(1, 2, 14, 10)], { outSize: [3, 3] })).toEqual([1, 2, 3, 3]);
    rejects(
      'avg_pool2d',
      [t(1, 2, 1, 5)],
      { kernel: [2, 2], stride: [2, 2] },
      /larger than input \[1,2,1,5\]/,
    );
  });
  it('layer_norm checks affine parameters; gather needs int32 indices', () => {
    expect(shapeOf('layer_norm', [t(2, 5, 8), t(8), t(8)], { eps: 1e-6 })).toEqual([2, 5, 8]);
    rejects('layer_norm', [t(2, 8), t(7)], { eps: 1e-6 }, /\[7\] must be \[8\]/);
    expect(shapeOf('gather', [t(11, 64), ti(2, 3)], {})).toEqual([2, 3, 64]);
    rejects('gather', [t(11, 64), t(2)], {}, /indices must be int32/);
  });
});

describe('views', () => {
  it('reshape infers -1 and rejects size changes', () => {
    expect(shapeOf('reshape', [t(2, 3, 4)], { shape: [-1, 4] })).toEqual([6, 4]);
    rejects('reshape', [t(2, 3)], { shape: [4, 2] }, /cannot reshape \[2,3\] \(6 elements\) to \[4,2\]/);
  });
  it('permute, slice, concat, pad', () => {
    expect(shapeOf('permute', [t(2, 3, 4)], { perm: [2, 0, 1] })).toEqual([4, 2, 3]);
    rejects('permute', [t(2, 3)], { perm: [0, 0] }, /not a permutation/);
    expect(shapeOf('slice', [t(10, 4)], { begin: [1, 0], end: [10, 4], step: [3, 1] })).toEqual([3, 4]);
    rejects('slice', [t(10)], { begin: [2], end: [11], step: [1] }, /axis 0: range \[2,11\)/);
    expect(shapeOf('concat', [t(2, 3), t(2, 5)], { axis: -1 })).toEqual([2, 8]);
    rejects('concat', [t(2, 3), t(3, 3)], { axis: 1 }, /\[2,3\], \[3,3\] differ off axis 1/);
    expect(
      shapeOf('pad', [t(2, 3)], {
        pads: [
          [1, 0],
          [2, 2],
        ],
        value: 0,
      }),
    ).toEqual([3, 7]);
  });
});

describe('composites', () => {
  it('linear, attention', () => {
    expect(shapeOf('linear', [t(2, 5, 8), t(16, 8), t(16)], {})).toEqual([2, 5, 16]);
    rejects('linear', [t(2, 8), t(8, 16)], {}, /input \[2,8\] does not match weight \[8,16\]/);
    expect(shapeOf('attention', [t(2, 7, 12), t(2, 9, 12), t(2, 9, 6)], { heads: 3 })).toEqual([2, 7, 6]);
    rejects('attention', [t(2, 7, 12), t(2, 9, 12), t(2, 9, 12)], { heads: 5 }, /not divisible by 5 heads/);
  });
  it('dyn_linear checks the grid and lists every mis-shaped parameter', () => {
    const x = t(1, 64, 64);
    const good = [t(64, 256), t(256), t(80, 64), t(80), t(16, 64), t(64, 256)];
    expect(shapeOf('dyn_linear', [x, ...good], { strategy: 'bilateral', grid: [8, 8] })).toEqual([
      1, 64, 256,
    ]);
    expect(shapeOf('dyn_linear', [t(1, 12, 64), ...good], { strategy: 'bilateral', grid: [3, 4] })).toEqual([
      1, 12, 256,
    ]);
    rejects(
      'dyn_linear',
      [x, ...good],
      { strategy: 'bilateral', grid: [7, 9] },
      /grid 7x9 does not hold the 64 tokens/,
    );
    const bad = [t(64, 256), t(256), t(81, 64), t(80), t(16, 63), t(64, 256)];
    rejects(
      'dyn_linear',
      [x, ...bad],
      { strategy: 'bilateral', grid: [8, 8] },
      /wfm_weight is \[81,64\], expected \[80,64\]; w1 is \[16,63\], expected \[16,64\]/,
    );
    rejects('dyn_linear', [x, ...good], { strategy: 'magic', grid: [8, 8] }, /unknown strategy "magic"/);
  });
  it('dyn_dwconv checks parameter shapes per strategy', () => {
    const x = t(2, 8, 5, 5);
    const adaptive = [t(8, 1, 3, 3), t(8), t(8, 8, 1, 1), t(8), t(8, 8, 1, 1)];
    expect(shapeOf('dyn_dwconv', [x, ...adaptive], { strategy: 'adaptive' })).toEqual([2, 8, 5, 5]);
    rejects(
      'dyn_dwconv',
      [x, ...adaptive],
      { strategy: 'gap' },
      /wfm2_weight is \[8,8,1,1\], expected \[72,8,1,1\]/,
    );
  });
});

describe('op facts', () => {
  it('the lists by kind hold exactly the ops of that kind, in table order', () => {
    const lists: [string, readonly OpName[]][] = [
      ['unary', UNARY_OPS],
      ['binary', BINARY_OPS],
      ['reduce', REDUCE_OPS],
      ['view', VIEW_OPS],
      ['composite', COMPOSITE_OPS],
    ];
    for (const [kind, list] of lists) {
      expect(list.length).toBeGreaterThan(0);
      expect(list).toEqual(OP_NAMES.filter((op) => OPS[op].kind === kind));
    }
    expect(ACTIVATION_OPS).toEqual(OP_NAMES.filter((op) => OPS[op].absorbsActivation));
  });

  it('the derived types name the ops of their kind (spot checks)', () => {
    expectTypeOf<'neg' | 'cos'>().toMatchTypeOf<UnaryOp>();
    expectTypeOf<'add'>().not.toMatchTypeOf<UnaryOp>();
    expectTypeOf<'add' | 'greater'>().toMatchTypeOf<BinaryOp>();
    expectTypeOf<'neg'>().not.toMatchTypeOf<BinaryOp>();
    expectTypeOf<'sum' | 'reduce_max'>().toMatchTypeOf<ReduceOp>();
    expectTypeOf<'mean' | 'l2norm'>().not.toMatchTypeOf<ReduceOp>();
    expectTypeOf<
      'relu' | 'sigmoid' | 'mean' | 'l2norm' | 'softmax' | 'layer_norm'
    >().toMatchTypeOf<CompositeOp>();
    expectTypeOf<
      'relu' | 'sigmoid' | 'mean' | 'l2norm' | 'softmax' | 'layer_norm'
    >().not.toMatchTypeOf<PrimitiveOp>();
    expectTypeOf<'softmax'>().not.toMatchTypeOf<ReduceOp>();
    expectTypeOf<'reshape' | 'permute' | 'expand' | 'slice'>().toMatchTypeOf<ViewOp>();
    expectTypeOf<'concat'>().not.toMatchTypeOf<ViewOp>();
    expectTypeOf<'linear' | 'dyn_linear'>().toMatchTypeOf<ActivationOp>();
    expectTypeOf<'gelu'>().not.toMatchTypeOf<ActivationOp>();
    expectTypeOf<'dyn_dwconv'>().toMatchTypeOf<CompositeOp>();
    expectTypeOf<'matmul'>().not.toMatchTypeOf<CompositeOp>();
  });

  it('each fact sits on exactly the ops it belongs to', () => {
    for (const op of OP_NAMES) {
      const def = OPS[op];
      const elementwise = def.kind === 'unary' || def.kind === 'binary';
      expect(typeof def.scalar === 'function', op).toBe(elementwise);
      if (elementwise) expect(def.scalar?.length, op).toBe(def.kind === 'unary' ? 1 : 2);
      expect(typeof def.viewStrides === 'function', op).toBe(def.kind === 'view');
    }
  });

  // independent values (tables, identities), one row list per op: an op added to the table without
  // expectations here fails to compile
  const UNARY_VALUES: Record<UnaryOp, [number, number][]> = {
    neg: [
      [2, -2],
      [-0.5, 0.5],
    ],
    abs: [
      [-3, 3],
      [2, 2],
    ],
    exp: [
      [0, 1],
      [1, Math.E],
    ],
    log: [
      [1, 0],
      [Math.E, 1],
    ],
    sqrt: [
      [9, 3],
      [2, Math.SQRT2],
    ],
    tanh: [
      [0, 0],
      [0.5, 0.46211715726000974],
    ],
    erf: [
      [0, 0],
      [1, 0.8427007929497149],
      [-2.5, -0.999593047982555],
    ],
    sin: [
      [0, 0],
      [Math.PI / 2, 1],
    ],
    cos: [
      [0, 1],
      [Math.PI, -1],
    ],
  };
  const BINARY_VALUES: Record<BinaryOp, [number, number, number][]> = {
    add: [[2, 3, 5]],
    sub: [[2, 3, -1]],
    mul: [[2, 3, 6]],
    div: [[2, 4, 0.5]],
    max: [
      [2, 3, 3],
      [-1, -4, -1],
    ],
    min: [
      [2, 3, 2],
      [-1, -4, -4],
    ],
    pow: [
      [2, 3, 8],
      [4, 0.5, 2],
    ],
    greater: [
      [3, 2, 1],
      [2, 2, 0],
      [1, 2, 0],
    ],
  };

  // the elementwise composites that were unary primitives: their lowerings, evaluated in float64
  // (sigmoid at large |x|: relative error, no overflow, no 1 - p cancellation)
  const COMPOSITE_UNARY: Record<'relu' | 'sigmoid', { fn: (x: Tensor) => Tensor; rows: [number, number][] }> =
    {
      relu: {
        fn: F.relu,
        rows: [
          [-1, 0],
          [2.5, 2.5],
          [0, 0],
        ],
      },
      sigmoid: {
        fn: F.sigmoid,
        rows: [
          [0, 0.5],
          [2, 0.8807970779778823],
          [-2, 0.11920292202211755],
          [30, 0.9999999999999065],
          [-30, 9.3576229688393e-14],
          [-40, 4.248354255291589e-18],
          [80, 1],
          [-80, 1.8048513878454153e-35],
          [-700, 9.85967654375977e-305],
          [-Infinity, 0],
          [Infinity, 1],
        ],
      },
    };

  it('elementwise composites lower to the ops’ definitions', () => {
    for (const [op, { fn, rows }] of Object.entries(COMPOSITE_UNARY)) {
      expect(OPS[op as OpName].kind, op).toBe('composite');
      const graph = trace((g) => fn(g.input('x', [rows.length])));
      const data = Float64Array.from(rows.map((r) => r[0]));
      const y = evaluateF64(graph, { x: { shape: [rows.length], data } }).output.data;
      for (const [i, [xv, want]] of rows.entries()) {
        expect(Math.abs(y[i] - want), `${op}(${xv}) = ${y[i]}, want ${want}`).toBeLessThanOrEqual(
          1e-14 * Math.abs(want),
        );
      }
    }
  });

  it('unary scalar functions are the ops’ definitions', () => {
    for (const op of UNARY_OPS) {
      for (const [x, y] of UNARY_VALUES[op]) expect(unaryScalar(op)(x), `${op}(${x})`).toBeCloseTo(y, 14);
    }
  });

  it('binary scalar functions are the ops’ definitions', () => {
    for (const op of BINARY_OPS) {
      for (const [a, b, y] of BINARY_VALUES[op]) expect(binaryScalar(op)(a, b), `${op}(${a}, ${b})`).toBe(y);
    }
  });

  it('view stride rules map the input strides', () => {
    // [2,3,4] dense has strides [12,4,1]
    expect(viewStridesOf('permute', { perm: [2, 0, 1] }, [2, 3, 4], [12, 4, 1], [4, 2, 3])).toEqual([
      1, 12, 4,
    ]);
    expect(
      viewStridesOf('slice', { begin: [0, 1], end: [4, 8], step: [1, 2] }, [4, 8], [8, 1], [4, 4]),
    ).toEqual([8, 2]);
    expect(viewStridesOf('expand', { shape: [2, 3, 4] }, [3, 1], [1, 1], [2, 3, 4])).toEqual([0, 1, 0]);
    expect(viewStridesOf('reshape', { shape: [3, 2] }, [2, 3], [3, 1], [3, 2])).toEqual([2, 1]);
    // a reshape of a transposed [3,2] (strides [1,3]) cannot be a view
    expect(viewStridesOf('reshape', { shape: [6] }, [3, 2], [1, 3], [6])).toBeUndefined();
    expect(viewStridesOf('add', {}, [2], [1], [2])).toBeUndefined();
  });

  it('only ops with an activation attribute absorb one', () => {
    expect(absorbsActivation('linear')).toBe(true);
    expect(absorbsActivation('dyn_linear')).toBe(true);
    for (const op of ['gelu', 'matmul', 'dynamic_mlp', 'input', 'const', 'no_such_op'])
      expect(absorbsActivation(op), op).toBe(false);
  });
});
