// Convolution and pooling over NCHW tensors, one output element per thread: conv2d (stride, zero
// padding, groups, optional bias), average pooling with a fixed window, and adaptive average pooling with
// PyTorch's (possibly overlapping) bins computed in the kernel.
import { adaptiveBin } from '@wf/core';
import { coords, idiv, int, kernelSource, lit, Names } from '../codegen.js';
import { definePlans, type Plan, type PlanBuilder, type Step, steps } from '../plan.js';

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * A constant-bound loop whose body sees a float counter (0, 1, ...): `let f = 0.0; for (...) { body; f++ }`.
 * Float counters keep index arithmetic in one type on every backend.
 */
export function floop(n: number, names: Names, body: (f: string) => string): string {
  const f = names.next('f');
  const j = names.next('j');
  return `let ${f} = 0.0; for (let ${j} = 0; ${j} < ${int(n)}; ${j}++) { ${body(f)} ${f} = ${f} + 1.0; }`;
}

/** conv2d step: x [B,C,H,W] (arg 0), w [O,C/g,KH,KW] (arg 1), optional bias (arg 2). */
export function conv2dStep(
  x: readonly number[],
  w: readonly number[],
  out: readonly number[],
  attrs: { stride: [number, number]; padding: [number, number]; groups: number },
  hasBias: boolean,
): Step {
  const [, C, H, W] = x;
  const [O, Cg, KH, KW] = w;
  const [sh, sw] = attrs.stride;
  const [ph, pw] = attrs.padding;
  const og = O / attrs.groups;
  const names = new Names();
  const c = coords('t', out, names);
  const [cb, co, cy, cx] = c.c;
  const lines = [c.code];
  let g = '0.0';
  if (attrs.groups > 1 && og > 1) {
    lines.push(idiv(co, og, 'g', 'gr'));
    g = 'g';
  } else if (attrs.groups > 1) g = co;
  lines.push(
    `let xb = ${cb} * ${lit(C * H * W)} + ${g} * ${lit(Cg * H * W)};`,
    `let wb = ${co} * ${lit(Cg * KH * KW)};`,
    `let y0 = ${cy} * ${lit(sh)} - ${lit(ph)};`,
    `let x0 = ${cx} * ${lit(sw)} - ${lit(pw)};`,
    'let s = 0.0;',
  );
  const padded = ph > 0 || pw > 0;
  const inner = floop(Cg, names, (fc) =>
    floop(KH, names, (fy) => {
      const row = `let iy = y0 + ${fy}; ${padded ? `if (iy >= 0.0 && iy < ${lit(H)}) {` : '{'}`;
      const cols = floop(KW, names, (fx) => {
        const read = `s += in0[xb + ${fc} * ${lit(H * W)} + iy * ${lit(W)} + ix] * in1[wb + (${fc} * ${lit(KH)} + ${fy}) * ${lit(KW)} + ${fx}];`;
        return `let ix = x0 + ${fx}; ${padded ? `if (ix >= 0.0 && ix < ${lit(W)}) { ${read} }` : read}`;
      });
      return `${row} ${cols} }`;
    }),
  );
  lines.push(inner);
  const args = hasBias ? ['in0', 'in1', 'bias'] : ['in0', 'in1'];
  return {
    source: kernelSource(args, lines.join('\n  '), hasBias ? `s + bias[${co}]` : 's'),
    size: sizeOf(out),
    args: hasBias ? [0, 1, 2] : [0, 1],
  };
}

/** conv2d primitive. */
export const conv2d: PlanBuilder<'conv2d'> = ({ inputTypes, type, attrs }): Plan => {
  if (sizeOf(type.shape) === 0) return { kind: 'empty' };
  return steps(
    conv2dStep(inputTypes[0].shape, inputTypes[1].shape, type.shape, attrs, inputTypes.length > 2),
  );
};

/** avg_pool2d: mean of a kh x kw window at stride, no padding. */
export const avgPool2d: PlanBuilder<'avg_pool2d'> = ({ inputTypes, type, attrs }): Plan => {
  if (sizeOf(type.shape) === 0) return { kind: 'empty' };
  const [, , H, W] = inputTypes[0].shape;
  const [kh, kw] = attrs.kernel;
  const [sh, sw] = attrs.stride;
  const names = new Names();
  const c = coords('t', type.shape, names);
  const [cb, cc, cy, cx] = c.c;
  const C = type.shape[1];
  const lines = [
    c.code,
    `let base = (${cb} * ${lit(C)} + ${cc}) * ${lit(H * W)} + ${cy} * ${lit(sh * W)} + ${cx} * ${lit(sw)};`,
    'let s = 0.0;',
    floop(kh, names, (fy) => floop(kw, names, (fx) => `s += in0[base + ${fy} * ${lit(W)} + ${fx}];`)),
  ];
  return steps({
    source: kernelSource(['in0'], lines.join('\n  '), `s / ${lit(kh * kw)}`),
    size: sizeOf(type.shape),
    args: [0],
  });
};

/** Largest bin of adaptive pooling of n inputs into `out` cells. */
function maxBin(n: number, out: number): number {
  let m = 0;
  for (let i = 0; i < out; i++) {
    const [a, b] = adaptiveBin(i, n, out);
    m = Math.max(m, b - a);
  }
  return m;
}

/** Statements computing the bin [lo, hi) of output cell `i` of `out` over `n` inputs (exact integers). */
function binCode(i: string, n: number, out: number, lo: string, hi: string, names: Names): string {
  const q0 = names.next('bq');
  const r0 = names.next('br');
  const q1 = names.next('bq');
  const r1 = names.next('br');
  return [
    idiv(`${i} * ${lit(n)}`, out, q0, r0),
    `let ${lo} = ${q0};`,
    idiv(`(${i} + 1.0) * ${lit(n)} + ${lit(out - 1)}`, out, q1, r1),
    `let ${hi} = ${q1};`,
  ].join(' ');
}

/** adaptive_avg_pool2d: cell (i, j) averages rows [floor(iH/oh), ceil((i+1)H/oh)) and likewise columns. */
export const adaptiveAvgPool2d: PlanBuilder<'adaptive_avg_pool2d'> = ({ inputTypes, type, attrs }): Plan => {
  if (sizeOf(type.shape) === 0) return { kind: 'empty' };
  const [, C, H, W] = inputTypes[0].shape;
  const [oh, ow] = attrs.outSize;
  const names = new Names();
  const c = coords('t', type.shape, names);
  const [cb, cc, ci, cj] = c.c;
  const lines = [
    c.code,
    binCode(ci, H, oh, 'y0', 'y1', names),
    binCode(cj, W, ow, 'x0', 'x1', names),
    `let base = (${cb} * ${lit(C)} + ${cc}) * ${lit(H * W)};`,
    'let s = 0.0;',
    floop(
      maxBin(H, oh),
      names,
      (fy) =>
        `if (y0 + ${fy} < y1) { ${floop(maxBin(W, ow), names, (fx) => `if (x0 + ${fx} < x1) { s += in0[base + (y0 + ${fy}) * ${lit(W)} + x0 + ${fx}]; }`)} }`,
    ),
  ];
  return steps({
    source: kernelSource(['in0'], lines.join('\n  '), 's / ((y1 - y0) * (x1 - x0))'),
    size: sizeOf(type.shape),
    args: [0],
  });
};

/** Plan builders of convolution and pooling, keyed by op. */
export const convPlans = definePlans({
  conv2d,
  avg_pool2d: avgPool2d,
  adaptive_avg_pool2d: adaptiveAvgPool2d,
});
