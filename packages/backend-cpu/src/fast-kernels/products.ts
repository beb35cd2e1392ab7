// Fast kernels built on a MatmulEngine: matmul (batched, transposed operands), linear and affine with
// their fused bias + activation epilogue, and the convolutions that are matrix products (1x1 and
// patch embedding via im2col); the depthwise 3x3 convolution and its weight gradient. Other cases defer to
// the plain kernels.
import type { Activation, Kernel, KernelTable } from '@wf/core';
import ndarray from 'ndarray';
import { convKernels } from '../kernels/conv.js';
import { matmulKernels } from '../kernels/matmul.js';
import { broadcastView, type CpuTensor, forEachOffset, stridedView } from '../nd.js';
import { attentionKernel, type ScratchProvider } from './attention.js';
import { depthwise3x3, depthwiseWeightGrad, isDepthwise3x3 } from './depthwise.js';
import { count, isDense, stridedCopy, transposedCopy } from './layout.js';
import type { MatmulEngine, MatView } from './matmul-engine.js';

/** A rank >= 2 tensor's last two axes as a matrix view at `offset` (optionally transposed). */
function mat(t: CpuTensor, offset: number, trans = false): MatView {
  const r = t.shape.length;
  const [rows, cols] = [t.shape[r - 2], t.shape[r - 1]];
  const [rs, cs] = [t.stride[r - 2], t.stride[r - 1]];
  return trans
    ? { data: t.data as Float32Array, offset, rows: cols, cols: rows, rowStride: cs, colStride: rs }
    : { data: t.data as Float32Array, offset, rows, cols, rowStride: rs, colStride: cs };
}

/** Largest m·n·k of one batch entry that `batched` multiplies with a direct loop instead of the engine. */
const SMALL_PRODUCT = 4096;

/** c = a b (+ bias) for small strided matrices, accumulated in float64. */
function smallProduct(
  a: MatView,
  b: MatView,
  c: MatView,
  bias: { data: Float32Array; offset: number } | undefined,
): void {
  const ad = a.data;
  const bd = b.data;
  const cd = c.data;
  for (let i = 0; i < c.rows; i++) {
    const ar = a.offset + i * a.rowStride;
    for (let j = 0; j < c.cols; j++) {
      let s = bias ? bias.data[bias.offset + j] : 0;
      let ai = ar;
      let bi = b.offset + j * b.colStride;
      for (let t = 0; t < a.cols; t++) {
        s += ad[ai] * bd[bi];
        ai += a.colStride;
        bi += b.rowStride;
      }
      cd[c.offset + i * c.rowStride + j * c.colStride] = s;
    }
  }
}

/** Runs a batched product out[...] = act(A[...] @ B[...] + bias) over broadcast batch axes. */
function batched(
  engine: MatmulEngine,
  a: CpuTensor,
  b: CpuTensor,
  out: CpuTensor,
  opts: {
    transA?: boolean;
    transB?: boolean;
    bias?: CpuTensor;
    activation?: Activation;
    bConstant?: boolean;
    bVersion?: number;
    /** The product may finish later, at the engine's `settle` (`KernelArgs.deferred`). */
    deferred?: boolean;
  },
): void {
  const batch = out.shape.slice(0, -2);
  const av = broadcastView(stridedView(a, a.shape.slice(0, -2), a.stride.slice(0, -2), a.offset), batch);
  const bv = broadcastView(stridedView(b, b.shape.slice(0, -2), b.stride.slice(0, -2), b.offset), batch);
  const ov = stridedView(out, batch, out.stride.slice(0, -2), out.offset);
  const bias = opts.bias ? { data: opts.bias.data as Float32Array, offset: opts.bias.offset } : undefined;
  // one B for every batch entry: cacheable when constant (the cache keys on the exact view, see MatmulOptions)
  const single = b.shape.length === 2;
  const r = out.shape.length;
  const [m, n] = [out.shape[r - 2], out.shape[r - 1]];
  const k = opts.transA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
  if (!opts.activation && batch.length > 0 && m * n * k <= SMALL_PRODUCT) {
    // many tiny products (e.g. per-token 9-tap windows of a depthwise-conv gradient): a direct loop beats
    // packing operands for the engine once per batch entry
    forEachOffset(batch, [ov, av, bv], (o) => {
      smallProduct(mat(a, o[1], opts.transA), mat(b, o[2], opts.transB), mat(out, o[0]), bias);
    });
    return;
  }
  forEachOffset(batch, [ov, av, bv], (o) => {
    engine.matmul(mat(a, o[1], opts.transA), mat(b, o[2], opts.transB), mat(out, o[0]), {
      bias,
      activation: opts.activation,
      bConstant: opts.bConstant && single,
      bVersion: opts.bVersion,
      deferred: opts.deferred,
    });
  });
}

/** The transpose of a matrix view (rows and columns swapped, no copy). */
function transposed(v: MatView): MatView {
  return { ...v, rows: v.cols, cols: v.rows, rowStride: v.colStride, colStride: v.rowStride };
}

/** Builds the product kernels for one engine. */
export function productKernels(
  engine: MatmulEngine,
  scratch: ScratchProvider,
): KernelTable<
  CpuTensor,
  'matmul' | 'linear' | 'affine' | 'conv2d' | 'attention' | 'attention_mlp' | 'depthwise_weight_grad'
> {
  const matmul: Kernel<CpuTensor, 'matmul'> = (args) => {
    const [a, b] = args.inputs;
    const { transA, transB } = args.attrs;
    const o = args.out!;
    if (!isDense(o)) return matmulKernels.matmul(args);
    if (b.shape.length === 2 && a.shape.length > 2 && !transA && isDense(a)) {
      // one B for a dense stack of A matrices: one product of all their rows ([.., m, k] as [rows, k]), not a
      // product per batch entry (e.g. [1, 192, 14, 3] @ [3, 14] in an adaptive pool's gradient)
      const k = a.shape[a.shape.length - 1];
      const n = o.shape[o.shape.length - 1];
      const rows = count(a) / Math.max(1, k);
      batched(
        engine,
        stridedView(a, [rows, k], [k, 1], a.offset),
        b,
        stridedView(o, [rows, n], [n, 1], o.offset),
        {
          transB,
          bConstant: args.constants?.[1],
          bVersion: args.versions?.[1],
          deferred: args.deferred,
        },
      );
      return o;
    }
    batched(engine, a, b, o, {
      transA,
      transB,
      bConstant: args.constants?.[1],
      bVersion: args.versions?.[1],
      deferred: args.deferred,
    });
    return o;
  };

  const linear: Kernel<CpuTensor, 'linear'> = (args) => {
    const [x, w, bias] = args.inputs;
    const o = args.out!;
    const { activation } = args.attrs;
    const k = x.shape[x.shape.length - 1];
    if (!isDense(x) || !isDense(o)) {
      // flatten is impossible without a copy: run as a batched product
      const x2 = x.shape.length === 1 ? stridedView(x, [1, k], [0, x.stride[0]], x.offset) : x;
      const o2 = o.shape.length === 1 ? stridedView(o, [1, o.shape[0]], [0, o.stride[0]], o.offset) : o;
      batched(engine, x2, w, o2, {
        transB: true,
        bias,
        activation,
        bConstant: args.constants?.[1],
        bVersion: args.versions?.[1],
      });
      return o;
    }
    const rows = count(x) / k;
    const n = w.shape[0];
    engine.matmul(
      { data: x.data as Float32Array, offset: x.offset, rows, cols: k, rowStride: k, colStride: 1 },
      {
        data: w.data as Float32Array,
        offset: w.offset,
        rows: k,
        cols: n,
        rowStride: w.stride[1],
        colStride: w.stride[0],
      },
      { data: o.data as Float32Array, offset: o.offset, rows, cols: n, rowStride: n, colStride: 1 },
      {
        bias: bias ? { data: bias.data as Float32Array, offset: bias.offset } : undefined,
        activation,
        bConstant: args.constants?.[1],
        bVersion: args.versions?.[1],
      },
    );
    return o;
  };

  const affine: Kernel<CpuTensor, 'affine'> = (args) => {
    const [x, w, bias] = args.inputs;
    const { activation } = args.attrs;
    batched(engine, x, w, args.out!, {
      bias,
      activation,
      bConstant: args.constants?.[1],
      bVersion: args.versions?.[1],
    });
    return args.out!;
  };

  const conv2d: Kernel<CpuTensor, 'conv2d'> = (args) => {
    const [x, w, bias] = args.inputs;
    const o = args.out!;
    const { attrs } = args;
    if (isDepthwise3x3(x, w, attrs)) return depthwise3x3(args);
    const [n, c, h, wd] = x.shape;
    const [oc, , kh, kw] = w.shape;
    const patchLike =
      attrs.groups === 1 &&
      attrs.padding[0] === 0 &&
      attrs.padding[1] === 0 &&
      attrs.stride[0] === kh &&
      attrs.stride[1] === kw;
    if (
      !patchLike ||
      !isDense(x) ||
      !isDense(w) ||
      !isDense(o) ||
      (bias && bias.stride[0] !== 1) ||
      h % kh !== 0 ||
      wd % kw !== 0
    ) {
      return convKernels.conv2d(args);
    }
    // Non-overlapping windows (1x1 convs and patch embeddings): one product per image with cols
    // [c·kh·kw, pixels], which for a 1x1 conv is x[n] itself, read in place, and for a patch embedding is
    // gathered into scratch. A weight the engine keeps packed between runs (a constant or a parameter) is B
    // of the transposed product y[n]ᵀ = colsᵀ · Wᵀ, with the bias fused, transposed into NCHW after; any
    // other weight (a gradient pass's reshaped copy, packed on every call either way) is A of
    // y[n] = W · cols, written in place.
    const cached = args.constants?.[1] === true;
    const [, , oh, ow] = o.shape;
    const pixels = oh * ow;
    const kk = c * kh * kw;
    const unit = kh === 1 && kw === 1;
    const yLength = cached ? pixels * oc : 0;
    const buf = scratch(yLength + (unit ? 0 : pixels * kk));
    const yT = buf.subarray(0, yLength);
    const colsT = buf.subarray(yLength);
    const xd = x.data as Float32Array;
    const wv: MatView = {
      data: w.data as Float32Array,
      offset: w.offset,
      rows: oc,
      cols: kk,
      rowStride: kk,
      colStride: 1,
    };
    for (let b = 0; b < n; b++) {
      const xb = x.offset + b * c * h * wd;
      let cols: MatView;
      if (unit) cols = { data: xd, offset: xb, rows: c, cols: pixels, rowStride: pixels, colStride: 1 };
      else {
        // row p = (i, j) of colsT holds window (i, j) in (channel, row, column) order: runs of kw floats
        let at = 0;
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++)
            for (let ch = 0; ch < c; ch++)
              for (let u = 0; u < kh; u++) {
                const src = xb + (ch * h + i * kh + u) * wd + j * kw;
                for (let v = 0; v < kw; v++) colsT[at++] = xd[src + v];
              }
        cols = { data: colsT, offset: 0, rows: kk, cols: pixels, rowStride: 1, colStride: kk };
      }
      const yo = o.offset + b * oc * pixels;
      if (cached) {
        engine.matmul(
          transposed(cols),
          transposed(wv),
          { data: yT, offset: 0, rows: pixels, cols: oc, rowStride: oc, colStride: 1 },
          {
            bias: bias ? { data: bias.data as Float32Array, offset: bias.offset } : undefined,
            bConstant: true,
            bVersion: args.versions?.[1],
          },
        );
        const ob = stridedView(o, [oc, pixels], [pixels, 1], yo);
        const y = ndarray(yT, [oc, pixels], [1, oc], 0) as CpuTensor;
        if (!transposedCopy(ob, y)) stridedCopy(ob, y); // one pixel or one channel: no transpose
        continue;
      }
      engine.matmul(wv, cols, {
        data: o.data as Float32Array,
        offset: yo,
        rows: oc,
        cols: pixels,
        rowStride: pixels,
        colStride: 1,
      });
      if (bias) {
        const od = o.data;
        for (let ch = 0; ch < oc; ch++) {
          const bv = bias.data[bias.offset + ch];
          for (let p = 0; p < pixels; p++) od[yo + ch * pixels + p] += bv;
        }
      }
    }
    return o;
  };

  const attention = attentionKernel(engine, scratch);
  return {
    matmul,
    linear,
    affine,
    conv2d,
    attention,
    attention_mlp: attention,
    depthwise_weight_grad: depthwiseWeightGrad,
  };
}
