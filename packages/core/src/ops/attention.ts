// Softmax attention two ways: the usual softmax(q kᵀ) v, and the paper's reading of it as an MLP whose
// weights are predicted from the input (first layer Kᵀ, softmax activation, second layer V).
import type { OpAttrs } from '../ir/ops.js';
import type { Tensor } from '../ir/tensor.js';
import * as F from './functional.js';

/** Splits `[B, N, H·d]` into heads `[B, H, N, d]`. */
function heads(x: Tensor, h: number): Tensor {
  const [b, n, d] = x.shape;
  return F.permute(F.reshape(x, [b, n, h, d / h]), [0, 2, 1, 3]);
}

/** Joins heads `[B, H, N, d]` back into `[B, N, H·d]`. */
function merge(x: Tensor): Tensor {
  const [b, h, n, d] = x.shape;
  return F.reshape(F.permute(x, [0, 2, 1, 3]), [b, n, h * d]);
}

function scaleOf(q: Tensor, attrs: OpAttrs<'attention'>): number {
  return attrs.scale ?? (q.shape[2] / attrs.heads) ** -0.5;
}

/** attention(q, k, v) = concat_h softmax(q_h k_hᵀ · scale) v_h. */
export function lowerAttention([q, k, v]: readonly Tensor[], attrs: OpAttrs<'attention'>): Tensor {
  const logits = F.mul(
    F.matmul(heads(q, attrs.heads), heads(k, attrs.heads), { transB: true }),
    scaleOf(q, attrs),
  );
  return merge(F.matmul(F.softmax(logits, -1), heads(v, attrs.heads)));
}

/** The same attention as a dynamic MLP per head: hidden = softmax(q·scale @ W1), out = hidden @ W2, W1 = Kᵀ, W2 = V. */
export function lowerAttentionMlp([q, k, v]: readonly Tensor[], attrs: OpAttrs<'attention_mlp'>): Tensor {
  const w1 = F.transpose(heads(k, attrs.heads)); // first-layer weight Kᵀ: [B, H, d, N]
  const w2 = heads(v, attrs.heads); // second-layer weight V: [B, H, N, dv]
  const x = F.mul(heads(q, attrs.heads), scaleOf(q, attrs));
  return merge(F.dynamicMlp(x, w1, w2, 'softmax'));
}

/** dynamic_mlp(x, w1, w2) = act(x @ w1) @ w2 (softmax over the hidden axis). */
export function lowerDynamicMlp(
  [x, w1, w2]: readonly Tensor[],
  { activation }: OpAttrs<'dynamic_mlp'>,
): Tensor {
  const h = F.matmul(x, w1);
  const a =
    activation === 'softmax'
      ? F.softmax(h, -1)
      : activation === 'gelu'
        ? F.gelu(h)
        : activation === 'silu'
          ? F.silu(h)
          : F.relu(h);
  return F.matmul(a, w2);
}
