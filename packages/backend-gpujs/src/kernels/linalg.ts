// Matrix products: the batched matmul primitive (broadcast batch axes, either operand transposed) and the
// fused composites built on the same kernel — linear (x @ Wᵀ + b) and affine (x @ w + b), each with an
// optional GELU epilogue — so a layer is one pass instead of transpose, product, bias and activation.
import { stridesOf } from '@wf/core';
import {
  coords,
  geluExpr,
  int,
  kernelSource,
  kernelSource2d,
  lit,
  MAX_2D_EXTENT,
  Names,
  offset,
} from '../codegen.js';
import { type ArgRef, definePlans, type Plan, type PlanBuilder, type Step, steps } from '../plan.js';

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** An epilogue applied to each product (bias argument, activation) and the launch shape. */
export interface Epilogue {
  bias?: ArgRef;
  activation?: string;
  /** Launch 2-D (see `OpSpec.twoD`). */
  twoD?: boolean;
}

/** How one operand is read: element (row r, col k) of batch offset base is at base + r*rs + k*ks. */
interface Operand {
  shape: readonly number[];
  arg: ArgRef;
  /** Stride of the "row" index (m for A, n for B) and of the shared k index. */
  rowStride: number;
  kStride: number;
}

/** Strides of an operand's batch axes read at the output's batch coordinates (stride 0 broadcasts). */
function batchStrides(shape: readonly number[], outBatch: readonly number[]): number[] {
  const s = stridesOf(shape);
  const rb = shape.length - 2;
  const lead = outBatch.length - rb;
  return outBatch.map((_, i) => {
    const ax = i - lead;
    return ax < 0 || shape[ax] === 1 ? 0 : s[ax];
  });
}

/**
 * A matmul-like kernel: out[..., m, n] = act(sum_k A(m, k) B(n, k) + bias[n]), the k loop unrolled by 4
 * into four accumulators (summed pairwise at the end). With `twoD` it launches 2-D (x = n, y = the
 * flattened batch and m), so the A row is uniform along x.
 */
function productStep(out: readonly number[], k: number, a: Operand, b: Operand, epi: Epilogue = {}): Step {
  const names = new Names();
  const lines: string[] = [];
  const r = out.length;
  const n = out[r - 1];
  const rows = sizeOf(out) / n;
  const twoD = !!epi.twoD && n > 1 && rows > 1 && n <= MAX_2D_EXTENT && rows <= MAX_2D_EXTENT;
  let cb: string[];
  let cm: string;
  let cn: string;
  if (twoD) {
    const c = coords('ty', out.slice(0, r - 1), names);
    lines.push(c.code);
    cb = c.c.slice(0, r - 2);
    cm = c.c[r - 2];
    cn = 'tx';
  } else {
    const c = coords('t', out, names);
    lines.push(c.code);
    cb = c.c.slice(0, r - 2);
    [cm, cn] = [c.c[r - 2], c.c[r - 1]];
  }
  const batch = out.slice(0, r - 2);
  const aBase = offset([...cb, cm], [...batchStrides(a.shape, batch), a.rowStride]);
  const bBase = offset([...cb, cn], [...batchStrides(b.shape, batch), b.rowStride]);
  const [as, bs] = [a.kStride, b.kStride];
  const term = (i: number) =>
    i === 0 ? 'in0[oa] * in1[ob]' : `in0[oa + ${lit(i * as)}] * in1[ob + ${lit(i * bs)}]`;
  lines.push(
    `let oa = ${aBase};`,
    `let ob = ${bBase};`,
    'let s0 = 0.0; let s1 = 0.0; let s2 = 0.0; let s3 = 0.0;',
  );
  const k4 = Math.floor(k / 4);
  if (k4 > 0) {
    lines.push(
      `for (let j = 0; j < ${int(k4)}; j++) { s0 += ${term(0)}; s1 += ${term(1)}; s2 += ${term(2)}; s3 += ${term(3)}; oa = oa + ${lit(4 * as)}; ob = ob + ${lit(4 * bs)}; }`,
    );
  }
  for (let i = 0; i < k % 4; i++) lines.push(`s${i} += ${term(i)};`);
  lines.push('let s = (s0 + s1) + (s2 + s3);');
  const args = ['in0', 'in1'];
  const refs: ArgRef[] = [a.arg, b.arg];
  let result = 's';
  if (epi.bias !== undefined) {
    args.push('bias');
    refs.push(epi.bias);
    result = `s + bias[${cn}]`;
  }
  if (epi.activation) {
    lines.push(`let y = ${result};`);
    result = geluExpr('y', epi.activation === 'gelu_tanh', names, lines);
  }
  const body = lines.join('\n  ');
  return twoD
    ? { source: kernelSource2d(args, body, result), size: sizeOf(out), output: [n, rows], args: refs }
    : { source: kernelSource(args, body, result), size: sizeOf(out), args: refs };
}

/**
 * out = a @ b over the last two axes with batch broadcasting; `transA`/`transB` read an operand
 * transposed. `a`/`b`/`bias` are argument references.
 */
export function matmulStep(
  aShape: readonly number[],
  bShape: readonly number[],
  out: readonly number[],
  opts: { transA?: boolean; transB?: boolean; a?: ArgRef; b?: ArgRef } & Epilogue = {},
): Step {
  const sa = stridesOf(aShape);
  const sb = stridesOf(bShape);
  const ra = aShape.length;
  const rb = bShape.length;
  const k = opts.transA ? aShape[ra - 2] : aShape[ra - 1];
  const A: Operand = {
    shape: aShape,
    arg: opts.a ?? 0,
    rowStride: opts.transA ? sa[ra - 1] : sa[ra - 2],
    kStride: opts.transA ? sa[ra - 2] : sa[ra - 1],
  };
  const B: Operand = {
    shape: bShape,
    arg: opts.b ?? 1,
    rowStride: opts.transB ? sb[rb - 2] : sb[rb - 1],
    kStride: opts.transB ? sb[rb - 1] : sb[rb - 2],
  };
  return productStep(out, k, A, B, opts);
}

/** matmul primitive. */
export const matmul: PlanBuilder<'matmul'> = ({ inputTypes, type, attrs, twoD }): Plan => {
  if (sizeOf(type.shape) === 0) return { kind: 'empty' };
  return steps(matmulStep(inputTypes[0].shape, inputTypes[1].shape, type.shape, { ...attrs, twoD }));
};

/** linear composite: act(x @ weightᵀ + bias), weight [out, in], in one pass. */
export const linear: PlanBuilder<'linear'> = ({ inputTypes, type, attrs, twoD }): Plan => {
  if (sizeOf(type.shape) === 0) return { kind: 'empty' };
  const [x, w] = inputTypes;
  const din = w.shape[1];
  const rows = sizeOf(x.shape) / Math.max(din, 1);
  return steps(
    matmulStep([rows, din], w.shape, [rows, w.shape[0]], {
      transB: true,
      bias: inputTypes.length > 2 ? 2 : undefined,
      activation: attrs.activation,
      twoD,
    }),
  );
};

/** affine composite: act(x @ w + bias) with batch broadcasting, in one pass. */
export const affine: PlanBuilder<'affine'> = ({ inputTypes, type, attrs, twoD }): Plan => {
  if (sizeOf(type.shape) === 0) return { kind: 'empty' };
  return steps(
    matmulStep(inputTypes[0].shape, inputTypes[1].shape, type.shape, {
      bias: 2,
      activation: attrs.activation,
      twoD,
    }),
  );
};

/** Plan builders of the matrix products, keyed by op. */
export const linalgPlans = definePlans({ matmul, linear, affine });
