// Fused kernels of the WeightFormer layers (SPEC sections 3 and 4).
//
// DynLinear, bilateral (6 passes instead of ~20 lowered ops): (1) u = silu(wfm(2x2-pooled tokens)),
// pooling read inline; (2) [u1 @ w1 | u2 @ w2] in one kernel; (3) Wd = aᵀc · s/N; (4) column norms;
// (5) W = Wd / (norm + 1) + w; (6) y = act(x @ W + b) per sample. With no pooled tokens (a grid of one
// row or column) the dynamic term is empty and the layer is one affine pass.
//
// DynDWConv, adaptive (5 passes): (1) 3x3 adaptive pooling; (2) gelu(wfm0 · p + b0) per cell; (3)
// kd = wfm2 · h; (4) k = kd / (norm3x3 + 1) + w; (5) the per-sample depthwise 3x3 convolution plus bias.
//
// The ablation strategies have no fused kernel: the backend's `fuses` hook declines them, so compile lowers
// them to primitives.
import { adaptiveBin, BackendError } from '@wf/core';
import { coords, geluExpr, idiv, int, kernelSource, lit, Names, offset, siluExpr } from '../codegen.js';
import { definePlans, type Plan, type PlanBuilder, type Step, stepRef, steps } from '../plan.js';
import { floop } from './conv.js';
import { matmulStep } from './linalg.js';

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Which applications of the dynamic layers the fused kernels take (the backend's `fuses` hook): DynLinear
 * with the bilateral strategy, DynDWConv with the adaptive one. Lowering runs the other strategies (the
 * ablation variants) as their primitives on this backend.
 */
export const FUSED_STRATEGY = { dyn_linear: 'bilateral', dyn_dwconv: 'adaptive' } as const;

/** Fails for a strategy the fused kernel does not take (lowering should never have sent it). */
function checkStrategy(op: keyof typeof FUSED_STRATEGY, strategy: string): void {
  if (strategy !== FUSED_STRATEGY[op])
    throw new BackendError(
      `gpu.js ${op} fuses only the ${FUSED_STRATEGY[op]} strategy, not ${strategy}: lower it (compile consults the backend's fuses hook)`,
    );
}

/** dyn_linear: bilateral fused (see the file header), other strategies lowered. */
export const dynLinear: PlanBuilder<'dyn_linear'> = (spec): Plan => {
  const { inputTypes, type, attrs, twoD } = spec;
  checkStrategy('dyn_linear', attrs.strategy);
  if (sizeOf(type.shape) === 0) return { kind: 'empty' };
  const [x, w] = inputTypes;
  const [B, N, Cin] = x.shape;
  const Cout = w.shape[1];
  const [hg, wg] = attrs.grid;
  const ph = Math.floor(hg / 2);
  const pw = Math.floor(wg / 2);
  const M = ph * pw;
  // inputs: 0 x, 1 w, 2 b, 3 wfm_weight [Z, Cin], 4 wfm_bias [Z], 5 w1 [Cin/4, Cin], 6 w2 [Cout/4, Cout]
  if (M === 0) {
    return steps(
      matmulStep(x.shape, w.shape, type.shape, { a: 0, b: 1, bias: 2, activation: attrs.activation, twoD }),
    );
  }
  const c1 = Cin / 4;
  const c2 = Cout / 4;
  const Z = c1 + c2;
  const out: Step[] = [];

  // (1) u[b, m, j] = silu(sum_c pool(x)[b, m, c] * wfm[j, c] + wfm_b[j]) (z is only used through silu)
  {
    const n = new Names();
    const c = coords('t', [B, M, Z], n);
    const [cb, cm, cj] = c.c;
    const lines = [c.code];
    let py = cm;
    let px = '0.0';
    if (pw > 1) {
      lines.push(idiv(cm, pw, 'py', 'px'));
      [py, px] = ['py', 'px'];
    }
    lines.push(
      `let x00 = ${cb} * ${lit(N * Cin)} + (${py} * ${lit(2 * wg)} + ${px} * 2.0) * ${lit(Cin)};`,
      `let ow = ${cj} * ${lit(Cin)};`,
      'let s = 0.0;',
      `for (let k = 0; k < ${int(Cin)}; k++) { let p = in0[x00] + in0[x00 + ${lit(Cin)}] + in0[x00 + ${lit(wg * Cin)}] + in0[x00 + ${lit((wg + 1) * Cin)}]; s += p * in1[ow]; x00 = x00 + 1.0; ow = ow + 1.0; }`,
    );
    lines.push(`let z = 0.25 * s + bias[${cj}];`);
    const r = siluExpr('z', n, lines);
    out.push({
      source: kernelSource(['in0', 'in1', 'bias'], lines.join('\n  '), r),
      size: B * M * Z,
      args: [0, 3, 4],
    });
  }
  // (2) ac[b, m, col] = col < Cin ? sum_k u1[k] w1[k, col] : sum_k u2[k] w2[k, col - Cin]
  {
    const n = new Names();
    const c = coords('t', [B * M, Cin + Cout], n);
    const [cr, cc] = c.c;
    const lines = [
      c.code,
      `let zr = ${cr} * ${lit(Z)};`,
      'let s = 0.0;',
      `if (${cc} < ${lit(Cin)}) {`,
      `  let ow = ${cc};`,
      `  for (let k = 0; k < ${int(c1)}; k++) { s += in0[zr] * in1[ow]; zr = zr + 1.0; ow = ow + ${lit(Cin)}; }`,
      '} else {',
      `  let ow = ${cc} - ${lit(Cin)}; zr = zr + ${lit(c1)};`,
      `  for (let k = 0; k < ${int(c2)}; k++) { s += in0[zr] * in2[ow]; zr = zr + 1.0; ow = ow + ${lit(Cout)}; }`,
      '}',
    ];
    out.push({
      source: kernelSource(['in0', 'in1', 'in2'], lines.join('\n  '), 's'),
      size: B * M * (Cin + Cout),
      args: [stepRef(0), 5, 6],
    });
  }
  // (3) wd[b, i, o] = sum_m ac[b, m, i] * ac[b, m, Cin + o] * s / N
  {
    const n = new Names();
    const c = coords('t', [B, Cin, Cout], n);
    const [cb, ci, co] = c.c;
    const row = Cin + Cout;
    const lines = [
      c.code,
      `let oa = ${offset([cb, ci], [M * row, 1])};`,
      `let oc = ${offset([cb, co], [M * row, 1], Cin)};`,
      'let s = 0.0;',
      `for (let k = 0; k < ${int(M)}; k++) { s += in0[oa] * in0[oc]; oa = oa + ${lit(row)}; oc = oc + ${lit(row)}; }`,
    ];
    out.push({
      source: kernelSource(['in0'], lines.join('\n  '), `s * ${lit(Cin ** -0.5 / N)}`),
      size: B * Cin * Cout,
      args: [stepRef(1)],
    });
  }
  // (4) norm[b, o] = sqrt(sum_i wd[b, i, o]^2)
  {
    const n = new Names();
    const c = coords('t', [B, Cout], n);
    const lines = [
      c.code,
      `let o = ${offset(c.c, [Cin * Cout, 1])};`,
      'let s = 0.0;',
      `for (let k = 0; k < ${int(Cin)}; k++) { let v = in0[o]; s += v * v; o = o + ${lit(Cout)}; }`,
    ];
    out.push({
      source: kernelSource(['in0'], lines.join('\n  '), 'Math.sqrt(s)'),
      size: B * Cout,
      args: [stepRef(2)],
    });
  }
  // (5) W[b, i, o] = wd / (norm[b, o] + 1) + w[i, o]
  {
    const n = new Names();
    const c = coords('t', [B, Cin, Cout], n);
    const [cb, ci, co] = c.c;
    const lines = [c.code];
    out.push({
      source: kernelSource(
        ['wd', 'nrm', 'w'],
        lines.join('\n  '),
        `wd[t] / (nrm[${offset([cb, co], [Cout, 1])}] + 1.0) + w[${offset([ci, co], [Cout, 1])}]`,
      ),
      size: B * Cin * Cout,
      args: [stepRef(2), stepRef(3), 1],
    });
  }
  // (6) y = act(x @ W[b] + bias)
  out.push(
    matmulStep(x.shape, [B, Cin, Cout], type.shape, {
      a: 0,
      b: stepRef(4),
      bias: 2,
      activation: attrs.activation,
      twoD,
    }),
  );
  return steps(...out);
};

/** Statements for bin [lo, hi) of cell `i` (a literal index) of 3 over n: constants. */
function bins(n: number): [number, number][] {
  return [0, 1, 2].map((i) => adaptiveBin(i, n, 3));
}

/** dyn_dwconv: adaptive fused (see the file header), other strategies lowered. */
export const dynDWConv: PlanBuilder<'dyn_dwconv'> = (spec): Plan => {
  const { inputTypes, type, attrs } = spec;
  checkStrategy('dyn_dwconv', attrs.strategy);
  if (sizeOf(type.shape) === 0) return { kind: 'empty' };
  const [B, D, H, W] = inputTypes[0].shape;
  // inputs: 0 x, 1 w [D,1,3,3], 2 b [D], 3 wfm0_weight [D,D,1,1], 4 wfm0_bias [D], 5 wfm2_weight [D,D,1,1]
  const out: Step[] = [];
  // (1) p[b, d, cell]: the 3x3 adaptive bins are constants of H and W
  {
    const n = new Names();
    const c = coords('t', [B * D, 3, 3], n);
    const [cr, ci, cj] = c.c;
    const rb = bins(H);
    const cbins = bins(W);
    const pick = (cv: string, v: [number, number][], k: 0 | 1) =>
      `(${cv} < 0.5 ? ${lit(v[0][k])} : (${cv} < 1.5 ? ${lit(v[1][k])} : ${lit(v[2][k])}))`;
    const maxH = Math.max(...rb.map(([a, b]) => b - a));
    const maxW = Math.max(...cbins.map(([a, b]) => b - a));
    const lines = [
      c.code,
      `let y0 = ${pick(ci, rb, 0)}; let y1 = ${pick(ci, rb, 1)};`,
      `let x0 = ${pick(cj, cbins, 0)}; let x1 = ${pick(cj, cbins, 1)};`,
      `let base = ${cr} * ${lit(H * W)};`,
      'let s = 0.0;',
      floop(
        maxH,
        n,
        (fy) =>
          `if (y0 + ${fy} < y1) { ${floop(maxW, n, (fx) => `if (x0 + ${fx} < x1) { s += in0[base + (y0 + ${fy}) * ${lit(W)} + x0 + ${fx}]; }`)} }`,
      ),
    ];
    out.push({
      source: kernelSource(['in0'], lines.join('\n  '), 's / ((y1 - y0) * (x1 - x0))'),
      size: B * D * 9,
      args: [0],
    });
  }
  // (2) h[b, o, cell] = gelu(sum_c w0[o, c] p[b, c, cell] + b0[o])
  {
    const n = new Names();
    const c = coords('t', [B, D, 9], n);
    const [cb, co, cc] = c.c;
    const lines = [
      c.code,
      `let op = ${offset([cb, cc], [D * 9, 1])};`,
      `let ow = ${co} * ${lit(D)};`,
      'let s = 0.0;',
      `for (let k = 0; k < ${int(D)}; k++) { s += in1[ow] * in0[op]; ow = ow + 1.0; op = op + 9.0; }`,
      `let y = s + bias[${co}];`,
    ];
    const r = geluExpr('y', false, n, lines);
    out.push({
      source: kernelSource(['in0', 'in1', 'bias'], lines.join('\n  '), r),
      size: B * D * 9,
      args: [stepRef(0), 3, 4],
    });
  }
  // (3) kd[b, o, cell] = sum_c w2[o, c] h[b, c, cell]
  {
    const n = new Names();
    const c = coords('t', [B, D, 9], n);
    const [cb, co, cc] = c.c;
    const lines = [
      c.code,
      `let op = ${offset([cb, cc], [D * 9, 1])};`,
      `let ow = ${co} * ${lit(D)};`,
      'let s = 0.0;',
      `for (let k = 0; k < ${int(D)}; k++) { s += in1[ow] * in0[op]; ow = ow + 1.0; op = op + 9.0; }`,
    ];
    out.push({
      source: kernelSource(['in0', 'in1'], lines.join('\n  '), 's'),
      size: B * D * 9,
      args: [stepRef(1), 5],
    });
  }
  // (4) k[b, d, cell] = kd / (||kd[b, d, :]|| + 1) + w[d, cell]
  {
    const n = new Names();
    const c = coords('t', [B * D, 9], n);
    const [cr, cc] = c.c;
    const lines = [
      c.code,
      `let o = ${cr} * 9.0;`,
      'let s = 0.0;',
      'for (let k = 0; k < 9; k++) { let v = in0[o]; s += v * v; o = o + 1.0; }',
    ];
    let d = cr;
    if (B > 1) {
      lines.push(idiv(cr, D, 'bb', 'dd'));
      d = 'dd';
    }
    out.push({
      source: kernelSource(
        ['in0', 'w'],
        lines.join('\n  '),
        `in0[t] / (Math.sqrt(s) + 1.0) + w[${d} * 9.0 + ${cc}]`,
      ),
      size: B * D * 9,
      args: [stepRef(2), 1],
    });
  }
  // (5) y[b, d, i, j] = sum_{3x3} x[b, d, i + dy - 1, j + dx - 1] k[b, d, dy, dx] + bias[d]
  {
    const n = new Names();
    const c = coords('t', [B * D, H, W], n);
    const [cr, ci, cj] = c.c;
    const lines = [c.code, `let xb = ${cr} * ${lit(H * W)};`, `let kb = ${cr} * 9.0;`, 'let s = 0.0;'];
    for (let dy = 0; dy < 3; dy++) {
      const conds: string[] = [];
      if (dy === 0) conds.push(`${ci} >= 1.0`);
      if (dy === 2) conds.push(`${ci} < ${lit(H - 1)}`);
      for (let dx = 0; dx < 3; dx++) {
        const cx = [...conds];
        if (dx === 0) cx.push(`${cj} >= 1.0`);
        if (dx === 2) cx.push(`${cj} < ${lit(W - 1)}`);
        const read = `s += in0[xb + (${ci} + ${lit(dy - 1)}) * ${lit(W)} + ${cj} + ${lit(dx - 1)}] * kk[kb + ${lit(dy * 3 + dx)}];`;
        lines.push(cx.length ? `if (${cx.join(' && ')}) { ${read} }` : read);
      }
    }
    let d = cr;
    if (B > 1) {
      lines.push(idiv(cr, D, 'bb', 'dd'));
      d = 'dd';
    }
    out.push({
      source: kernelSource(['in0', 'kk', 'bias'], lines.join('\n  '), `s + bias[${d}]`),
      size: B * D * H * W,
      args: [0, stepRef(3), 2],
    });
  }
  return steps(...out);
};

/** Plan builders of the WeightFormer composites, keyed by op. */
export const dynamicPlans = definePlans({
  dyn_linear: dynLinear,
  dyn_dwconv: dynDWConv,
});
