// WeightFormer classifier forward pass (SPEC section 2): patch embedding, init_norm, static and dynamic
// blocks, final norm, token mean, head. Any resolution that is a multiple of the patch size works; the
// token grid may be non-square (it reduces exactly to the reference when square).
import { F, type Tensor } from '@wf/core';
import type { WfmConfig } from '../config.js';
import { dwcMixer, layerNorm, linear, linear1, patchEmbed, type WeightFn } from './common.js';

/** Outputs of the WeightFormer forward pass (`hidden.i` only when requested). */
export type WfmOutputs = Record<string, Tensor>;

/**
 * A hook applied to each residual branch before it is added (`which` 0: the token mixer, 1: the MLP), e.g.
 * the training graph's per-sample drop-path; identity when absent (inference).
 */
export type ResidualBranchFn = (block: number, which: 0 | 1, branch: Tensor) => Tensor;

/**
 * Traces the forward pass of `x [B, C, H, W]`; with `hidden`, also `embed` and every `hidden.i`; with
 * `tokensOut`, also `tokens` (the tokens after the final norm `[B, N, D]` that `features` averages and the ERF is
 * measured on).
 */
export function wfmForward(
  cfg: WfmConfig,
  w: WeightFn,
  x: Tensor,
  hidden = false,
  tokensOut = false,
  branch?: ResidualBranchFn,
): WfmOutputs {
  const res = branch ?? ((_i: number, _j: 0 | 1, t: Tensor) => t);
  const out: WfmOutputs = {};
  const { tokens, grid } = patchEmbed(x, w, 'patch_embed.proj', cfg.patchSize);
  let h = layerNorm(tokens, w, 'init_norm');
  if (hidden) out.embed = h;
  for (let i = 0; i < cfg.depth; i++) {
    const p = `blocks.${i}`;
    const dynamic = cfg.dynamicBlocks.includes(i);
    if (dynamic) h = layerNorm(h, w, `${p}.norm1`); // replaced, not a residual branch
    h = F.add(h, res(i, 0, dwcMixer(h, w, `${p}.dwc`, dynamic, grid, cfg.dynDWConv)));
    const mlp = linear(
      F.gelu(linear1(layerNorm(h, w, `${p}.norm2`), w, `${p}.linear1`, dynamic, grid, cfg.dynLinear)),
      w,
      `${p}.linear2`,
    );
    h = F.add(h, res(i, 1, mlp));
    if (hidden) out[`hidden.${i}`] = h;
  }
  const normed = layerNorm(h, w, 'norm');
  if (tokensOut) out.tokens = normed;
  const features = F.mean(normed, 1);
  out.features = features;
  out.logits = linear(features, w, 'head');
  return out;
}
