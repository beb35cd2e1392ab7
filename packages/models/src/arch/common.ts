// Building blocks shared by the architectures: weight access, patch embedding, token <-> image layout,
// and WeightFormer's two mixers (depthwise conv, static or DynDWConv; MLP, static or DynLinear).
import { F, type Tensor } from '@wf/core';

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

/** The block's depthwise conv on tokens: static 3x3 depthwise, or DynDWConv (adaptive) when dynamic. */
export function dwcMixer(x: Tensor, w: WeightFn, prefix: string, dynamic: boolean, grid: Grid): Tensor {
  const img = tokensToImage(x, grid);
  const d = img.shape[1];
  const y = dynamic
    ? F.dynDWConv(img, {
        w: w(`${prefix}.w`),
        b: w(`${prefix}.b`),
        wfm0_weight: w(`${prefix}.wfm.0.weight`),
        wfm0_bias: w(`${prefix}.wfm.0.bias`),
        wfm2_weight: w(`${prefix}.wfm.2.weight`),
      })
    : F.conv2d(img, w(`${prefix}.weight`), w(`${prefix}.bias`), { padding: 1, groups: d });
  return imageToTokens(y);
}

/** The block's first MLP layer: static Linear, or DynLinear (bilateral) when dynamic. */
export function linear1(x: Tensor, w: WeightFn, prefix: string, dynamic: boolean, grid: Grid): Tensor {
  if (!dynamic) return linear(x, w, prefix);
  return F.dynLinear(
    x,
    {
      w: w(`${prefix}.w`),
      b: w(`${prefix}.b`),
      wfm_weight: w(`${prefix}.wfm.weight`),
      wfm_bias: w(`${prefix}.wfm.bias`),
      w1: w(`${prefix}.w1`),
      w2: w(`${prefix}.w2`),
    },
    { grid: [grid[0], grid[1]], strategy: 'bilateral' },
  );
}
