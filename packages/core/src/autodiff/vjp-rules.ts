// The gradient rules: one vector-Jacobian product per primitive op, in one table typed as a total map over
// the primitives (`{ [P in PrimitiveOp]: VjpRule<P> }`: a primitive added to the op table without a rule
// here does not compile). Each rule declares what it saves from the forward pass (which inputs, whether
// the output) and receives only that; it is written with `F.*` ops, so the backward graph is an ordinary
// graph that runs on every backend. Composites are lowered first by the gradient pass, except those with a
// rule of their own in `COMPOSITE_VJP_RULES` (kept whole, so their fused kernels run in the forward pass).
//
// A rule gets the output cotangent `g` and returns one cotangent per input (`undefined` where the input
// needs none: `needs[i]` false, or an integer input). Shapes: each returned cotangent has its input's
// shape exactly (broadcasting binary ops sum back with `sumTo`).
import { ArgumentError } from '../errors.js';
import type { OpAttrs, PrimitiveOp } from '../ir/ops.js';
import { adaptiveBin } from '../ir/shape-utils.js';
import type { Tensor } from '../ir/tensor.js';
import { type Shape, sameShape, sizeOf, type TensorType } from '../ir/types.js';
import { convTap } from '../ops/basic-composites.js';
import * as F from '../ops/functional.js';

/** What a rule may read from the forward pass, besides the cotangent and the static types. */
export interface VjpSaves {
  /** Indices of the inputs the rule reads (`'all'` for every input). */
  readonly inputs: readonly number[] | 'all';
  /** Whether the rule reads the op's output. */
  readonly output: boolean;
}

/** What a rule is called with. */
export interface VjpArgs<P extends PrimitiveOp> {
  /** Cotangent of the output (same shape as the output). */
  readonly g: Tensor;
  /** The forward inputs; only those the rule's `saves.inputs` lists may be read (others throw). */
  readonly x: readonly Tensor[];
  /** The forward output; reading it throws unless `saves.output`. */
  readonly y: Tensor;
  /** The op's attributes. */
  readonly attrs: OpAttrs<P>;
  /** Static types of the inputs (always available). */
  readonly types: readonly TensorType[];
  /** Static type of the output. */
  readonly out: TensorType;
  /** Which inputs need a cotangent. */
  readonly needs: readonly boolean[];
}

/** The gradient rule of primitive `P`. */
export interface VjpRule<P extends PrimitiveOp> {
  /** What the rule keeps from the forward pass (the memory plan keeps exactly these alive). */
  readonly saves: VjpSaves;
  /** Cotangents of the inputs, in input order. */
  vjp(args: VjpArgs<P>): readonly (Tensor | undefined)[];
}

const NOTHING: VjpSaves = { inputs: [], output: false };
const INPUTS: VjpSaves = { inputs: 'all', output: false };
const OUTPUT: VjpSaves = { inputs: [], output: true };

// ---- helpers (exported for composite rules and tests) ----

/** Sums `t` down to `shape` (the inverse of NumPy broadcasting): leading axes and size-1 axes. */
export function sumTo(t: Tensor, shape: Shape): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const lead = t.rank - shape.length;
  const axes: number[] = [];
  // (axes of size 1 need no sum: the reshape below drops or keeps them)
  for (let i = 0; i < t.rank; i++) {
    if (t.shape[i] === 1) continue;
    if (i < lead || shape[i - lead] === 1) axes.push(i);
  }
  const s = axes.length ? F.sum(t, axes, true) : t;
  return sameShape(s.shape, shape) ? s : F.reshape(s, shape);
}

/** `g` of a reduction back to the input's rank (reduced axes size 1). */
function keepShape(g: Tensor, inShape: Shape, axes: readonly number[]): Tensor {
  const r = inShape.length;
  const norm = axes.map((a) => (a < 0 ? a + r : a));
  return F.reshape(
    g,
    inShape.map((d, i) => (norm.includes(i) ? 1 : d)),
  );
}

/** Reverses `t` along `axis` (a concat of size-1 slices; identity on size 1). */
export function flip(t: Tensor, axis: number): Tensor {
  const n = t.shape[axis];
  if (n <= 1) return t;
  const parts: Tensor[] = [];
  for (let i = n - 1; i >= 0; i--) parts.push(F.sliceAxis(t, axis, i, i + 1));
  return F.concat(parts, axis);
}

/**
 * `t` turned by 180 degrees in its last two axes (both reversed, as a transposed convolution flips its
 * kernel): the flattened kh·kw taps reversed by one product with the exchange matrix, instead of kh + kw
 * slices and two concats. Exact for finite values (each output is one input times 1, plus zeros); an
 * infinite tap makes its row NaN.
 */
export function rotate180(t: Tensor): Tensor {
  const r = t.shape.length;
  const n = t.shape[r - 2] * t.shape[r - 1];
  if (n <= 1) return t;
  const exchange = new Float32Array(n * n);
  for (let i = 0; i < n; i++) exchange[i * n + (n - 1 - i)] = 1;
  const j = t.ctx.constant({ dtype: 'float32', shape: [n, n], data: exchange });
  return F.reshape(F.matmul(F.reshape(t, [-1, n]), j), t.shape);
}

/** Inserts `s - 1` zeros between consecutive elements along `axis` (length n -> (n-1)s + 1). */
export function dilate(t: Tensor, axis: number, s: number): Tensor {
  const n = t.shape[axis];
  if (s === 1 || n === 0) return t;
  const shape = [...t.shape];
  const split = [...shape.slice(0, axis + 1), 1, ...shape.slice(axis + 1)];
  const pads = split.map((_, i) => [0, i === axis + 1 ? s - 1 : 0] as [number, number]);
  const wide = F.pad(F.reshape(t, split), pads);
  const merged = [...shape];
  merged[axis] = n * s;
  return F.sliceAxis(F.reshape(wide, merged), axis, 0, (n - 1) * s + 1);
}

/** Pads (positive) or crops (negative) each axis by `[before, after]`. */
export function padOrCrop(t: Tensor, pads: readonly (readonly [number, number])[]): Tensor {
  let x = t;
  if (pads.some(([a, b]) => a < 0 || b < 0)) {
    const begin = pads.map(([a]) => Math.max(0, -a));
    const end = x.shape.map((d, i) => d - Math.max(0, -pads[i][1]));
    x = F.slice(x, begin, end);
  }
  if (pads.some(([a, b]) => a > 0 || b > 0)) {
    x = F.pad(
      x,
      pads.map(([a, b]) => [Math.max(0, a), Math.max(0, b)] as [number, number]),
    );
  }
  return x;
}

/** 1 where a > b, 0.5 where equal, 0 where a < b (PyTorch's tie rule of maximum's gradient). */
function winMask(a: Tensor, b: Tensor): Tensor {
  return F.mul(F.add(F.sub(F.greater(a, b), F.greater(b, a)), 1), 0.5);
}

/** Gradients of conv2d w.r.t. the input and the weight (stride, zero padding, groups). */
function convVjp({ g, x, types, attrs, needs }: VjpArgs<'conv2d'>): (Tensor | undefined)[] {
  const [xt, wt] = types;
  const [, c, h, wd] = xt.shape;
  const [o, cg, kh, kw] = wt.shape;
  const { stride, padding, groups } = attrs;
  const [, , oh, ow] = g.shape;
  const [sh, sw] = stride;
  const [ph, pw] = padding;
  const og = o / groups;
  const bsz = xt.shape[0];
  let dx: Tensor | undefined;
  let dw: Tensor | undefined;
  const patchify = groups === 1 && sh === kh && sw === kw && ph === 0 && pw === 0 && kh * kw > 1;
  const pointwise = groups === 1 && kh === 1 && kw === 1 && sh === 1 && sw === 1 && ph === 0 && pw === 0;
  if (pointwise) {
    // a 1x1 convolution is W [o, c] times each image's pixels [c, h·w]: dx = Wᵀ g, dw = Σ g xᵀ, read in
    // place (no transposed copy of the weight, no convolution of the cotangent)
    const gm = F.reshape(g, [bsz, o, oh * ow]);
    if (needs[0]) dx = F.reshape(F.matmul(F.reshape(x[1], [o, c]), gm, { transA: true }), xt.shape);
    if (needs[1]) {
      const t = F.matmul(gm, F.reshape(x[0], [bsz, c, h * wd]), { transB: true });
      dw = F.reshape(sumTo(t, [o, c]), wt.shape);
    }
  } else if (patchify) {
    // non-overlapping windows: a matmul over patches
    const gm = F.reshape(F.permute(g, [0, 2, 3, 1]), [bsz * oh * ow, o]);
    if (needs[1]) {
      const xc = padOrCrop(x[0], [
        [0, 0],
        [0, 0],
        [0, oh * kh - h],
        [0, ow * kw - wd],
      ]);
      const xm = F.reshape(F.permute(F.reshape(xc, [bsz, c, oh, kh, ow, kw]), [0, 2, 4, 1, 3, 5]), [
        bsz * oh * ow,
        c * kh * kw,
      ]);
      dw = F.reshape(F.matmul(gm, xm, { transA: true }), wt.shape);
    }
    if (needs[0]) {
      const cols = F.matmul(gm, F.reshape(x[1], [o, cg * kh * kw]));
      const img = F.reshape(F.permute(F.reshape(cols, [bsz, oh, ow, c, kh, kw]), [0, 3, 1, 4, 2, 5]), [
        bsz,
        c,
        oh * kh,
        ow * kw,
      ]);
      dx = padOrCrop(img, [
        [0, 0],
        [0, 0],
        [0, h - oh * kh],
        [0, wd - ow * kw],
      ]);
    }
  } else {
    if (needs[0]) {
      // transposed convolution: dilate g by the stride, pad by k-1-p, convolve with the flipped,
      // group-transposed kernel
      let wT = F.reshape(F.permute(F.reshape(x[1], [groups, og, cg, kh, kw]), [0, 2, 1, 3, 4]), [
        groups * cg,
        og,
        kh,
        kw,
      ]);
      wT = rotate180(wT);
      if (sh === 1 && sw === 1 && kh - 1 - ph >= 0 && kw - 1 - pw >= 0) {
        // stride 1: the forward convolution's shape (padding k-1-p), no padded copy of g
        dx = F.conv2d(g, wT, undefined, { padding: [kh - 1 - ph, kw - 1 - pw], groups });
      } else {
        const gd = dilate(dilate(g, 2, sh), 3, sw);
        const extraH = h + 2 * ph - kh - (oh - 1) * sh;
        const extraW = wd + 2 * pw - kw - (ow - 1) * sw;
        const gp = padOrCrop(gd, [
          [0, 0],
          [0, 0],
          [kh - 1 - ph, kh - 1 - ph + extraH],
          [kw - 1 - pw, kw - 1 - pw + extraW],
        ]);
        dx = F.conv2d(gp, wT, undefined, { groups });
      }
    }
    if (needs[1] && og === 1 && cg === 1) {
      // depthwise: one composite (fused where a backend has it)
      dw = F.depthwiseWeightGrad(x[0], g, [kh, kw], { stride, padding });
    } else if (needs[1]) {
      const xp = padOrCrop(x[0], [
        [0, 0],
        [0, 0],
        [ph, ph],
        [pw, pw],
      ]);
      const taps: Tensor[] = [];
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const xs = convTap(xp, i, j, [oh, ow], [sh, sw]);
          const gm = F.reshape(g, [bsz, groups, og, oh * ow]);
          const xm = F.reshape(xs, [bsz, groups, cg, oh * ow]);
          const t = F.matmul(gm, xm, { transB: true });
          taps.push(F.reshape(bsz > 1 ? F.sum(t, 0) : t, [o * cg, 1]));
        }
      }
      const k = taps.length === 1 ? taps[0] : F.concat(taps, 1);
      dw = F.reshape(k, wt.shape);
    }
  }
  const db = needs[2] ? F.sum(g, [0, 2, 3]) : undefined;
  return [dx, dw, db];
}

/** The table of gradient rules, one per primitive. */
export const VJP_RULES: { readonly [P in PrimitiveOp]: VjpRule<P> } = {
  neg: { saves: NOTHING, vjp: ({ g }) => [F.neg(g)] },
  abs: {
    saves: INPUTS,
    vjp: ({ g, x: [x] }) => [F.mul(g, F.sub(F.greater(x, 0), F.greater(0, x)))],
  },
  exp: { saves: OUTPUT, vjp: ({ g, y }) => [F.mul(g, y)] },
  log: { saves: INPUTS, vjp: ({ g, x: [x] }) => [F.div(g, x)] },
  sqrt: { saves: OUTPUT, vjp: ({ g, y }) => [F.div(F.mul(g, 0.5), y)] },
  tanh: { saves: OUTPUT, vjp: ({ g, y }) => [F.mul(g, F.sub(1, F.mul(y, y)))] },
  erf: {
    saves: INPUTS,
    vjp: ({ g, x: [x] }) => [F.mul(g, F.mul(F.exp(F.neg(F.mul(x, x))), 2 / Math.sqrt(Math.PI)))],
  },
  sin: { saves: INPUTS, vjp: ({ g, x: [x] }) => [F.mul(g, F.cos(x))] },
  cos: { saves: INPUTS, vjp: ({ g, x: [x] }) => [F.neg(F.mul(g, F.sin(x)))] },

  add: {
    saves: NOTHING,
    vjp: ({ g, types, needs }) => [
      needs[0] ? sumTo(g, types[0].shape) : undefined,
      needs[1] ? sumTo(g, types[1].shape) : undefined,
    ],
  },
  sub: {
    saves: NOTHING,
    vjp: ({ g, types, needs }) => [
      needs[0] ? sumTo(g, types[0].shape) : undefined,
      needs[1] ? sumTo(F.neg(g), types[1].shape) : undefined,
    ],
  },
  mul: {
    saves: INPUTS,
    vjp: ({ g, x: [a, b], types, needs }) => [
      needs[0] ? sumTo(F.mul(g, b), types[0].shape) : undefined,
      needs[1] ? sumTo(F.mul(g, a), types[1].shape) : undefined,
    ],
  },
  div: {
    saves: { inputs: [1], output: true },
    vjp: ({ g, x, y, types, needs }) => {
      const gb = F.div(g, x[1]);
      return [
        needs[0] ? sumTo(gb, types[0].shape) : undefined,
        needs[1] ? sumTo(F.neg(F.mul(gb, y)), types[1].shape) : undefined,
      ];
    },
  },
  max: {
    saves: INPUTS,
    vjp: ({ g, x: [a, b], types, needs }) => {
      const m = winMask(a, b);
      return [
        needs[0] ? sumTo(F.mul(g, m), types[0].shape) : undefined,
        needs[1] ? sumTo(F.mul(g, F.sub(1, m)), types[1].shape) : undefined,
      ];
    },
  },
  min: {
    saves: INPUTS,
    vjp: ({ g, x: [a, b], types, needs }) => {
      const m = winMask(b, a);
      return [
        needs[0] ? sumTo(F.mul(g, m), types[0].shape) : undefined,
        needs[1] ? sumTo(F.mul(g, F.sub(1, m)), types[1].shape) : undefined,
      ];
    },
  },
  pow: {
    saves: { inputs: 'all', output: true },
    vjp: ({ g, x: [a, b], y, types, needs }) => [
      needs[0] ? sumTo(F.mul(g, F.mul(b, F.pow(a, F.sub(b, 1)))), types[0].shape) : undefined,
      needs[1] ? sumTo(F.mul(g, F.mul(y, F.log(a))), types[1].shape) : undefined,
    ],
  },
  greater: { saves: NOTHING, vjp: () => [undefined, undefined] },

  sum: {
    saves: NOTHING,
    vjp: ({ g, types: [t], attrs }) => [F.expand(keepShape(g, t.shape, attrs.axes), t.shape)],
  },
  reduce_max: {
    saves: { inputs: 'all', output: true },
    vjp: ({ g, x: [x], y, types: [t], attrs }) => {
      // ties share the gradient equally (PyTorch's amax)
      const mask = F.sub(1, F.greater(keepShape(y, t.shape, attrs.axes), x));
      const count = F.sum(mask, attrs.axes, true);
      return [F.mul(F.div(mask, count), keepShape(g, t.shape, attrs.axes))];
    },
  },

  matmul: {
    saves: INPUTS,
    vjp: ({ g, x: [a, b], types, attrs, needs }) => {
      const tA = !!attrs.transA;
      const tB = !!attrs.transB;
      let da: Tensor | undefined;
      let db: Tensor | undefined;
      if (needs[0]) {
        da = tA ? F.matmul(b, g, { transA: tB, transB: true }) : F.matmul(g, b, { transB: !tB });
        da = sumTo(da, types[0].shape);
      }
      if (needs[1]) {
        db = tB ? F.matmul(g, a, { transA: true, transB: tA }) : F.matmul(a, g, { transA: !tA });
        db = sumTo(db, types[1].shape);
      }
      return [da, db];
    },
  },
  conv2d: { saves: { inputs: [0, 1], output: false }, vjp: convVjp },
  avg_pool2d: {
    saves: NOTHING,
    vjp: ({ g, types: [t], attrs }) => {
      const [bsz, c, h, w] = t.shape;
      const [, , oh, ow] = g.shape;
      const [kh, kw] = attrs.kernel;
      const [sh, sw] = attrs.stride;
      const gs = F.mul(g, 1 / (kh * kw));
      if (kh === sh && kw === sw) {
        const up = F.reshape(F.expand(F.reshape(gs, [bsz, c, oh, 1, ow, 1]), [bsz, c, oh, kh, ow, kw]), [
          bsz,
          c,
          oh * kh,
          ow * kw,
        ]);
        return [
          padOrCrop(up, [
            [0, 0],
            [0, 0],
            [0, h - oh * kh],
            [0, w - ow * kw],
          ]),
        ];
      }
      const gd = dilate(dilate(gs, 2, sh), 3, sw);
      let acc: Tensor | undefined;
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const part = padOrCrop(gd, [
            [0, 0],
            [0, 0],
            [i, h - i - gd.shape[2]],
            [j, w - j - gd.shape[3]],
          ]);
          acc = acc ? F.add(acc, part) : part;
        }
      }
      return [acc];
    },
  },
  adaptive_avg_pool2d: {
    saves: NOTHING,
    vjp: ({ g, types: [t], attrs }) => {
      // y = Ah x Awᵀ with bin-averaging matrices (bins may overlap), so dx = Ahᵀ g Aw
      const [, , h, w] = t.shape;
      const [oh, ow] = attrs.outSize;
      const ah = binMatrix(g, oh, h);
      const aw = binMatrix(g, ow, w);
      return [F.matmul(F.matmul(ah, g, { transA: true }), aw)];
    },
  },
  gather: {
    saves: { inputs: [1], output: false },
    vjp: ({ g, x, types, needs }) => {
      if (!needs[0]) return [undefined, undefined];
      // scatter-add as a one-hot product: onehot [n, V]ᵀ @ g [n, rest]
      const [tt, it] = types;
      const v = tt.shape[0];
      const n = sizeOf(it.shape);
      const rest = sizeOf(tt.shape.slice(1));
      const idx = F.reshape(F.cast(x[1], 'float32'), [n, 1]);
      const range = g.ctx.constant({
        dtype: 'float32',
        shape: [1, v],
        data: Float32Array.from({ length: v }, (_, i) => i),
      });
      const onehot = F.sub(1, F.greater(F.abs(F.sub(idx, range)), 0.5));
      return [F.reshape(F.matmul(onehot, F.reshape(g, [n, rest]), { transA: true }), tt.shape), undefined];
    },
  },
  cast: {
    saves: NOTHING,
    vjp: ({ g, types: [t] }) => [t.dtype === 'float32' && g.dtype === 'float32' ? g : undefined],
  },
  reshape: { saves: NOTHING, vjp: ({ g, types: [t] }) => [F.reshape(g, t.shape)] },
  permute: {
    saves: NOTHING,
    vjp: ({ g, attrs }) => {
      const inv = new Array<number>(attrs.perm.length);
      attrs.perm.forEach((p, i) => {
        inv[p] = i;
      });
      return [F.permute(g, inv)];
    },
  },
  expand: { saves: NOTHING, vjp: ({ g, types: [t] }) => [sumTo(g, t.shape)] },
  slice: {
    saves: NOTHING,
    vjp: ({ g, types: [t], attrs }) => {
      let d = g;
      attrs.step.forEach((s, i) => {
        if (s > 1) d = dilate(d, i, s);
      });
      return [
        padOrCrop(
          d,
          t.shape.map((n, i) => [attrs.begin[i], n - attrs.begin[i] - d.shape[i]] as [number, number]),
        ),
      ];
    },
  },
  concat: {
    saves: NOTHING,
    vjp: ({ g, types, attrs, needs }) => {
      const ax = attrs.axis < 0 ? attrs.axis + g.rank : attrs.axis;
      let at = 0;
      return types.map((t, i) => {
        const part = needs[i] ? F.sliceAxis(g, ax, at, at + t.shape[ax]) : undefined;
        at += t.shape[ax];
        return part;
      });
    },
  },
  pad: {
    saves: NOTHING,
    vjp: ({ g, types: [t], attrs }) => [
      F.slice(
        g,
        attrs.pads.map(([a]) => a),
        attrs.pads.map(([a], i) => a + t.shape[i]),
      ),
    ],
  },
};

/**
 * Composites with their own rule (differentiated as one node, so the forward pass keeps the backend's
 * fused kernel and saves less); every other composite is differentiated through its lowering.
 */
export const COMPOSITE_VJP_RULES: {
  readonly [C in
    | 'gelu'
    | 'linear'
    | 'affine'
    | 'relu'
    | 'sigmoid'
    | 'mean'
    | 'l2norm'
    | 'softmax'
    | 'layer_norm'
    | 'dyn_weight']: {
    /** What the rule reads from the forward pass (inputs and/or the output). */
    readonly saves: VjpSaves;
    /** The input cotangents from the output cotangent `g` (undefined for inputs that need none). */
    vjp(args: Omit<VjpArgs<never>, 'attrs'> & { attrs: OpAttrs<C> }): readonly (Tensor | undefined)[];
  };
} = {
  gelu: {
    saves: INPUTS,
    // one composite node: backends with a fused kernel run it in one pass, the rest lower it
    vjp: ({ g, x: [x], attrs }) => [F.geluGrad(x, g, attrs.approximate)],
  },
  relu: { saves: OUTPUT, vjp: ({ g, y }) => [F.mul(g, F.greater(y, 0))] },
  sigmoid: { saves: OUTPUT, vjp: ({ g, y }) => [F.mul(g, F.mul(y, F.sub(1, y)))] },
  mean: {
    saves: NOTHING,
    vjp: ({ g, types: [t], out, attrs }) => {
      const n = sizeOf(t.shape) / Math.max(1, sizeOf(out.shape));
      return [F.expand(keepShape(F.mul(g, 1 / n), t.shape, attrs.axes), t.shape)];
    },
  },
  l2norm: {
    saves: { inputs: 'all', output: true },
    vjp: ({ g, x: [x], y, types: [t], attrs }) => {
      // x / ‖x‖, with 0 where the norm is 0 (PyTorch's subgradient), not 0/0
      const yk = keepShape(y, t.shape, attrs.axes);
      const safe = F.add(yk, F.sub(1, F.greater(yk, 0)));
      return [F.mul(x, F.div(keepShape(g, t.shape, attrs.axes), safe))];
    },
  },
  softmax: {
    saves: OUTPUT,
    vjp: ({ g, y, attrs }) => [F.mul(y, F.sub(g, F.sum(F.mul(g, y), attrs.axis, true)))],
  },
  layer_norm: {
    saves: INPUTS,
    vjp: ({ g, x, types, attrs, needs }) => {
      const [xi, w] = x;
      const d = types[0].shape[types[0].shape.length - 1];
      // dx in one composite (fused where a backend has it); dw needs x̂, the forward pass without affine
      const dx = needs[0] ? F.layerNormGrad(xi, g, types.length > 1 ? w : undefined, attrs.eps) : undefined;
      const dw =
        types.length > 1 && needs[1]
          ? sumTo(F.mul(g, F.layerNorm(xi, undefined, undefined, attrs.eps)), [d])
          : undefined;
      const db = types.length > 2 && needs[2] ? sumTo(g, [d]) : undefined;
      return [dx, dw, db];
    },
  },
  dyn_weight: {
    saves: { inputs: [0], output: false },
    // dg in one composite (fused where a backend has it) instead of the lowering's norm, divide and sum rules
    vjp: ({ g, x: [graw], types, attrs, needs }) => [
      needs[0] ? F.dynWeightGrad(graw, g, attrs.scale) : undefined,
      needs[1] ? sumTo(g, types[1].shape) : undefined,
    ],
  },
  affine: {
    saves: { inputs: [0, 1], output: false },
    // one node, so the forward pass keeps the backend's matmul with the bias fused (any activation was split
    // off first); broadcast batch axes are summed back to each operand's shape
    vjp: ({ g, x, types, needs }) => {
      const [xt, wt, bt] = types;
      const dx = needs[0] ? sumTo(F.matmul(g, x[1], { transB: true }), xt.shape) : undefined;
      const dw = needs[1] ? sumTo(F.matmul(x[0], g, { transA: true }), wt.shape) : undefined;
      const db = needs[2] ? sumTo(g, bt.shape) : undefined;
      return [dx, dw, db];
    },
  },
  linear: {
    saves: { inputs: [0, 1], output: false },
    vjp: ({ g, x, types, needs }) => {
      const [xt, wt] = types;
      const [out, inn] = wt.shape;
      const g2 = F.reshape(g, [-1, out]);
      const dx = needs[0] ? F.reshape(F.matmul(g2, x[1]), xt.shape) : undefined;
      const dw = needs[1] ? F.matmul(g2, F.reshape(x[0], [-1, inn]), { transA: true }) : undefined;
      const db = types.length > 2 && needs[2] ? F.sum(g2, 0) : undefined;
      return [dx, dw, db];
    },
  },
};

/** The [out, n] matrix averaging adaptive-pool bins: row i holds 1/len over [floor(i n/out), ceil((i+1) n/out)). */
function binMatrix(like: Tensor, out: number, n: number): Tensor {
  const m = new Float32Array(out * n);
  for (let i = 0; i < out; i++) {
    const [lo, hi] = adaptiveBin(i, n, out);
    for (let k = lo; k < hi; k++) m[i * n + k] = 1 / (hi - lo);
  }
  return like.ctx.constant({ dtype: 'float32', shape: [out, n], data: m });
}

/** The rule of `op`; throws for a composite (lower it first). */
export function vjpRule<P extends PrimitiveOp>(op: P): VjpRule<P> {
  const rule = (VJP_RULES as Record<string, VjpRule<P> | undefined>)[op];
  if (!rule) throw new ArgumentError(`no gradient rule for "${op}" (composites are lowered first)`);
  return rule;
}
