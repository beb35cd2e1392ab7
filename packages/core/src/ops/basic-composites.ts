// Lowerings of the small composites: linear (PyTorch layout), affine (matmul + bias + activation), GELU
// (erf and tanh forms) and its gradient, layer norm and its input gradient, depthwise weight gradient,
// SiLU, and the former primitives that backends keep as fused kernels: sigmoid, relu, mean, L2 norm and
// softmax (each written with the remaining primitives).
import type { Activation, OpAttrs } from '../ir/ops.js';
import type { Tensor } from '../ir/tensor.js';
import * as F from './functional.js';

/** Applies a fused activation (none when undefined). */
export function applyActivation(y: Tensor, activation: Activation | undefined): Tensor {
  if (!activation) return y;
  return F.gelu(y, activation === 'gelu_tanh' ? 'tanh' : 'none');
}

/** linear(x, w[out,in], b?) = act(x @ wᵀ + b). */
export function lowerLinear([x, w, b]: readonly Tensor[], attrs: OpAttrs<'linear'> = {}): Tensor {
  const x2 = x.rank === 1 ? F.reshape(x, [1, x.shape[0]]) : x;
  let y = F.matmul(x2, w, { transB: true });
  if (b) y = F.add(y, b);
  return applyActivation(x.rank === 1 ? F.reshape(y, [w.shape[0]]) : y, attrs.activation);
}

/** affine(x, w, b) = act(x @ w + b). */
export function lowerAffine([x, w, b]: readonly Tensor[], attrs: OpAttrs<'affine'> = {}): Tensor {
  return applyActivation(F.add(F.matmul(x, w), b), attrs.activation);
}

/** gelu(x) = 0.5 x (1 + erf(x / √2)), or 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))) when approximate. */
export function lowerGelu([x]: readonly Tensor[], { approximate }: OpAttrs<'gelu'>): Tensor {
  const inner =
    approximate === 'tanh'
      ? F.tanh(F.mul(F.add(x, F.mul(F.mul(F.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI)))
      : F.erf(F.mul(x, Math.SQRT1_2));
  return F.mul(F.mul(x, 0.5), F.add(inner, 1));
}

/**
 * gelu_grad(x, g) = g · gelu'(x): g · (Φ(x) + x φ(x)) for the exact GELU, or the derivative of the tanh form.
 */
export function lowerGeluGrad([x, g]: readonly Tensor[], { approximate }: OpAttrs<'gelu_grad'>): Tensor {
  if (approximate === 'tanh') {
    // d/dx 0.5 x (1 + t), t = tanh(k (x + c x^3))
    const k = Math.sqrt(2 / Math.PI);
    const x2 = F.mul(x, x);
    const t = F.tanh(F.mul(F.mul(x, F.add(F.mul(x2, 0.044715), 1)), k));
    const dt = F.mul(F.sub(1, F.mul(t, t)), F.mul(F.add(F.mul(x2, 3 * 0.044715), 1), k));
    return F.mul(g, F.mul(F.add(F.add(t, 1), F.mul(x, dt)), 0.5));
  }
  const cdf = F.mul(F.add(F.erf(F.mul(x, Math.SQRT1_2)), 1), 0.5);
  const pdf = F.mul(F.exp(F.mul(F.mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
  return F.mul(g, F.add(cdf, F.mul(x, pdf)));
}

/**
 * layer_norm_grad(x, g, w?) = dL/dx of y = layer_norm(x, w, b) for the cotangent g (b does not enter):
 * with x̂ = (x - mean) · rstd over the last axis and gw = g · w (or g),
 * dx = rstd · (gw - mean(gw) - x̂ · mean(gw · x̂)).
 */
export function lowerLayerNormGrad(
  [x, g, w]: readonly Tensor[],
  { eps }: OpAttrs<'layer_norm_grad'>,
): Tensor {
  const xc = F.sub(x, F.mean(x, -1, true));
  const rstd = F.div(1, F.sqrt(F.add(F.mean(F.mul(xc, xc), -1, true), eps)));
  const xhat = F.mul(xc, rstd);
  const gw = w ? F.mul(g, w) : g;
  const m1 = F.mean(gw, -1, true);
  const m2 = F.mean(F.mul(gw, xhat), -1, true);
  return F.mul(rstd, F.sub(F.sub(gw, m1), F.mul(xhat, m2)));
}

/**
 * The input values that kernel tap (i, j) of a convolution meets, as an [N, C, OH, OW] strided slice of the
 * (already padded) input `xp` for an output of `outSize` with `stride`.
 */
export function convTap(
  xp: Tensor,
  i: number,
  j: number,
  [oh, ow]: readonly [number, number],
  [sh, sw]: readonly [number, number],
): Tensor {
  const [n, c] = xp.shape;
  return F.slice(xp, [0, 0, i, j], [n, c, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1], [1, 1, sh, sw]);
}

/**
 * depthwise_weight_grad(x, g) = dL/dw of conv2d(x, w [C,1,kh,kw], groups C) for the cotangent g: each tap
 * (u, v) of channel c is Σ over batch and output pixels of g · the input window shifted by (u, v). Lowered
 * as every tap's strided slice of the padded input in one batched product [B,C,taps,L] @ [B,C,1,L]ᵀ.
 */
export function lowerDepthwiseWeightGrad(
  [x, g]: readonly Tensor[],
  { kernel, stride, padding }: OpAttrs<'depthwise_weight_grad'>,
): Tensor {
  const [bsz, c] = x.shape;
  const [, , oh, ow] = g.shape;
  const [kh, kw] = kernel;
  const [sh, sw] = stride;
  const [ph, pw] = padding;
  const xp =
    ph || pw
      ? F.pad(x, [
          [0, 0],
          [0, 0],
          [ph, ph],
          [pw, pw],
        ])
      : x;
  const taps: Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++)
      taps.push(F.reshape(convTap(xp, i, j, [oh, ow], [sh, sw]), [bsz, c, 1, oh * ow]));
  }
  const xt = taps.length === 1 ? taps[0] : F.concat(taps, 2);
  const t = F.matmul(xt, F.reshape(g, [bsz, c, 1, oh * ow]), { transB: true });
  return F.reshape(bsz > 1 ? F.sum(t, 0) : t, [c, 1, kh, kw]);
}

/** silu(x) = x · sigmoid(x). */
export function lowerSilu([x]: readonly Tensor[]): Tensor {
  return F.mul(x, F.sigmoid(x));
}

/**
 * sigmoid(x) = 1 / (1 + e^-x), written stably with e = e^-|x| (never overflows): 1 / (1 + e) for x > 0 and
 * e / (1 + e) otherwise, i.e. (m + (1 - m) e) / (1 + e) with m = [x > 0]. Each branch is exact in relative
 * terms for large |x| (no 1 - p cancellation), NaN stays NaN.
 */
export function lowerSigmoid([x]: readonly Tensor[]): Tensor {
  const e = F.exp(F.neg(F.abs(x)));
  const m = F.greater(x, 0);
  return F.div(F.add(m, F.mul(F.sub(1, m), e)), F.add(e, 1));
}

/**
 * mean(x, axes) = sum(x, axes) / n, n the number of elements reduced per output. Divided by n rather than
 * multiplied by 1/n: n is exact as a float32 constant, 1/n is not (the float64 evaluator would be off by
 * float32 rounding).
 */
export function lowerMean([x]: readonly Tensor[], { axes, keepDims }: OpAttrs<'mean'>): Tensor {
  const n = axes.reduce((p, a) => p * x.shape[a < 0 ? a + x.rank : a], 1);
  return F.div(F.sum(x, axes, keepDims), n);
}

/** l2norm(x, axes) = sqrt(sum(x², axes)). */
export function lowerL2Norm([x]: readonly Tensor[], { axes, keepDims }: OpAttrs<'l2norm'>): Tensor {
  return F.sqrt(F.sum(F.mul(x, x), axes, keepDims));
}

/** softmax(x, axis) = exp(x - max) / sum(exp(x - max)) along `axis` (max-subtracted: never overflows). */
export function lowerSoftmax([x]: readonly Tensor[], { axis }: OpAttrs<'softmax'>): Tensor {
  const e = F.exp(F.sub(x, F.max(x, axis, true)));
  return F.div(e, F.sum(e, axis, true));
}

/**
 * layer_norm(x, w?, b?) = (x - mean) / sqrt(var + eps) · w + b over the last axis (biased variance, taken
 * two-pass from the centred values).
 */
export function lowerLayerNorm([x, w, b]: readonly Tensor[], { eps }: OpAttrs<'layer_norm'>): Tensor {
  const xc = F.sub(x, F.mean(x, -1, true));
  let y = F.div(xc, F.sqrt(F.add(F.mean(F.mul(xc, xc), -1, true), eps)));
  if (w) y = F.mul(y, w);
  if (b) y = F.add(y, b);
  return y;
}

/** relu(x) = max(x, 0). */
export function lowerRelu([x]: readonly Tensor[]): Tensor {
  return F.maximum(x, 0);
}
