// Reductions (sum, mean, max, L2 norm over any axes), softmax and layer normalization (sum and max are
// primitives; mean, L2 norm, softmax and layer norm are composites fused here). A reduction is one
// kernel per output element looping over the reduced axes with constant bounds; softmax and layer norm
// first compute per-row statistics (max and sum of exponentials; mean and 1/std) in a small kernel, then
// normalize every element in a second pass.
import { normAxes, normAxis, opTable, REDUCE_OPS, type ReduceOp, stridesOf } from '@wf/core';
import { coords, int, kernelSource, lit, Names, offset } from '../codegen.js';
import { definePlans, type Plan, type PlanBuilder, stepRef, steps } from '../plan.js';

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Nested constant-bound loops over `dims` (with element strides `strides`) starting at offset `base`;
 * `body(off)` is the statement run with the running offset variable `off`.
 */
export function loops(
  dims: readonly number[],
  strides: readonly number[],
  base: string,
  names: Names,
  body: (off: string) => string,
): string {
  const live = dims.map((d, i) => ({ d, s: strides[i] })).filter((a) => a.d > 1);
  const emit = (k: number, off: string): string => {
    if (k === live.length) return body(off);
    const o = names.next('o');
    const j = names.next('j');
    return `let ${o} = ${off}; for (let ${j} = 0; ${j} < ${int(live[k].d)}; ${j}++) { ${emit(k + 1, o)} ${o} = ${o} + ${lit(live[k].s)}; }`;
  };
  return emit(0, base);
}

/** The reduction primitives and the reductions that are composites fused here (mean, l2norm). */
type ReducePlanOp = ReduceOp | 'mean' | 'l2norm';

/** A reduction over `axes` of a dense input. */
function reduction(kind: ReducePlanOp): PlanBuilder<ReducePlanOp> {
  return ({ inputTypes, type, attrs }): Plan => {
    const shape = inputTypes[0].shape;
    if (sizeOf(type.shape) === 0) return { kind: 'empty' };
    const axes = normAxes(kind, attrs.axes, shape.length, shape);
    const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const strides = stridesOf(shape);
    const names = new Names();
    // output coordinates, mapped back to the kept input axes
    const c = coords('t', type.shape, names);
    const keptCoords = attrs.keepDims ? kept.map((i) => c.c[i]) : c.c;
    const base = offset(
      keptCoords,
      kept.map((i) => strides[i]),
    );
    const n = axes.reduce((a, i) => a * shape[i], 1);
    const lines = [c.code, `let b = ${base};`];
    const rd = axes.map((i) => shape[i]);
    const rs = axes.map((i) => strides[i]);
    if (n === 0) {
      lines.push(kind === 'reduce_max' ? 'let acc = -1.0 / 0.0;' : 'let acc = 0.0;');
    } else if (kind === 'reduce_max') {
      lines.push(
        'let acc = in0[b];',
        loops(rd, rs, 'b', names, (o) => `acc = Math.max(acc, in0[${o}]);`),
      );
    } else if (kind === 'l2norm') {
      lines.push(
        'let acc = 0.0;',
        loops(rd, rs, 'b', names, (o) => `let v = in0[${o}]; acc += v * v;`),
      );
    } else {
      lines.push(
        'let acc = 0.0;',
        loops(rd, rs, 'b', names, (o) => `acc += in0[${o}];`),
      );
    }
    const result = kind === 'mean' ? `acc / ${lit(n)}` : kind === 'l2norm' ? 'Math.sqrt(acc)' : 'acc';
    return steps({
      source: kernelSource(['in0'], lines.join('\n  '), result),
      size: sizeOf(type.shape),
      args: [0],
    });
  };
}

/** Rows of an axis: the element at (outer, a, inner) is at outer * len * inner + a * inner + inner. */
function axisRows(shape: readonly number[], ax: number) {
  const len = shape[ax];
  const inner = sizeOf(shape.slice(ax + 1));
  const outer = sizeOf(shape.slice(0, ax));
  return { len, inner, outer, rows: outer * inner };
}

/** Statements computing `base`, the offset of element 0 of row `row` (a flat row index). */
function rowBase(row: string, len: number, inner: number, names: Names): string {
  if (inner === 1) return `let base = ${row} * ${lit(len)};`;
  const c = coords(row, [Number.MAX_SAFE_INTEGER, inner], names);
  // coords() leaves the outer coordinate undivided; only the inner split matters
  return `${c.code} let base = ${c.c[0]} * ${lit(len * inner)} + ${c.c[1]};`;
}

/** softmax along one axis: stats [max of each row; sum of exp(x - max)], then exp(x - max) / sum. */
export const softmax: PlanBuilder<'softmax'> = ({ inputTypes, type, attrs }): Plan => {
  const shape = inputTypes[0].shape;
  if (sizeOf(shape) === 0) return { kind: 'empty' };
  const ax = normAxis('softmax', attrs.axis, shape.length, shape);
  const { len, inner, rows } = axisRows(shape, ax);
  const n1 = new Names();
  const statBody = [
    'let isSum = 0.0; let row = t;',
    `if (t >= ${lit(rows)}) { isSum = 1.0; row = t - ${lit(rows)}; }`,
    rowBase('row', len, inner, n1),
    'let m = in0[base];',
    loops([len], [inner], 'base', n1, (o) => `m = Math.max(m, in0[${o}]);`),
    'let s = 0.0;',
    loops([len], [inner], 'base', n1, (o) => `s += Math.exp(in0[${o}] - m);`),
    'let r = m;',
    'if (isSum > 0.5) { r = s; }',
  ].join('\n  ');
  const stats = { source: kernelSource(['in0'], statBody, 'r'), size: 2 * rows, args: [0] };
  const n2 = new Names();
  const c = coords('t', [rows / inner, len, inner], n2);
  const row = offset([c.c[0], c.c[2]], [inner, 1]);
  const normBody = [
    c.code,
    `let row = ${row};`,
    'let m = in1[row];',
    `let s = in1[row + ${lit(rows)}];`,
  ].join('\n  ');
  const norm = {
    source: kernelSource(['in0', 'in1'], normBody, 'Math.exp(in0[t] - m) / s'),
    size: sizeOf(type.shape),
    args: [0, stepRef(0)],
  };
  return steps(stats, norm);
};

/**
 * layer_norm over the last axis: stats [mean of each row; 1 / sqrt(var + eps)] (two-pass variance), then
 * (x - mean) * rstd * weight + bias.
 */
export const layerNorm: PlanBuilder<'layer_norm'> = ({ inputTypes, type, attrs }): Plan => {
  const shape = inputTypes[0].shape;
  if (sizeOf(shape) === 0) return { kind: 'empty' };
  const d = shape[shape.length - 1];
  const rows = sizeOf(shape) / d;
  const n1 = new Names();
  const statBody = [
    'let isR = 0.0; let row = t;',
    `if (t >= ${lit(rows)}) { isR = 1.0; row = t - ${lit(rows)}; }`,
    `let base = row * ${lit(d)};`,
    'let s = 0.0;',
    loops([d], [1], 'base', n1, (o) => `s += in0[${o}];`),
    `let mean = s / ${lit(d)};`,
    'let q = 0.0;',
    loops([d], [1], 'base', n1, (o) => `let u = in0[${o}] - mean; q += u * u;`),
    `let r = mean;`,
    `if (isR > 0.5) { r = 1.0 / Math.sqrt(q / ${lit(d)} + ${lit(attrs.eps)}); }`,
  ].join('\n  ');
  const stats = { source: kernelSource(['in0'], statBody, 'r'), size: 2 * rows, args: [0] };
  const n2 = new Names();
  const c = coords('t', [rows, d], n2);
  const affine = inputTypes.length;
  const args = ['in0', 'st', ...(affine > 1 ? ['w'] : []), ...(affine > 2 ? ['bi'] : [])];
  let result = `(in0[t] - st[${c.c[0]}]) * st[${c.c[0]} + ${lit(rows)}]`;
  if (affine > 1) result = `${result} * w[${c.c[1]}]`;
  if (affine > 2) result = `${result} + bi[${c.c[1]}]`;
  const norm = {
    source: kernelSource(args, c.code, result),
    size: sizeOf(type.shape),
    args: [0, stepRef(0), ...(affine > 1 ? [1] : []), ...(affine > 2 ? [2] : [])],
  };
  return steps(stats, norm);
};

/** Plan builders of the reductions and normalizations, keyed by op. */
export const reducePlans = definePlans({
  ...opTable(REDUCE_OPS, reduction),
  // the mean composite in one kernel (its lowering is sum · 1/n)
  mean: reduction('mean'),
  // the l2norm composite in one kernel (its lowering is sqrt(sum(x²)))
  l2norm: reduction('l2norm'),
  softmax,
  layer_norm: layerNorm,
});
