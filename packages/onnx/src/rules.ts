// The export rules: one entry per op of the IR's op table, in a total mapped type keyed by op name, so an
// op added to the table without an export rule is a compile error here. A primitive's rule writes ONNX
// nodes; a composite either writes ONNX's fused op (LayerNormalization and Softmax are primitives of the
// IR already; GELU becomes Gelu at opset 20+ and ONNX Runtime's fusable Erf pattern below), lowers
// through the op table's own lowering (`'lower'`), or gives a lowering of its own for export (DynDWConv's
// per-sample depthwise convolution as nine taps, so the batch stays dynamic).
import {
  adaptiveBin,
  dynDWConvKernel,
  F,
  type OpAttrs,
  type OpName,
  type ReduceOp,
  type Tensor,
  type TensorData,
  type TensorType,
  WfError,
} from '@wf/core';
import type { AttrSpec, OnnxGraphBuilder } from './onnx-builder.js';

/** An export that cannot be written (an op, attribute or shape ONNX or the exporter does not support). */
export class OnnxExportError extends WfError {
  /** @param message - What cannot be exported and what to do instead, one line. */
  constructor(message: string) {
    super('E_ONNX_EXPORT', message);
  }
}

/** What a rule sees of one node. */
export interface RuleContext<K extends OpName> {
  /** The graph being written. */
  readonly b: OnnxGraphBuilder;
  /** Target opset of the default domain. */
  readonly opset: number;
  /** The node's attributes (as traced at the reference batch size). */
  readonly attrs: OpAttrs<K>;
  /** ONNX value names of the inputs. */
  readonly inputs: readonly string[];
  /** Static input types (at the reference batch size). */
  readonly inputTypes: readonly TensorType[];
  /** Static output type (at the reference batch size). */
  readonly type: TensorType;
  /** Per input, per axis: whether the size follows the batch size. */
  readonly dynIn: readonly (readonly boolean[])[];
  /** Per output axis: whether the size follows the batch size. */
  readonly dynOut: readonly boolean[];
  /** A constant input's value (weights), or undefined when input `i` is computed. */
  constant(i: number): TensorData | undefined;
  /**
   * An int64 shape value for `shape` (the output shape by default) with batch-following axes written so
   * they hold at any batch: `-1` where allowed (`minusOne`, one such axis), else computed at run time.
   */
  shape(opts?: { minusOne?: boolean; shape?: readonly number[]; dyn?: readonly boolean[] }): string;
  /** Fails with the node named. */
  fail(why: string): never;
}

/** Writes ONNX nodes for one op; returns the ONNX value name of its output. */
export type OnnxRule<K extends OpName> = (ctx: RuleContext<K>) => string;

/** A lowering of a composite to IR ops. */
export type ExportLowering<K extends OpName> = (inputs: readonly Tensor[], attrs: OpAttrs<K>) => Tensor;

/**
 * How a composite exports: its own ONNX nodes, the op table's lowering, or an export-only lowering
 * (`lower`), optionally with another one for fixed-batch exports (`fixedBatch`: `'lower'` for the op
 * table's), where nothing has to follow a symbolic batch and a faster form is allowed.
 */
export type ExportRule<K extends OpName> =
  | OnnxRule<K>
  | 'lower'
  | { readonly lower: ExportLowering<K>; readonly fixedBatch?: 'lower' | ExportLowering<K> };

/** One rule per op of the table (a total map: an op without a rule does not compile). */
export type ExportRules = { readonly [K in OpName]: ExportRule<K> };

const simple =
  <K extends OpName>(opType: string): OnnxRule<K> =>
  ({ b, inputs }) =>
    b.node(opType, inputs);

/** A reduction: axes as an input from opset 18 (ReduceSum from 13), as an attribute before. */
function reduceRule<K extends ReduceOp | 'mean' | 'l2norm'>(
  opType: string,
  axesInputSince: number,
): OnnxRule<K> {
  return ({ b, opset, inputs, attrs }) => {
    const keep: AttrSpec = { i: attrs.keepDims ? 1 : 0 };
    if (opset >= axesInputSince) return b.node(opType, [inputs[0], b.int64(attrs.axes)], { keepdims: keep });
    return b.node(opType, [inputs[0]], { axes: { ints: attrs.axes }, keepdims: keep });
  };
}

/** Swaps the last two axes of a rank-r value. */
function swapLast(b: OnnxGraphBuilder, name: string, rank: number): string {
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return b.node('Transpose', [name], { perm: { ints: perm } });
}

/** A constant [..., m, n] transposed to [..., n, m] on the host (weights stay initializers). */
function transposedConstant(b: OnnxGraphBuilder, t: TensorData, label: string): string {
  const s = t.shape;
  const r = s.length;
  const m = s[r - 2];
  const n = s[r - 1];
  const batch = t.data.length / (m * n);
  const out = new Float32Array(t.data.length);
  for (let k = 0; k < batch; k++) {
    const o = k * m * n;
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[o + j * m + i] = t.data[o + i * n + j];
  }
  return b.tensor({ dtype: 'float32', shape: [...s.slice(0, -2), n, m], data: out }, `${label}.T`);
}

/** Adaptive average pooling along one spatial axis as static slices and ReduceMean, joined by Concat. */
function adaptiveAxis(
  ctx: RuleContext<'adaptive_avg_pool2d'>,
  x: string,
  axis: 2 | 3,
  size: number,
  out: number,
): string {
  const { b, opset } = ctx;
  if (size === out) return x;
  if (size % out === 0) {
    const k = size / out;
    const kernel = axis === 2 ? [k, 1] : [1, k];
    return b.node('AveragePool', [x], { kernel_shape: { ints: kernel }, strides: { ints: kernel } });
  }
  const parts: string[] = [];
  for (let i = 0; i < out; i++) {
    const [lo, hi] = adaptiveBin(i, size, out);
    const part = b.node('Slice', [x, b.int64([lo]), b.int64([hi]), b.int64([axis])]);
    parts.push(
      opset >= 18
        ? b.node('ReduceMean', [part, b.int64([axis])], { keepdims: { i: 1 } })
        : b.node('ReduceMean', [part], { axes: { ints: [axis] }, keepdims: { i: 1 } }),
    );
  }
  return b.node('Concat', parts, { axis: { i: axis } });
}

/**
 * DynDWConv for export: the op table's per-sample kernels, then the depthwise 3x3 convolution of each
 * sample with its own kernel as nine shifted taps (slice of the zero-padded input times one kernel column,
 * summed), so no convolution has batch-times-channels groups and the batch stays dynamic.
 */
export function lowerDynDWConvTaps(inputs: readonly Tensor[], attrs: OpAttrs<'dyn_dwconv'>): Tensor {
  const [x, , bias] = inputs;
  const [, d, h, w] = x.shape;
  const k = dynDWConvKernel(inputs, attrs);
  const xp = F.pad(x, [
    [0, 0],
    [0, 0],
    [1, 1],
    [1, 1],
  ]);
  let y: Tensor | undefined;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const tap = F.mul(
        F.sliceAxis(F.sliceAxis(xp, 2, i, i + h), 3, j, j + w),
        F.sliceAxis(F.sliceAxis(k, 2, i, i + 1), 3, j, j + 1),
      );
      y = y ? F.add(y, tap) : tap;
    }
  }
  return F.add(y!, F.reshape(bias, [1, d, 1, 1]));
}

/** "To the end" in Slice: written as INT64_MAX (the int64 writer saturates 2^63). */
const INT64_MAX = 2 ** 63;

/** The export rules of every op. */
export const EXPORT_RULES: ExportRules = {
  neg: simple('Neg'),
  abs: simple('Abs'),
  exp: simple('Exp'),
  log: simple('Log'),
  sqrt: simple('Sqrt'),
  tanh: simple('Tanh'),
  erf: simple('Erf'),
  sigmoid: simple('Sigmoid'),
  relu: simple('Relu'),
  sin: simple('Sin'),
  cos: simple('Cos'),

  add: simple('Add'),
  sub: simple('Sub'),
  mul: simple('Mul'),
  div: simple('Div'),
  max: simple('Max'),
  min: simple('Min'),
  pow: simple('Pow'),
  // float32 1 or 0, as the IR's comparison: ONNX's Greater gives a bool tensor
  greater: ({ b, inputs }) => b.node('Cast', [b.node('Greater', inputs)], { to: { i: 1 } }),

  sum: reduceRule('ReduceSum', 13),
  mean: reduceRule('ReduceMean', 18),
  reduce_max: reduceRule('ReduceMax', 18),
  l2norm: reduceRule('ReduceL2', 18),

  matmul: (ctx) => {
    const { b, inputs, inputTypes, attrs } = ctx;
    const operand = (i: 0 | 1, trans: boolean | undefined): string => {
      if (!trans) return inputs[i];
      const c = ctx.constant(i);
      return c ? transposedConstant(b, c, inputs[i]) : swapLast(b, inputs[i], inputTypes[i].shape.length);
    };
    return b.node('MatMul', [operand(0, attrs.transA), operand(1, attrs.transB)]);
  },

  conv2d: (ctx) => {
    const { b, inputs, inputTypes, attrs } = ctx;
    const [, , kh, kw] = inputTypes[1].shape;
    if (ctx.dynIn[1]?.some(Boolean)) ctx.fail('a convolution weight that depends on the batch size');
    return b.node('Conv', inputs, {
      kernel_shape: { ints: [kh, kw] },
      strides: { ints: attrs.stride },
      pads: { ints: [attrs.padding[0], attrs.padding[1], attrs.padding[0], attrs.padding[1]] },
      group: { i: attrs.groups },
    });
  },

  avg_pool2d: ({ b, inputs, attrs }) =>
    b.node('AveragePool', [inputs[0]], {
      kernel_shape: { ints: attrs.kernel },
      strides: { ints: attrs.stride },
    }),

  adaptive_avg_pool2d: (ctx) => {
    const [, , h, w] = ctx.inputTypes[0].shape;
    const [oh, ow] = ctx.attrs.outSize;
    if (oh === 1 && ow === 1) return ctx.b.node('GlobalAveragePool', [ctx.inputs[0]]);
    if (h % oh === 0 && w % ow === 0) {
      const k = [h / oh, w / ow];
      return ctx.b.node('AveragePool', [ctx.inputs[0]], { kernel_shape: { ints: k }, strides: { ints: k } });
    }
    return adaptiveAxis(ctx, adaptiveAxis(ctx, ctx.inputs[0], 2, h, oh), 3, w, ow);
  },

  layer_norm: (ctx) => {
    const { b, inputs, inputTypes, attrs, opset } = ctx;
    const d = inputTypes[0].shape.at(-1)!;
    const rank = inputTypes[0].shape.length;
    if (opset >= 17) {
      const scale = inputs[1] ?? b.float(new Array(d).fill(1), [d]);
      return b.node('LayerNormalization', inputs[2] ? [inputs[0], scale, inputs[2]] : [inputs[0], scale], {
        axis: { i: -1 },
        epsilon: { f: attrs.eps },
      });
    }
    // Before opset 17: (x - mean) / sqrt(var + eps) * weight + bias over the last axis.
    const mean = (v: string) => b.node('ReduceMean', [v], { axes: { ints: [rank - 1] }, keepdims: { i: 1 } });
    const centered = b.node('Sub', [inputs[0], mean(inputs[0])]);
    const variance = mean(b.node('Mul', [centered, centered]));
    let y = b.node('Div', [centered, b.node('Sqrt', [b.node('Add', [variance, b.float([attrs.eps])])])]);
    if (inputs[1]) y = b.node('Mul', [y, inputs[1]]);
    if (inputs[2]) y = b.node('Add', [y, inputs[2]]);
    return y;
  },

  softmax: ({ b, inputs, attrs, inputTypes }) => {
    const rank = inputTypes[0].shape.length;
    return b.node('Softmax', inputs, { axis: { i: attrs.axis < 0 ? attrs.axis + rank : attrs.axis } });
  },

  gather: ({ b, inputs }) => b.node('Gather', inputs, { axis: { i: 0 } }),

  cast: ({ b, inputs, attrs }) => b.node('Cast', inputs, { to: { i: attrs.dtype === 'int32' ? 6 : 1 } }),

  reshape: (ctx) => ctx.b.node('Reshape', [ctx.inputs[0], ctx.shape({ minusOne: true })]),

  permute: ({ b, inputs, attrs }) => b.node('Transpose', inputs, { perm: { ints: attrs.perm } }),

  expand: (ctx) => {
    // Where the input already has the (batch-following) size, 1 in the target shape broadcasts to it.
    const { inputTypes, type, dynIn, dynOut } = ctx;
    const offset = type.shape.length - inputTypes[0].shape.length;
    const dyn = dynOut.map((d, i) => d && !(i >= offset && dynIn[0][i - offset]));
    const shape = type.shape.map((s, i) => (dynOut[i] && !dyn[i] ? 1 : s));
    return ctx.b.node('Expand', [ctx.inputs[0], ctx.shape({ shape, dyn })]);
  },

  slice: (ctx) => {
    const { b, inputs, inputTypes, attrs, dynIn } = ctx;
    const axes: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    const steps: number[] = [];
    inputTypes[0].shape.forEach((n, i) => {
      const full = attrs.begin[i] === 0 && attrs.end[i] === n && attrs.step[i] === 1;
      if (full) return;
      if (dynIn[0][i]) ctx.fail(`slicing axis ${i}, whose size follows the batch size`);
      axes.push(i);
      starts.push(attrs.begin[i]);
      ends.push(attrs.end[i] === n ? INT64_MAX : attrs.end[i]);
      steps.push(attrs.step[i]);
    });
    if (!axes.length) return b.node('Identity', [inputs[0]]);
    return b.node('Slice', [inputs[0], b.int64(starts), b.int64(ends), b.int64(axes), b.int64(steps)]);
  },

  concat: ({ b, inputs, attrs, inputTypes }) => {
    const rank = inputTypes[0].shape.length;
    return b.node('Concat', inputs, { axis: { i: attrs.axis < 0 ? attrs.axis + rank : attrs.axis } });
  },

  pad: (ctx) => {
    const { b, inputs, attrs } = ctx;
    attrs.pads.forEach(([lo, hi], i) => {
      if ((lo || hi) && ctx.dynIn[0][i]) ctx.fail(`padding axis ${i}, whose size follows the batch size`);
    });
    const pads = [...attrs.pads.map(([lo]) => lo), ...attrs.pads.map(([, hi]) => hi)];
    return b.node('Pad', [inputs[0], b.int64(pads), b.float([attrs.value])], { mode: { s: 'constant' } });
  },

  linear: 'lower',
  affine: 'lower',
  gelu: ({ b, inputs, attrs, opset }) => {
    const x = inputs[0];
    if (opset >= 20) return b.node('Gelu', [x], { approximate: { s: attrs.approximate } });
    if (attrs.approximate === 'tanh') {
      const cube = b.node('Mul', [b.node('Mul', [x, x]), x]);
      const inner = b.node('Mul', [
        b.node('Add', [x, b.node('Mul', [cube, b.float([0.044715])])]),
        b.float([Math.sqrt(2 / Math.PI)]),
      ]);
      const t = b.node('Add', [b.node('Tanh', [inner]), b.float([1])]);
      return b.node('Mul', [b.node('Mul', [x, b.float([0.5])]), t]);
    }
    // x * 0.5 * (1 + erf(x / sqrt 2)) in the node order ONNX Runtime's GeluFusion matches.
    const e = b.node('Erf', [b.node('Div', [x, b.float([Math.SQRT2])])]);
    const half = b.node('Mul', [x, b.node('Add', [e, b.float([1])])]);
    return b.node('Mul', [half, b.float([0.5])]);
  },
  gelu_grad: 'lower',
  layer_norm_grad: 'lower',
  depthwise_weight_grad: 'lower',
  silu: 'lower',
  attention: 'lower',
  attention_mlp: 'lower',
  dynamic_mlp: 'lower',
  dyn_weight: 'lower',
  dyn_weight_grad: 'lower',
  dyn_linear: 'lower',
  // Dynamic batch: nine taps (no B·D-group convolution). Fixed batch: the op table's lowering, one
  // depthwise Conv with B·D groups and the per-sample kernels as its weight, as PyTorch's exporter writes
  // it; ONNX Runtime runs that Conv faster than the taps' Pad, Slice, Mul and Add nodes.
  dyn_dwconv: { lower: lowerDynDWConvTaps, fixedBatch: 'lower' },
};
