// Softmax-attention ViT / DeiT forward pass (SPEC section 6, timm VisionTransformer): class token,
// position embedding (resized bicubically for other resolutions by the caller), pre-norm blocks, head on
// the class token.
import { F, type Tensor } from '@wf/core';
import type { VitConfig } from '../config.js';
import { layerNorm, linear, patchEmbed, type WeightFn } from './common.js';
import type { ResidualBranchFn } from './wfm.js';

/**
 * Traces the forward pass of `x [B, C, H, W]`; with `hidden`, also every `hidden.i` (tokens incl. class
 * token); with `tokensOut`, also `tokens`: the patch tokens after the final norm `[B, N, D]` (class
 * token dropped); `branch` wraps each residual branch (the training graph's drop-path; identity when
 * absent).
 */
export function vitForward(
  cfg: VitConfig,
  w: WeightFn,
  x: Tensor,
  hidden = false,
  posEmbed?: Tensor,
  tokensOut = false,
  branch?: ResidualBranchFn,
): Record<string, Tensor> {
  const res = branch ?? ((_i: number, _j: 0 | 1, t: Tensor) => t);
  const out: Record<string, Tensor> = {};
  const { tokens } = patchEmbed(x, w, 'patch_embed.proj', cfg.patchSize);
  const [b, , d] = tokens.shape;
  const cls = F.expand(w('cls_token'), [b, 1, d]);
  let h = F.add(F.concat([cls, tokens], 1), posEmbed ?? w('pos_embed'));
  if (hidden) out.embed = h;
  for (let i = 0; i < cfg.depth; i++) {
    const p = `blocks.${i}`;
    const qkv = linear(layerNorm(h, w, `${p}.norm1`), w, `${p}.attn.qkv`);
    const [q, k, v] = F.splitLast(qkv, [d, d, d]);
    h = F.add(h, res(i, 0, linear(F.attention(q, k, v, { heads: cfg.numHeads }), w, `${p}.attn.proj`)));
    h = F.add(
      h,
      res(i, 1, linear(F.gelu(linear(layerNorm(h, w, `${p}.norm2`), w, `${p}.mlp.fc1`)), w, `${p}.mlp.fc2`)),
    );
    if (hidden) out[`hidden.${i}`] = h;
  }
  const normed = layerNorm(h, w, 'norm');
  if (tokensOut) out.tokens = F.sliceAxis(normed, 1, 1);
  const features = F.reshape(F.sliceAxis(normed, 1, 0, 1), [b, d]);
  out.features = features;
  out.logits = linear(features, w, 'head');
  return out;
}
