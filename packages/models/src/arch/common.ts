// Building blocks shared by the architectures: weight access, patch embedding, token <-> image layout,
// and WeightFormer's two mixers (depthwise conv, static or DynDWConv; MLP, static or DynLinear).
import { DYN_DWCONV_PARAMS, DYN_LINEAR_PARAMS, F, type Tensor } from '@wf/core';
import { type DWConvStrategy, type LinearStrategy, strategyParamName } from '../config.js';

/** Returns the graph tensor of a named weight (each weight becomes one constant). */
export type WeightFn = (name: string) => Tensor;

/** LayerNorm eps used everywhere in the reference. */
export const LN_EPS = 1e-6;

/** A token grid: rows x columns. */
export type Grid = readonly [number, number];

/** PyTorch Linear from `prefix.weight` / `prefix.bias`. */
export function linear(x: Tensor, w: WeightFn, prefix: string): Tensor {
  return F.linear(x, w(`${prefix}.weight`), w(`${prefix}.bias`));
}

/** Affine LayerNorm from `prefix.weight` / `prefix.bias`. */
export function layerNorm(x: Tensor, w: WeightFn, prefix: string): Tensor {
  return F.layerNorm(x, w(`${prefix}.weight`), w(`${prefix}.bias`), LN_EPS);
}

/** Patch embedding conv (kernel = stride = patch) flattened row-major into tokens `[B, N, D]`. */
export function patchEmbed(
  x: Tensor,
  w: WeightFn,
  prefix: string,
  patch: number,
): { tokens: Tensor; grid: Grid } {
  const y = F.conv2d(x, w(`${prefix}.weight`), w(`${prefix}.bias`), { stride: patch });
  const [b, d, hg, wg] = y.shape;
  return { tokens: F.transpose(F.reshape(y, [b, d, hg * wg])), grid: [hg, wg] };
}

/** Tokens `[B, N, D]` as an image `[B, D, Hg, Wg]`. */
export function tokensToImage(x: Tensor, grid: Grid): Tensor {
  const [b, , d] = x.shape;
  return F.reshape(F.transpose(x), [b, d, grid[0], grid[1]]);
}

/** An image `[B, D, H, W]` as tokens `[B, H·W, D]`. */
export function imageToTokens(img: Tensor): Tensor {
  const [b, d, h, w] = img.shape;
  return F.transpose(F.reshape(img, [b, d, h * w]));
}

/** The strategy parameters of a dynamic layer, by op parameter name, from checkpoint names under `prefix`. */
function strategyParams(names: readonly string[], w: WeightFn, prefix: string): Record<string, Tensor> {
  return Object.fromEntries(names.map((n) => [n, w(`${prefix}.${strategyParamName(n)}`)]));
}

/**
 * The block's depthwise conv on tokens: a static 3x3 depthwise, or when dynamic the DynDWConv of
 * `strategy` (default `adaptive`, the reference; `static` keeps the plain conv).
 */
export function dwcMixer(
  x: Tensor,
  w: WeightFn,
  prefix: string,
  dynamic: boolean,
  grid: Grid,
  strategy: DWConvStrategy = 'adaptive',
): Tensor {
  const img = tokensToImage(x, grid);
  const d = img.shape[1];
  const y =
    dynamic && strategy !== 'static'
      ? F.dynDWConv(img, strategyParams(DYN_DWCONV_PARAMS[strategy].names, w, prefix), { strategy })
      : F.conv2d(img, w(`${prefix}.weight`), w(`${prefix}.bias`), { padding: 1, groups: d });
  return imageToTokens(y);
}

/**
 * The block's first MLP layer: a static Linear, or when dynamic the DynLinear of `strategy` (default
 * `bilateral`, the reference; `static` keeps the plain Linear).
 */
export function linear1(
  x: Tensor,
  w: WeightFn,
  prefix: string,
  dynamic: boolean,
  grid: Grid,
  strategy: LinearStrategy = 'bilateral',
): Tensor {
  if (!dynamic || strategy === 'static') return linear(x, w, prefix);
  return F.dynLinear(x, strategyParams(DYN_LINEAR_PARAMS[strategy].names, w, prefix), {
    grid: [grid[0], grid[1]],
    strategy,
  });
}
