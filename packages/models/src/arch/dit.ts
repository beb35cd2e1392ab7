// WeightFormer diffusion backbone forward pass (SPEC section 7, DiT-style): patch embedding plus the
// stored sin-cos position table, timestep and class conditioning through adaLN modulation, static and
// dynamic blocks, the final adaLN layer, unpatchify, and classifier-free guidance.
import { F, type Tensor, type TensorData } from '@wf/core';
import type { DitConfig } from '../config.js';
import { dwcMixer, LN_EPS, linear, linear1, patchEmbed, type WeightFn } from './common.js';

/** Timestep embedding frequencies f_k = exp(-ln(10000) k / 128), computed in float32 as the reference does. */
export function timestepFrequencies(half = 128): TensorData {
  const data = new Float32Array(half);
  const negLog = Math.fround(-Math.log(10000));
  for (let k = 0; k < half; k++) data[k] = Math.fround(Math.exp(Math.fround(Math.fround(negLog * k) / half)));
  return { dtype: 'float32', shape: [1, half], data };
}

/** `v * (1 + scale) + shift` with per-sample `[B, D]` shift/scale broadcast over tokens. */
function modulate(v: Tensor, shift: Tensor, scale: Tensor): Tensor {
  const [b, d] = shift.shape;
  return F.add(F.mul(v, F.add(F.reshape(scale, [b, 1, d]), 1)), F.reshape(shift, [b, 1, d]));
}

/** Splits `[B, k·D]` into k chunks of `[B, D]`. */
function chunk(x: Tensor, k: number): Tensor[] {
  const d = x.shape[1] / k;
  return F.splitLast(
    x,
    Array.from({ length: k }, () => d),
  );
}

/** Per-sample gate `[B, D]` broadcast over tokens. */
function gate(g: Tensor, v: Tensor): Tensor {
  return F.mul(F.reshape(g, [g.shape[0], 1, g.shape[1]]), v);
}

/** Traces the forward pass: x `[B, Cin, S, S]`, t `[B]` float, y `[B]` int32 -> output `[B, Cout, S, S]`. */
export function ditForward(
  cfg: DitConfig,
  w: WeightFn,
  freqs: Tensor,
  x: Tensor,
  t: Tensor,
  y: Tensor,
  hidden = false,
): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  const { tokens, grid } = patchEmbed(x, w, 'x_embedder.proj', cfg.patchSize);
  let h = F.add(tokens, w('pos_embed'));
  const [b, n, d] = h.shape;
  const args = F.mul(F.reshape(t, [b, 1]), freqs);
  const tFreq = F.concat([F.cos(args), F.sin(args)], 1);
  const tEmb = linear(F.silu(linear(tFreq, w, 't_embedder.mlp.0')), w, 't_embedder.mlp.2');
  const c = F.silu(F.add(tEmb, F.gather(w('y_embedder.embedding_table.weight'), y)));
  for (let i = 0; i < cfg.depth; i++) {
    const p = `blocks.${i}`;
    const dynamic = cfg.dynamicBlocks.includes(i);
    const [sh1, sc1, g1, sh2, sc2, g2] = chunk(linear(c, w, `${p}.adaLN_modulation.1`), 6);
    h = F.layerNorm(h, undefined, undefined, LN_EPS);
    h = F.add(h, gate(g1, dwcMixer(modulate(h, sh1, sc1), w, `${p}.dwc`, dynamic, grid)));
    const m = modulate(F.layerNorm(h, undefined, undefined, LN_EPS), sh2, sc2);
    const mlp = linear(F.gelu(linear1(m, w, `${p}.linear1`, dynamic, grid), 'tanh'), w, `${p}.linear2`);
    h = F.add(h, gate(g2, mlp));
    if (hidden) out[`hidden.${i}`] = h;
  }
  const [sh, sc] = chunk(linear(c, w, 'final_layer.adaLN_modulation.1'), 2);
  const final = linear(
    modulate(F.layerNorm(h, undefined, undefined, LN_EPS), sh, sc),
    w,
    'final_layer.linear',
  );
  const pch = cfg.patchSize;
  const cout = final.shape[2] / (pch * pch);
  const [gh, gw] = grid;
  const img = F.permute(F.reshape(final, [b, gh, gw, pch, pch, cout]), [0, 5, 1, 3, 2, 4]);
  out.output = F.reshape(img, [b, cout, gh * pch, gw * pch]);
  if (n !== gh * gw || d !== cfg.hiddenSize) throw new Error('internal: DiT token grid mismatch');
  return out;
}

/**
 * Classifier-free guidance as the reference's `forward_with_cfg`: the first half of the batch is run with
 * the labels given for both halves (conditional, then the null label), and the first three output
 * channels are mixed `uncond + scale (cond - uncond)`; the remaining channels pass through.
 */
export function ditForwardWithCfg(
  cfg: DitConfig,
  w: WeightFn,
  freqs: Tensor,
  x: Tensor,
  t: Tensor,
  y: Tensor,
  scale: number,
): Record<string, Tensor> {
  const half = x.shape[0] / 2;
  const xh = F.sliceAxis(x, 0, 0, half);
  const { output } = ditForward(cfg, w, freqs, F.concat([xh, xh], 0), t, y);
  const eps = F.sliceAxis(output, 1, 0, 3);
  const rest = F.sliceAxis(output, 1, 3);
  const cond = F.sliceAxis(eps, 0, 0, half);
  const uncond = F.sliceAxis(eps, 0, half);
  const guided = F.add(uncond, F.mul(F.sub(cond, uncond), scale));
  return { output: F.concat([F.concat([guided, guided], 0), rest], 1) };
}
