// Every op of the table rejects inputs that do not fit it with a ShapeError that names the op and shows the
// offending shapes (or dtype): one bad call per op, and the table must have one for each op.
import { describe, expect, it } from 'vitest';
import { opTable } from '../backend.js';
import { fmtShape, ShapeError } from '../errors.js';
import { trace } from '../graph/graph.js';
import { BINARY_OPS, OP_NAMES, type OpName, REDUCE_OPS, UNARY_OPS } from './ops.js';

type In = number[] | { shape: number[]; dtype: 'int32' };

interface Bad {
  /** Inputs (float32 unless given as int32). */
  inputs: In[];
  attrs?: unknown;
  /** Text the message must show besides the op name (default: the first input's shape). */
  shows?: string[];
}

const i32 = (...shape: number[]) => ({ shape, dtype: 'int32' as const });
const BAD: Record<OpName, Bad> = {
  ...opTable(UNARY_OPS, (): Bad => ({ inputs: [i32(2, 3)], shows: ['int32'] })),
  ...opTable(BINARY_OPS, (): Bad => ({ inputs: [[2, 3], [4]], shows: [fmtShape([2, 3]), fmtShape([4])] })),
  ...opTable(REDUCE_OPS, (): Bad => ({ inputs: [[2, 3]], attrs: { axes: [2], keepDims: false } })),
  matmul: {
    inputs: [
      [2, 3],
      [4, 5],
    ],
    attrs: {},
    shows: [fmtShape([2, 3]), fmtShape([4, 5])],
  },
  conv2d: {
    inputs: [
      [1, 4, 5, 5],
      [6, 3, 3, 3],
    ],
    attrs: { stride: [1, 1], padding: [0, 0], groups: 2 },
    shows: [fmtShape([1, 4, 5, 5]), fmtShape([6, 3, 3, 3])],
  },
  avg_pool2d: { inputs: [[4, 5]], attrs: { kernel: [2, 2], stride: [2, 2] } },
  adaptive_avg_pool2d: { inputs: [[3, 4]], attrs: { outSize: [2, 2] } },
  layer_norm: { inputs: [[2, 8], [7]], attrs: { eps: 1e-5 }, shows: [fmtShape([7])] },
  softmax: { inputs: [[2, 3]], attrs: { axis: 5 } },
  gather: { inputs: [[10, 4], [3]], attrs: {}, shows: ['int32'] },
  cast: { inputs: [[2, 3]], attrs: { dtype: 'float64' }, shows: ['float64'] },
  reshape: { inputs: [[2, 3]], attrs: { shape: [4, 2] } },
  permute: { inputs: [[2, 3, 4]], attrs: { perm: [0, 0, 1] } },
  expand: { inputs: [[2, 3]], attrs: { shape: [4, 3] } },
  slice: { inputs: [[2, 3]], attrs: { begin: [0], end: [1], step: [1] } },
  concat: {
    inputs: [
      [2, 3],
      [2, 4],
    ],
    attrs: { axis: 0 },
    shows: [fmtShape([2, 3]), fmtShape([2, 4])],
  },
  pad: { inputs: [[2, 3]], attrs: { pads: [[1, 1]], value: 0 } },
  linear: {
    inputs: [
      [2, 5],
      [4, 6],
    ],
    attrs: {},
    shows: [fmtShape([2, 5]), fmtShape([4, 6])],
  },
  affine: { inputs: [[2, 5], [6, 3], [3]], attrs: {}, shows: [fmtShape([2, 5]), fmtShape([6, 3])] },
  gelu: { inputs: [i32(4)], attrs: { approximate: 'none' }, shows: ['int32'] },
  gelu_grad: {
    inputs: [
      [2, 3],
      [3, 2],
    ],
    attrs: { approximate: 'none' },
    shows: [fmtShape([3, 2]), fmtShape([2, 3])],
  },
  layer_norm_grad: {
    inputs: [
      [2, 3],
      [3, 2],
    ],
    attrs: { eps: 1e-6 },
    shows: [fmtShape([3, 2]), fmtShape([2, 3])],
  },
  depthwise_weight_grad: {
    inputs: [
      [1, 2, 5, 5],
      [1, 2, 4, 4],
    ],
    attrs: { kernel: [3, 3], stride: [1, 1], padding: [1, 1] },
    shows: [fmtShape([1, 2, 4, 4]), fmtShape([1, 2, 5, 5])],
  },
  mean: { inputs: [[2, 3]], attrs: { axes: [2], keepDims: false } },
  l2norm: { inputs: [[2, 3]], attrs: { axes: [2], keepDims: false } },
  relu: { inputs: [i32(2, 3)], shows: ['int32'] },
  sigmoid: { inputs: [i32(2, 3)], shows: ['int32'] },
  silu: { inputs: [i32(4)], attrs: {}, shows: ['int32'] },
  attention: {
    inputs: [
      [1, 4, 8],
      [1, 5, 6],
      [1, 5, 8],
    ],
    attrs: { heads: 2 },
    shows: [fmtShape([1, 4, 8]), fmtShape([1, 5, 6])],
  },
  attention_mlp: {
    inputs: [
      [1, 4, 8],
      [1, 5, 8],
      [1, 6, 8],
    ],
    attrs: { heads: 2 },
    shows: [fmtShape([1, 5, 8]), fmtShape([1, 6, 8])],
  },
  dynamic_mlp: {
    inputs: [
      [2, 5, 4],
      [2, 3, 6],
      [2, 6, 3],
    ],
    attrs: { activation: 'relu' },
    shows: [fmtShape([2, 5, 4]), fmtShape([2, 3, 6])],
  },
  dyn_weight: {
    inputs: [
      [2, 6, 5],
      [5, 6],
    ],
    attrs: { scale: 1 },
    shows: [fmtShape([2, 6, 5]), fmtShape([5, 6])],
  },
  dyn_weight_grad: {
    inputs: [
      [2, 6, 5],
      [2, 5, 6],
    ],
    attrs: { scale: 1 },
    shows: [fmtShape([2, 6, 5]), fmtShape([2, 5, 6])],
  },
  dyn_linear: {
    inputs: [[1, 12, 8], [8, 8], [8], [4, 8], [4], [2, 8], [2, 8]],
    attrs: { strategy: 'bilateral', grid: [3, 3] },
    shows: [fmtShape([1, 12, 8]), '3x3'],
  },
  dyn_dwconv: { inputs: [[1, 4, 5], [4, 1, 3, 3], [4]], attrs: { strategy: 'adaptive' } },
};

describe('every op rejects inputs that do not fit, naming the op and the shapes', () => {
  it('has a bad call for every op of the table', () => {
    expect(Object.keys(BAD).sort()).toEqual([...OP_NAMES].sort());
  });

  it.each(OP_NAMES)('%s', (op) => {
    const bad = BAD[op];
    let error: unknown;
    try {
      trace((g) =>
        g.emit(
          op,
          bad.inputs.map((s, i) =>
            Array.isArray(s) ? g.input(`in${i}`, s) : g.input(`in${i}`, s.shape, s.dtype),
          ),
          (bad.attrs ?? {}) as never,
        ),
      );
    } catch (e) {
      error = e;
    }
    expect(error, `${op} accepted ${JSON.stringify(bad.inputs)}`).toBeInstanceOf(ShapeError);
    const { message } = error as ShapeError;
    expect((error as ShapeError).op).toBe(op);
    expect(message.startsWith(`${op}: `), message).toBe(true);
    expect(message).not.toContain('\n');
    const first = bad.inputs[0];
    for (const text of bad.shows ?? [fmtShape(Array.isArray(first) ? first : first.shape)])
      expect(message, message).toContain(text);
  });
});
