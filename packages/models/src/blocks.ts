// Single-block workloads with seeded random weights: one dynamic WeightFormer block (SPEC section 2) and
// one pre-norm softmax-attention block (SPEC section 6) at the same width. The demo and the benchmark
// time these against each other to show linear against quadratic cost in the number of tokens.
import { F, type Graph, seededRandom, type TensorData, trace } from '@wf/core';
import type { Grid } from './arch/common.js';

/** Options of the block workloads. */
export interface BlockOptions {
  /** Channels (default 192, as WFM-T / DeiT-T). */
  dim?: number;
  /** Attention heads (default 3). */
  heads?: number;
  /** Batch (default 1). */
  batch?: number;
  /** Seed of the random weights (default 1). */
  seed?: number;
}

function weights(seed: number) {
  const rand = seededRandom(seed);
  const uniform = (shape: number[], scale: number): TensorData => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (rand() * 2 - 1) * scale;
    return { dtype: 'float32', shape, data };
  };
  const fill = (n: number, v: number): TensorData => ({
    dtype: 'float32',
    shape: [n],
    data: new Float32Array(n).fill(v),
  });
  return { uniform, fill };
}

/** One dynamic WeightFormer block on an `Hg x Wg` token grid: input `x [B, Hg·Wg, D]`, output `output`. */
export function weightFormerBlockGraph(grid: Grid, opts: BlockOptions = {}): Graph {
  const d = opts.dim ?? 192;
  const hd = 4 * d;
  const { uniform, fill } = weights(opts.seed ?? 1);
  const n = grid[0] * grid[1];
  return trace((g) => {
    const c = (t: TensorData) => g.constant(t);
    let x = g.input('x', [opts.batch ?? 1, n, d]);
    const b = x.shape[0];
    x = F.layerNorm(x, c(fill(d, 1)), c(fill(d, 0)));
    const img = F.reshape(F.transpose(x), [b, d, grid[0], grid[1]]);
    const dwc = F.dynDWConv(img, {
      w: c(uniform([d, 1, 3, 3], 0.3)),
      b: c(fill(d, 0)),
      wfm0_weight: c(uniform([d, d, 1, 1], d ** -0.5)),
      wfm0_bias: c(fill(d, 0)),
      wfm2_weight: c(uniform([d, d, 1, 1], d ** -0.5)),
    });
    x = F.add(x, F.transpose(F.reshape(dwc, [b, d, n])));
    const h = F.dynLinear(
      F.layerNorm(x, c(fill(d, 1)), c(fill(d, 0))),
      {
        w: c(uniform([d, hd], d ** -0.5)),
        b: c(fill(hd, 0)),
        wfm_weight: c(uniform([d / 4 + hd / 4, d], d ** -0.5)),
        wfm_bias: c(fill(d / 4 + hd / 4, 0)),
        w1: c(uniform([d / 4, d], 0.1)),
        w2: c(uniform([hd / 4, hd], 0.1)),
      },
      { grid: [grid[0], grid[1]] },
    );
    return F.add(x, F.linear(F.gelu(h), c(uniform([d, hd], hd ** -0.5)), c(fill(d, 0))));
  });
}

/** One pre-norm softmax-attention block over `tokens`: input `x [B, N, D]`, output `output`. */
export function attentionBlockGraph(tokens: number, opts: BlockOptions = {}): Graph {
  const d = opts.dim ?? 192;
  const hd = 4 * d;
  const { uniform, fill } = weights(opts.seed ?? 1);
  return trace((g) => {
    const c = (t: TensorData) => g.constant(t);
    let x = g.input('x', [opts.batch ?? 1, tokens, d]);
    const qkv = F.linear(
      F.layerNorm(x, c(fill(d, 1)), c(fill(d, 0))),
      c(uniform([3 * d, d], d ** -0.5)),
      c(fill(3 * d, 0)),
    );
    const [q, k, v] = F.splitLast(qkv, [d, d, d]);
    const attn = F.attention(q, k, v, { heads: opts.heads ?? 3 });
    x = F.add(x, F.linear(attn, c(uniform([d, d], d ** -0.5)), c(fill(d, 0))));
    const h = F.gelu(
      F.linear(F.layerNorm(x, c(fill(d, 1)), c(fill(d, 0))), c(uniform([hd, d], d ** -0.5)), c(fill(hd, 0))),
    );
    return F.add(x, F.linear(h, c(uniform([d, hd], hd ** -0.5)), c(fill(d, 0))));
  });
}
