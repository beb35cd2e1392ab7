// DynLinear: a Linear layer whose weight gets a dynamic term predicted from all tokens, in time linear in
// N. `bilateral` is the released model's strategy (SPEC section 3, exact); `gap`, `linear`, `nonlinear`
// and `deep` are the ablation strategies of SPEC section 5 with the formulas documented below.
//
// Every strategy computes a dynamic weight Wd [B, Cin, Cout] and then, as SPEC section 3 steps 5-6:
//   W = Wd / (colnorm(Wd) + 1) + w,   y = x @ W + b     (colnorm: L2 over Cin per output column)
// With xp the 2x2-average-pooled tokens [B, M, Cin], N the full token count and s = Cin^-0.5:
//   bilateral: z = xp @ wfm_weightᵀ + wfm_bias, split z -> z1 [.., Cin/4], z2 [.., Cout/4];
//              Wd = (silu(z1) @ w1)ᵀ (silu(z2) @ w2) · s / N
//   gap:       m = mean over tokens [B, 1, Cin];  Wd = (m @ a)ᵀ (m @ c) · s            (rank 1)
//   linear:    Wd = (xp @ a)ᵀ (xp @ c) · s / N
//   nonlinear: Wd = silu(xp @ a)ᵀ (xp @ c) · s / N                                 (one side nonlinear)
//   deep:      h = silu(xp @ g_weightᵀ + g_bias);  Wd = (h @ a)ᵀ (h @ c) · s / N    (two-layer generator)
import { ShapeError } from '../errors.js';
import type { Activation, OpAttrs } from '../ir/ops.js';
import type { Tensor } from '../ir/tensor.js';
import * as F from './functional.js';

export { DYN_LINEAR_PARAMS, type DynParamSpec } from '../ir/dyn-params.js';

/** 2x2 average pooling of tokens on an Hg x Wg grid: [B, N, C] -> [B, M, C], or undefined when M = 0. */
export function poolTokens2x2(x: Tensor, grid: readonly [number, number]): Tensor | undefined {
  const [b, , c] = x.shape;
  const [hg, wg] = grid;
  const m = Math.floor(hg / 2) * Math.floor(wg / 2);
  if (m === 0) return undefined;
  const img = F.permute(F.reshape(x, [b, hg, wg, c]), [0, 3, 1, 2]);
  return F.permute(F.reshape(F.avgPool2d(img, 2), [b, c, m]), [0, 2, 1]);
}

/**
 * Steps 5-6 of SPEC section 3: normalize the dynamic weight `g · scale` per column, add the static one,
 * apply. `g` is the generator's raw outer product (uᵀ v summed over pooled tokens).
 */
function applyDynamic(
  x: Tensor,
  g: Tensor | undefined,
  scale: number,
  w: Tensor,
  b: Tensor,
  activation?: Activation,
): Tensor {
  if (!g) return F.affine(x, w, b, activation); // no pooled tokens: the dynamic term is an empty sum (0)
  return F.affine(x, F.dynWeight(g, w, scale), b, activation);
}

/** Outer-product generator uᵀ v summed over pooled tokens: [B,M,Cin], [B,M,Cout] -> [B,Cin,Cout]. */
function outer(u: Tensor, v: Tensor): Tensor {
  return F.matmul(u, v, { transA: true });
}

/** Lowers dyn_linear to primitives for every strategy. */
export function lowerDynLinear(
  inputs: readonly Tensor[],
  { strategy, grid, activation }: OpAttrs<'dyn_linear'>,
): Tensor {
  const apply = (x: Tensor, g: Tensor | undefined, scale: number, w: Tensor, b: Tensor) =>
    applyDynamic(x, g, scale, w, b, activation);
  const [x, w, b] = inputs;
  const [, n, cin] = x.shape;
  const s = cin ** -0.5;
  if (strategy === 'gap') {
    const [, , , a, c] = inputs;
    const m = F.mean(x, 1, true);
    return apply(x, outer(F.matmul(m, a), F.matmul(m, c)), s, w, b);
  }
  const xp = poolTokens2x2(x, grid);
  if (!xp) return apply(x, undefined, 0, w, b);
  switch (strategy) {
    case 'bilateral': {
      const [, , , wfmW, wfmB, w1, w2] = inputs;
      const [z1, z2] = F.splitLast(F.linear(xp, wfmW, wfmB), [cin / 4, w.shape[1] / 4]);
      return apply(x, outer(F.matmul(F.silu(z1), w1), F.matmul(F.silu(z2), w2)), s / n, w, b);
    }
    case 'linear':
    case 'nonlinear': {
      const [, , , a, c] = inputs;
      const u = F.matmul(xp, a);
      return apply(x, outer(strategy === 'nonlinear' ? F.silu(u) : u, F.matmul(xp, c)), s / n, w, b);
    }
    case 'deep': {
      const [, , , gw, gb, a, c] = inputs;
      const h = F.silu(F.linear(xp, gw, gb));
      return apply(x, outer(F.matmul(h, a), F.matmul(h, c)), s / n, w, b);
    }
    default:
      throw new ShapeError('dyn_linear', `unknown strategy "${strategy}"`);
  }
}
