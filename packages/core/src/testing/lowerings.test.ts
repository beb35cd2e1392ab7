// Cross-checks of the composite lowerings under the float64 oracle: each composite is rewritten here
// directly from its documented formula (SPEC sections 3-6 and the formulas in src/ops/*.ts headers) with
// plain loops, independent of the lowering's op sequence, and compared with `evaluateF64` of the traced op.
// The conformance suite trusts these lowerings as ground truth, so they are checked once here.

import { describe, it } from 'vitest';
import { trace } from '../graph/graph.js';
import { erf } from '../ir/math.js';
import type { DynDWConvStrategy, DynLinearStrategy } from '../ir/ops.js';
import type { Tensor } from '../ir/tensor.js';
import type { TensorData } from '../ir/types.js';
import * as F from '../ops/functional.js';
import { expectClose, randomTensor, rng, seedOf } from './compare.js';
import { evaluateF64 } from './reference-kernels.js';

type Params = Record<string, TensorData>;

const silu = (v: number) => v / (1 + Math.exp(-v));
const gelu = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Runs `fn(x, params)` traced with every tensor as a graph input, under the oracle. */
function oracle(
  x: TensorData,
  params: Params,
  fn: (x: Tensor, p: Record<string, Tensor>) => Tensor,
): Float64Array {
  const g = trace((b) => {
    const p: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(params)) p[k] = b.input(k, v.shape);
    return fn(b.input('x', x.shape), p);
  });
  return evaluateF64(g, { x, ...params }).output.data;
}

/** DynLinear written directly from SPEC section 3 and the dyn-linear.ts header formulas. */
function directDynLinear(
  x: TensorData,
  p: Params,
  grid: [number, number],
  strategy: DynLinearStrategy,
): Float64Array {
  const [nb, n, cin] = x.shape;
  const cout = p.w.shape[1];
  const [hg, wg] = grid;
  const s = cin ** -0.5;
  const y = new Float64Array(nb * n * cout);
  const X = (b: number, t: number, c: number) => x.data[(b * n + t) * cin + c];
  const P = (name: string, i: number, j: number) => p[name].data[i * p[name].shape[1] + j];
  for (let b = 0; b < nb; b++) {
    // pooled tokens, row-major over the floor(H/2) x floor(W/2) grid
    const xp: number[][] = [];
    for (let i = 0; i < Math.floor(hg / 2); i++) {
      for (let j = 0; j < Math.floor(wg / 2); j++) {
        const row: number[] = [];
        for (let c = 0; c < cin; c++) {
          let v = 0;
          for (const [di, dj] of [
            [0, 0],
            [0, 1],
            [1, 0],
            [1, 1],
          ]) {
            v += X(b, (2 * i + di) * wg + 2 * j + dj, c);
          }
          row.push(v / 4);
        }
        xp.push(row);
      }
    }
    // u [M, Cin], v [M, Cout], factor: Wd = uᵀ v · factor
    const matVec = (rows: number[][], name: string, transposed: boolean): number[][] =>
      rows.map((r) => {
        const outDim = transposed ? p[name].shape[0] : p[name].shape[1];
        return Array.from({ length: outDim }, (_, o) =>
          r.reduce((acc, v, i) => acc + v * (transposed ? P(name, o, i) : P(name, i, o)), 0),
        );
      });
    let u: number[][] = [];
    let v: number[][] = [];
    let factor = s / n;
    if (strategy === 'gap') {
      const m = Array.from({ length: cin }, (_, c) => {
        let acc = 0;
        for (let t = 0; t < n; t++) acc += X(b, t, c);
        return acc / n;
      });
      u = matVec([m], 'a', false);
      v = matVec([m], 'c', false);
      factor = s;
    } else if (xp.length > 0) {
      if (strategy === 'bilateral') {
        const z = matVec(xp, 'wfm_weight', true).map((r) => r.map((val, k) => val + p.wfm_bias.data[k]));
        u = matVec(
          z.map((r) => r.slice(0, cin / 4).map(silu)),
          'w1',
          false,
        );
        v = matVec(
          z.map((r) => r.slice(cin / 4).map(silu)),
          'w2',
          false,
        );
      } else if (strategy === 'deep') {
        const h = matVec(xp, 'g_weight', true).map((r) => r.map((val, k) => silu(val + p.g_bias.data[k])));
        u = matVec(h, 'a', false);
        v = matVec(h, 'c', false);
      } else {
        u = matVec(xp, 'a', false);
        if (strategy === 'nonlinear') u = u.map((r) => r.map(silu));
        v = matVec(xp, 'c', false);
      }
    }
    const W = new Float64Array(cin * cout);
    for (let i = 0; i < cin; i++) {
      for (let j = 0; j < cout; j++) {
        let acc = 0;
        for (let m = 0; m < u.length; m++) acc += u[m][i] * v[m][j];
        W[i * cout + j] = acc * factor;
      }
    }
    for (let j = 0; j < cout; j++) {
      let nrm = 0;
      for (let i = 0; i < cin; i++) nrm += W[i * cout + j] ** 2;
      nrm = Math.sqrt(nrm);
      for (let i = 0; i < cin; i++) W[i * cout + j] = W[i * cout + j] / (nrm + 1) + P('w', i, j);
    }
    for (let t = 0; t < n; t++) {
      for (let j = 0; j < cout; j++) {
        let acc = p.b.data[j];
        for (let i = 0; i < cin; i++) acc += X(b, t, i) * W[i * cout + j];
        y[(b * n + t) * cout + j] = acc;
      }
    }
  }
  return y;
}

/** DynDWConv written directly from SPEC section 4 and the dyn-dwconv.ts header formulas. */
function directDynDWConv(x: TensorData, p: Params, strategy: DynDWConvStrategy): Float64Array {
  const [nb, d, h, w] = x.shape;
  const y = new Float64Array(x.data.length);
  const X = (b: number, c: number, i: number, j: number) => x.data[((b * d + c) * h + i) * w + j];
  const bin = (i: number, len: number): [number, number] => [
    Math.floor((i * len) / 3),
    Math.ceil(((i + 1) * len) / 3),
  ];
  const W0 = (o: number, c: number) => p.wfm0_weight.data[o * d + c];
  for (let b = 0; b < nb; b++) {
    // pooled 3x3 cells [D][9] and global means [D]
    const pool: number[][] = [];
    const gm: number[] = [];
    for (let c = 0; c < d; c++) {
      const cells: number[] = [];
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          const [r0, r1] = bin(i, h);
          const [c0, c1] = bin(j, w);
          let acc = 0;
          for (let r = r0; r < r1; r++) for (let q = c0; q < c1; q++) acc += X(b, c, r, q);
          cells.push(acc / ((r1 - r0) * (c1 - c0)));
        }
      }
      pool.push(cells);
      let acc = 0;
      for (let r = 0; r < h; r++) for (let q = 0; q < w; q++) acc += X(b, c, r, q);
      gm.push(acc / (h * w));
    }
    const hidden = (src: number[][]): number[][] =>
      Array.from({ length: d }, (_, o) =>
        src[0].map((_, cell) =>
          gelu(src.reduce((acc, row, c) => acc + W0(o, c) * row[cell], p.wfm0_bias.data[o])),
        ),
      );
    const mix2 = (hdn: number[][], rows: number): number[][] =>
      Array.from({ length: rows }, (_, o) =>
        hdn[0].map((_, cell) =>
          hdn.reduce((acc, row, c) => acc + p.wfm2_weight.data[o * d + c] * row[cell], 0),
        ),
      );
    const norm9 = (k: number[]) => Math.sqrt(k.reduce((acc, v) => acc + v * v, 0));
    let kd: number[][];
    if (strategy === 'adaptive') {
      kd = mix2(hidden(pool), d);
    } else if (strategy === 'gap') {
      const flat = mix2(hidden(gm.map((v) => [v])), 9 * d).map((r) => r[0]);
      kd = Array.from({ length: d }, (_, c) => flat.slice(9 * c, 9 * c + 9));
    } else if (strategy === 'ampdir') {
      const raw = mix2(hidden(pool), d);
      kd = raw.map((k, c) => {
        let z = p.amp_bias.data[c];
        for (let q = 0; q < d; q++) z += p.amp_weight.data[c * d + q] * gm[q];
        const nrm = norm9(k);
        return k.map((v) => (sigmoid(z) * v) / (nrm + 1e-6));
      });
    } else {
      const hc = hidden(pool);
      kd = hc.map((cells, c) =>
        cells.map((_, cell) => {
          const [i, j] = [Math.floor(cell / 3), cell % 3];
          let acc = 0;
          for (let ki = 0; ki < 3; ki++) {
            for (let kj = 0; kj < 3; kj++) {
              const [si, sj] = [i + ki - 1, j + kj - 1];
              if (si >= 0 && si < 3 && sj >= 0 && sj < 3)
                acc += p.kernel.data[c * 9 + ki * 3 + kj] * cells[si * 3 + sj];
            }
          }
          return acc;
        }),
      );
    }
    for (let c = 0; c < d; c++) {
      const nrm = norm9(kd[c]);
      const k = kd[c].map((v, t) => v / (nrm + 1) + p.w.data[c * 9 + t]);
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          let acc = p.b.data[c];
          for (let ki = 0; ki < 3; ki++) {
            for (let kj = 0; kj < 3; kj++) {
              const [si, sj] = [i + ki - 1, j + kj - 1];
              if (si >= 0 && si < h && sj >= 0 && sj < w) acc += k[ki * 3 + kj] * X(b, c, si, sj);
            }
          }
          y[((b * d + c) * h + i) * w + j] = acc;
        }
      }
    }
  }
  return y;
}

/** Multi-head softmax attention written directly from SPEC section 6. */
function directAttention(
  q: TensorData,
  k: TensorData,
  v: TensorData,
  heads: number,
  scale?: number,
): Float64Array {
  const [nb, nq, dq] = q.shape;
  const nk = k.shape[1];
  const dv = v.shape[2];
  const [dh, dvh] = [dq / heads, dv / heads];
  const sc = scale ?? dh ** -0.5;
  const y = new Float64Array(nb * nq * dv);
  for (let b = 0; b < nb; b++) {
    for (let hd = 0; hd < heads; hd++) {
      for (let i = 0; i < nq; i++) {
        const logits = Array.from({ length: nk }, (_, j) => {
          let acc = 0;
          for (let t = 0; t < dh; t++)
            acc += q.data[(b * nq + i) * dq + hd * dh + t] * k.data[(b * nk + j) * dq + hd * dh + t];
          return acc * sc;
        });
        const mx = Math.max(...logits);
        const e = logits.map((l) => Math.exp(l - mx));
        const z = e.reduce((a, c) => a + c, 0);
        for (let t = 0; t < dvh; t++) {
          let acc = 0;
          for (let j = 0; j < nk; j++) acc += (e[j] / z) * v.data[(b * nk + j) * dv + hd * dvh + t];
          y[(b * nq + i) * dv + hd * dvh + t] = acc;
        }
      }
    }
  }
  return y;
}

function dynLinearParams(r: () => number, strategy: DynLinearStrategy, cin: number, cout: number): Params {
  const t = (shape: number[], lo = -1, hi = 1) => randomTensor(shape, r, { lo, hi });
  const base = { w: t([cin, cout], -0.5, 0.5), b: t([cout]) };
  if (strategy === 'bilateral') {
    const z = cin / 4 + cout / 4;
    return {
      ...base,
      wfm_weight: t([z, cin]),
      wfm_bias: t([z]),
      w1: t([cin / 4, cin]),
      w2: t([cout / 4, cout]),
    };
  }
  if (strategy === 'deep')
    return { ...base, g_weight: t([5, cin]), g_bias: t([5]), a: t([5, cin]), c: t([5, cout]) };
  return { ...base, a: t([cin, cin]), c: t([cin, cout]) };
}

function dynDWConvParams(r: () => number, strategy: DynDWConvStrategy, d: number): Params {
  const t = (shape: number[]) => randomTensor(shape, r);
  const base = { w: t([d, 1, 3, 3]), b: t([d]), wfm0_weight: t([d, d, 1, 1]), wfm0_bias: t([d]) };
  if (strategy === 'adaptive') return { ...base, wfm2_weight: t([d, d, 1, 1]) };
  if (strategy === 'gap') return { ...base, wfm2_weight: t([9 * d, d, 1, 1]) };
  if (strategy === 'ampdir')
    return { ...base, wfm2_weight: t([d, d, 1, 1]), amp_weight: t([d, d]), amp_bias: t([d]) };
  return { ...base, kernel: t([d, 1, 3, 3]) };
}

/**
 * Bound of the comparisons: the lowerings bake scalars (Cin^-0.5 / N, 1/sqrt(2), 1e-6, 1) into the graph as
 * float32 constants, which moves float64 results by up to ~1e-8 relative; a wrong formula moves them by far more.
 */
const REL = 1e-7;

describe('composite lowerings match their documented formulas (float64)', () => {
  const linearCases: [number, [number, number], number, number][] = [
    [2, [4, 4], 8, 12],
    [1, [5, 3], 8, 4],
    [1, [1, 6], 4, 8],
    [2, [7, 7], 12, 16],
  ];
  for (const strategy of ['bilateral', 'gap', 'linear', 'nonlinear', 'deep'] as const) {
    for (const [b, grid, cin, cout] of linearCases) {
      it(`dyn_linear ${strategy}: [${b},${grid[0] * grid[1]},${cin}] on ${grid[0]}x${grid[1]} -> ${cout}`, () => {
        const r = rng(seedOf(`dyn_linear ${strategy} ${grid} ${cin}`));
        const x = randomTensor([b, grid[0] * grid[1], cin], r);
        const p = dynLinearParams(r, strategy, cin, cout);
        const got = oracle(x, p, (xt, pt) => F.dynLinear(xt, pt, { grid, strategy }));
        const want = directDynLinear(x, p, grid, strategy);
        expectClose(
          { shape: [got.length], data: got },
          { shape: [want.length], data: want },
          REL,
          `dyn_linear ${strategy}`,
        );
      });
    }
  }

  for (const strategy of ['adaptive', 'gap', 'ampdir', 'conv'] as const) {
    for (const shape of [
      [2, 4, 7, 5],
      [1, 3, 14, 14],
      [1, 2, 10, 10],
      [1, 2, 2, 4],
    ]) {
      it(`dyn_dwconv ${strategy}: [${shape}]`, () => {
        const r = rng(seedOf(`dyn_dwconv ${strategy} ${shape}`));
        const x = randomTensor(shape, r);
        const p = dynDWConvParams(r, strategy, shape[1]);
        const got = oracle(x, p, (xt, pt) => F.dynDWConv(xt, pt, { strategy }));
        const want = directDynDWConv(x, p, strategy);
        expectClose(
          { shape: [got.length], data: got },
          { shape: [want.length], data: want },
          REL,
          `dyn_dwconv ${strategy}`,
        );
      });
    }
  }

  for (const [b, nq, nk, d, dv, heads, scale] of [
    [2, 5, 7, 8, 6, 2, undefined],
    [1, 9, 9, 12, 12, 3, undefined],
    [2, 4, 4, 4, 4, 1, 0.3],
  ] as const) {
    it(`attention and attention_mlp: q [${b},${nq},${d}], k/v ${nk} tokens, ${heads} heads`, () => {
      const r = rng(seedOf(`attention ${b} ${nq} ${nk} ${d}`));
      const q = randomTensor([b, nq, d], r, { lo: -2, hi: 2 });
      const k = randomTensor([b, nk, d], r, { lo: -2, hi: 2 });
      const v = randomTensor([b, nk, dv], r);
      const want = directAttention(q, k, v, heads, scale);
      const g = trace((gb) => {
        const [qt, kt, vt] = [gb.input('q', q.shape), gb.input('k', k.shape), gb.input('v', v.shape)];
        return {
          attn: F.attention(qt, kt, vt, { heads, scale }),
          mlp: F.attentionMlp(qt, kt, vt, { heads, scale }),
        };
      });
      const out = evaluateF64(g, { q, k, v });
      const ref = { shape: [want.length], data: want };
      expectClose({ shape: [want.length], data: out.attn.data }, ref, REL, 'attention');
      expectClose({ shape: [want.length], data: out.mlp.data }, ref, REL, 'attention_mlp');
    });
  }

  it('gelu (tanh approximation) and dynamic_mlp activations', () => {
    const r = rng(seedOf('gelu tanh'));
    const x = randomTensor([4, 6], r, { lo: -5, hi: 5 });
    const got = oracle(x, {}, (t) => F.gelu(t, 'tanh'));
    const want = Float64Array.from(
      x.data,
      (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
    );
    expectClose({ shape: [24], data: got }, { shape: [24], data: want }, REL, 'gelu tanh');
    const w1 = randomTensor([6, 5], r);
    const w2 = randomTensor([5, 3], r);
    for (const act of ['softmax', 'gelu', 'relu', 'silu'] as const) {
      const y = oracle(x, { w1, w2 }, (t, p) => F.dynamicMlp(t, p.w1, p.w2, act));
      const direct = new Float64Array(12);
      for (let i = 0; i < 4; i++) {
        const hdn = Array.from({ length: 5 }, (_, j) => {
          let acc = 0;
          for (let c = 0; c < 6; c++) acc += x.data[i * 6 + c] * w1.data[c * 5 + j];
          return acc;
        });
        const mx = Math.max(...hdn);
        const z = hdn.reduce((a, v) => a + Math.exp(v - mx), 0);
        const a = hdn.map((v) =>
          act === 'softmax'
            ? Math.exp(v - mx) / z
            : act === 'gelu'
              ? gelu(v)
              : act === 'relu'
                ? Math.max(v, 0)
                : silu(v),
        );
        for (let o = 0; o < 3; o++)
          direct[i * 3 + o] = a.reduce((acc, v, j) => acc + v * w2.data[j * 3 + o], 0);
      }
      expectClose({ shape: [12], data: y }, { shape: [12], data: direct }, REL, `dynamic_mlp ${act}`);
    }
  });
});
