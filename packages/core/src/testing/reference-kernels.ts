// The float64 reference interpreter: the oracle every backend is tested against. It replays a graph
// (`replayGraph`, the one graph walker) into a context that lowers composites to primitives and evaluates
// each primitive with plain index loops over Float64Array, written straight from the op definitions
// (SPEC.md and the op table's docs); the elementwise ops apply the op table's float64 scalar functions
// (the ops' mathematical definitions, which ops.test.ts checks against independent values). It is
// deliberately slow and simple, shares no kernel code with any backend, and recomputes each output shape
// on its own, failing loudly when the op table's shape rule disagrees.
import { opTable } from '../backend.js';
import { fmtShape } from '../errors.js';
import type { Graph } from '../graph/graph.js';
import { emitLowered } from '../graph/lower.js';
import { eliminateDeadCode, replayGraph } from '../graph/rewrite.js';
import {
  BINARY_OPS,
  binaryScalar,
  inferType,
  OPS,
  type OpAttrs,
  type OpName,
  REDUCE_OPS,
  type ReduceAttrs,
  type ReduceOp,
  UNARY_OPS,
  unaryScalar,
} from '../ir/ops.js';
import { type Context, Tensor } from '../ir/tensor.js';
import type { TensorData, TensorType } from '../ir/types.js';

/** A dense row-major float64 tensor (int32 values are stored as exact float64 integers). */
export interface F64Data {
  /** Shape, outermost axis first; `[]` for a scalar. */
  shape: number[];
  /** Row-major values. */
  data: Float64Array;
}

/** A reference kernel: computes one primitive from its float64 inputs and its attributes `A`. */
type RefKernel<A> = (inputs: readonly F64Data[], attrs: A, type: TensorType) => F64Data;

/** Widens host tensor data to float64 (a copy; int32 values stay exact). */
export function toF64(t: TensorData | F64Data): F64Data {
  return { shape: [...t.shape], data: Float64Array.from(t.data) };
}

function isF64(t: TensorData | F64Data): t is F64Data {
  return t.data instanceof Float64Array;
}

function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

function zeros(shape: readonly number[]): F64Data {
  return { shape: [...shape], data: new Float64Array(size(shape)) };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Calls `fn` for every multi-index of `shape` in row-major order, with the flat index. */
function forEachIndex(shape: readonly number[], fn: (idx: readonly number[], flat: number) => void): void {
  const n = size(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    fn(idx, flat);
    for (let ax = shape.length - 1; ax >= 0; ax--) {
      idx[ax]++;
      if (idx[ax] < shape[ax]) break;
      idx[ax] = 0;
    }
  }
}

function offset(idx: readonly number[], st: readonly number[]): number {
  let o = 0;
  for (let i = 0; i < idx.length; i++) o += idx[i] * st[i];
  return o;
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

// ---------------------------------------------------------------------------------------------------------
// kernels

function unary(f: (v: number) => number): RefKernel<unknown> {
  return ([x]) => ({ shape: [...x.shape], data: x.data.map(f) });
}

function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = i - (n - a.length) >= 0 ? a[i - (n - a.length)] : 1;
    const db = i - (n - b.length) >= 0 ? b[i - (n - b.length)] : 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new Error(`reference: cannot broadcast ${fmtShape(a)} with ${fmtShape(b)}`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Strides of `shape` seen from a broadcast `out` shape: 0 on missing or size-1 axes. */
function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const st = strides(shape);
  const lead = out.length - shape.length;
  return out.map((_, i) => (i < lead || shape[i - lead] === 1 ? 0 : st[i - lead]));
}

function binary(f: (a: number, b: number) => number): RefKernel<unknown> {
  return ([a, b]) => {
    const shape = broadcastShape(a.shape, b.shape);
    const sa = broadcastStrides(a.shape, shape);
    const sb = broadcastStrides(b.shape, shape);
    const y = zeros(shape);
    forEachIndex(shape, (idx, flat) => {
      y.data[flat] = f(a.data[offset(idx, sa)], b.data[offset(idx, sb)]);
    });
    return y;
  };
}

function reduce(kind: ReduceOp): RefKernel<ReduceAttrs> {
  return ([x], { axes, keepDims }) => {
    const rank = x.shape.length;
    const red = new Set(axes.map((a) => normAxis(a, rank)));
    const keptShape = x.shape.map((d, i) => (red.has(i) ? 1 : d));
    const outShape = keepDims ? keptShape : x.shape.filter((_, i) => !red.has(i));
    const ks = strides(keptShape);
    const acc = new Float64Array(size(keptShape)).fill(kind === 'reduce_max' ? Number.NEGATIVE_INFINITY : 0);
    forEachIndex(x.shape, (idx, flat) => {
      let o = 0;
      for (let i = 0; i < rank; i++) if (!red.has(i)) o += idx[i] * ks[i];
      const v = x.data[flat];
      if (kind === 'reduce_max') acc[o] = Math.max(acc[o], v);
      else acc[o] += v;
    });
    return { shape: outShape, data: acc };
  };
}

const matmul: RefKernel<OpAttrs<'matmul'>> = ([a, b], { transA, transB }) => {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [ar, ac] = [a.shape[ra - 2], a.shape[ra - 1]];
  const [br, bc] = [b.shape[rb - 2], b.shape[rb - 1]];
  const m = transA ? ac : ar;
  const k = transA ? ar : ac;
  const kb = transB ? bc : br;
  const n = transB ? br : bc;
  if (k !== kb) throw new Error(`reference matmul: inner dimensions ${k} vs ${kb}`);
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batch = broadcastShape(batchA, batchB);
  const sa = broadcastStrides(batchA, batch).map((s) => s * ar * ac);
  const sb = broadcastStrides(batchB, batch).map((s) => s * br * bc);
  const y = zeros([...batch, m, n]);
  forEachIndex(batch, (idx, flat) => {
    const oa = offset(idx, sa);
    const ob = offset(idx, sb);
    const oy = flat * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = transA ? a.data[oa + p * ac + i] : a.data[oa + i * ac + p];
          const bv = transB ? b.data[ob + j * bc + p] : b.data[ob + p * bc + j];
          s += av * bv;
        }
        y.data[oy + i * n + j] = s;
      }
    }
  });
  return y;
};

const conv2d: RefKernel<OpAttrs<'conv2d'>> = ([x, w, bias], { stride, padding, groups }) => {
  const [nb, c, h, wd] = x.shape;
  const [o, cg, kh, kw] = w.shape;
  if (cg * groups !== c || o % groups !== 0)
    throw new Error('reference conv2d: channels do not match groups');
  const og = o / groups;
  const oh = Math.floor((h + 2 * padding[0] - kh) / stride[0]) + 1;
  const ow = Math.floor((wd + 2 * padding[1] - kw) / stride[1]) + 1;
  const y = zeros([nb, o, oh, ow]);
  for (let b = 0; b < nb; b++) {
    for (let oc = 0; oc < o; oc++) {
      const g = Math.floor(oc / og);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let s = bias ? bias.data[oc] : 0;
          for (let ci = 0; ci < cg; ci++) {
            const ic = g * cg + ci;
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * stride[0] - padding[0] + ky;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * stride[1] - padding[1] + kx;
                if (ix < 0 || ix >= wd) continue;
                s += x.data[((b * c + ic) * h + iy) * wd + ix] * w.data[((oc * cg + ci) * kh + ky) * kw + kx];
              }
            }
          }
          y.data[((b * o + oc) * oh + oy) * ow + ox] = s;
        }
      }
    }
  }
  return y;
};

/** Averages the window rows [r0, r1) x columns [c0, c1) of plane `p` (offset of the (b, c) plane). */
function windowMean(
  x: F64Data,
  p: number,
  w: number,
  r0: number,
  r1: number,
  c0: number,
  c1: number,
): number {
  let s = 0;
  for (let r = r0; r < r1; r++) for (let q = c0; q < c1; q++) s += x.data[p + r * w + q];
  return s / ((r1 - r0) * (c1 - c0));
}

const avgPool2d: RefKernel<OpAttrs<'avg_pool2d'>> = ([x], { kernel, stride }) => {
  const [nb, c, h, w] = x.shape;
  const oh = Math.floor((h - kernel[0]) / stride[0]) + 1;
  const ow = Math.floor((w - kernel[1]) / stride[1]) + 1;
  const y = zeros([nb, c, oh, ow]);
  for (let bc = 0; bc < nb * c; bc++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const r0 = i * stride[0];
        const c0 = j * stride[1];
        y.data[(bc * oh + i) * ow + j] = windowMean(x, bc * h * w, w, r0, r0 + kernel[0], c0, c0 + kernel[1]);
      }
    }
  }
  return y;
};

const adaptiveAvgPool2d: RefKernel<OpAttrs<'adaptive_avg_pool2d'>> = ([x], { outSize }) => {
  const [nb, c, h, w] = x.shape;
  const [oh, ow] = outSize;
  const y = zeros([nb, c, oh, ow]);
  for (let bc = 0; bc < nb * c; bc++) {
    for (let i = 0; i < oh; i++) {
      const r0 = Math.floor((i * h) / oh);
      const r1 = Math.ceil(((i + 1) * h) / oh);
      for (let j = 0; j < ow; j++) {
        const c0 = Math.floor((j * w) / ow);
        const c1 = Math.ceil(((j + 1) * w) / ow);
        y.data[(bc * oh + i) * ow + j] = windowMean(x, bc * h * w, w, r0, r1, c0, c1);
      }
    }
  }
  return y;
};

const gather: RefKernel<OpAttrs<'gather'>> = ([table, idx]) => {
  const rest = table.shape.slice(1);
  const row = size(rest);
  const rows = table.shape[0];
  const y = zeros([...idx.shape, ...rest]);
  for (let i = 0; i < idx.data.length; i++) {
    const v = idx.data[i];
    if (!Number.isInteger(v) || v < 0 || v >= rows) {
      throw new Error(`reference gather: index ${v} out of range for a table of ${rows} rows`);
    }
    for (let j = 0; j < row; j++) y.data[i * row + j] = table.data[v * row + j];
  }
  return y;
};

const cast: RefKernel<OpAttrs<'cast'>> = ([x], { dtype }) => ({
  shape: [...x.shape],
  data: dtype === 'int32' ? x.data.map((v) => Math.trunc(v)) : Float64Array.from(x.data),
});

const reshape: RefKernel<OpAttrs<'reshape'>> = ([x], _attrs, type) => ({
  shape: [...type.shape],
  data: Float64Array.from(x.data),
});

const permute: RefKernel<OpAttrs<'permute'>> = ([x], { perm }) => {
  const shape = perm.map((p) => x.shape[p]);
  const sx = strides(x.shape);
  const sp = perm.map((p) => sx[p]);
  const y = zeros(shape);
  forEachIndex(shape, (idx, flat) => {
    y.data[flat] = x.data[offset(idx, sp)];
  });
  return y;
};

const expand: RefKernel<OpAttrs<'expand'>> = ([x], { shape }) => {
  const out = broadcastShape(x.shape, shape);
  const sx = broadcastStrides(x.shape, out);
  const y = zeros(out);
  forEachIndex(out, (idx, flat) => {
    y.data[flat] = x.data[offset(idx, sx)];
  });
  return y;
};

const slice: RefKernel<OpAttrs<'slice'>> = ([x], { begin, end, step }) => {
  const shape = x.shape.map((_, i) => Math.max(0, Math.ceil((end[i] - begin[i]) / step[i])));
  const sx = strides(x.shape);
  const y = zeros(shape);
  forEachIndex(shape, (idx, flat) => {
    let o = 0;
    for (let i = 0; i < idx.length; i++) o += (begin[i] + idx[i] * step[i]) * sx[i];
    y.data[flat] = x.data[o];
  });
  return y;
};

const concat: RefKernel<OpAttrs<'concat'>> = (inputs, { axis }) => {
  const ax = normAxis(axis, inputs[0].shape.length);
  const shape = [...inputs[0].shape];
  shape[ax] = inputs.reduce((s, t) => s + t.shape[ax], 0);
  const sy = strides(shape);
  const y = zeros(shape);
  let at = 0;
  for (const t of inputs) {
    forEachIndex(t.shape, (idx, flat) => {
      let o = 0;
      for (let i = 0; i < idx.length; i++) o += (i === ax ? idx[i] + at : idx[i]) * sy[i];
      y.data[o] = t.data[flat];
    });
    at += t.shape[ax];
  }
  return y;
};

const pad: RefKernel<OpAttrs<'pad'>> = ([x], { pads, value }) => {
  const shape = x.shape.map((d, i) => d + pads[i][0] + pads[i][1]);
  const sy = strides(shape);
  const y = zeros(shape);
  y.data.fill(value);
  forEachIndex(x.shape, (idx, flat) => {
    let o = 0;
    for (let i = 0; i < idx.length; i++) o += (idx[i] + pads[i][0]) * sy[i];
    y.data[o] = x.data[flat];
  });
  return y;
};

/** The reference kernel of every primitive op. */
const KERNELS: { readonly [K in OpName]?: RefKernel<OpAttrs<K>> } = {
  ...opTable(UNARY_OPS, (op) => unary(unaryScalar(op))),
  ...opTable(BINARY_OPS, (op) => binary(binaryScalar(op))),
  ...opTable(REDUCE_OPS, reduce),
  matmul,
  conv2d,
  avg_pool2d: avgPool2d,
  adaptive_avg_pool2d: adaptiveAvgPool2d,
  gather,
  cast,
  reshape,
  permute,
  expand,
  slice,
  concat,
  pad,
};

/** The ops the reference interpreter evaluates directly (every primitive of the op table). */
export function referenceOps(): OpName[] {
  return (Object.keys(KERNELS) as OpName[]).filter((op) => KERNELS[op] !== undefined);
}

/** Ops of the table that are primitives (not composites) but have no reference kernel. */
export function missingReferenceOps(): OpName[] {
  return (Object.keys(OPS) as OpName[]).filter((op) => OPS[op].kind !== 'composite' && !KERNELS[op]);
}

/**
 * The float64 evaluation context: a replay target (`replayGraph`) that lowers every composite as it is
 * emitted and runs each primitive at once with its reference kernel, checking the kernel's output shape
 * against the op table's shape rule.
 */
class F64Context implements Context {
  /** The value of each tensor, by tensor id. */
  readonly values: F64Data[] = [];

  private add(value: F64Data, type: TensorType): Tensor {
    this.values.push(value);
    return new Tensor(this, this.values.length - 1, type);
  }

  emit<K extends OpName>(op: K, inputs: readonly Tensor[], attrs: OpAttrs<K>): Tensor {
    return emitLowered(
      op,
      inputs,
      attrs,
      () => false,
      () => {
        const type = inferType(
          op,
          inputs.map((t) => t.type),
          attrs,
        );
        const kernel = KERNELS[op] as RefKernel<unknown> | undefined;
        if (!kernel) throw new Error(`evaluateF64: no reference kernel for op "${op}"`);
        const out = kernel(
          inputs.map((t) => this.values[t.id]),
          attrs,
          type,
        );
        if (!sameShape(out.shape, type.shape) || out.data.length !== size(type.shape)) {
          throw new Error(
            `evaluateF64: ${op} computed shape ${fmtShape(out.shape)}, the op table says ${fmtShape(type.shape)}`,
          );
        }
        return this.add(out, type);
      },
    );
  }

  constant(data: TensorData): Tensor {
    return this.add(toF64(data), { shape: [...data.shape], dtype: data.dtype });
  }

  /** A graph input's given value. */
  input(given: TensorData | F64Data, type: TensorType): Tensor {
    return this.add(isF64(given) ? { shape: [...given.shape], data: given.data } : toF64(given), type);
  }
}

/**
 * Evaluates `graph` in float64: replays it (`replayGraph`) into a context that lowers every composite to
 * primitives and runs each with its reference kernel. `inputs` gives every graph input by name, as
 * float32/int32 host data or as float64 data; shapes must match the graph's. Returns every graph output by
 * name.
 * @throws {Error} for a missing or mis-shaped input, an op without a reference kernel (named), or an output
 * shape that disagrees with the op table's shape rule.
 */
export function evaluateF64(
  graph: Graph,
  inputs: Readonly<Record<string, TensorData | F64Data>>,
): Record<string, F64Data> {
  for (const [name, id] of graph.inputs) {
    const given = inputs[name];
    const want = graph.nodes[id].type.shape;
    if (!given) throw new Error(`evaluateF64: missing input "${name}" ${fmtShape(want)}`);
    if (!sameShape(given.shape, want) || given.data.length !== size(want)) {
      throw new Error(
        `evaluateF64: input "${name}" is ${fmtShape(given.shape)}, the graph expects ${fmtShape(want)}`,
      );
    }
  }
  for (const name of Object.keys(inputs)) {
    if (!graph.inputs.has(name)) throw new Error(`evaluateF64: unexpected input "${name}"`);
  }
  const live = eliminateDeadCode(graph);
  const ctx = new F64Context();
  const map = replayGraph(live, ctx, { input: (n) => ctx.input(inputs[n.name!], n.type) });
  const result: Record<string, F64Data> = {};
  for (const [name, id] of live.outputs) {
    const v = ctx.values[map[id].id];
    result[name] = { shape: [...v.shape], data: v.data };
  }
  return result;
}
