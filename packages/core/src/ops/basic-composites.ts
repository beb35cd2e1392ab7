// Lowerings of the small composites: linear (PyTorch layout), GELU (erf and tanh forms) and SiLU.
import type { OpAttrs } from '../ir/ops.js';
import type { Tensor } from '../ir/tensor.js';
import * as F from './functional.js';

/** linear(x, w[out,in], b?) = x @ wᵀ + b. */
export function lowerLinear([x, w, b]: readonly Tensor[]): Tensor {
  const x2 = x.rank === 1 ? F.reshape(x, [1, x.shape[0]]) : x;
  let y = F.matmul(x2, w, { transB: true });
  if (b) y = F.add(y, b);
  return x.rank === 1 ? F.reshape(y, [w.shape[0]]) : y;
}

/** gelu(x) = 0.5 x (1 + erf(x / √2)), or 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))) when approximate. */
export function lowerGelu([x]: readonly Tensor[], { approximate }: OpAttrs<'gelu'>): Tensor {
  const inner =
    approximate === 'tanh'
      ? F.tanh(F.mul(F.add(x, F.mul(F.mul(F.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI)))
      : F.erf(F.mul(x, Math.SQRT1_2));
  return F.mul(F.mul(x, 0.5), F.add(inner, 1));
}

/** silu(x) = x · sigmoid(x). */
export function lowerSilu([x]: readonly Tensor[]): Tensor {
  return F.mul(x, F.sigmoid(x));
}
