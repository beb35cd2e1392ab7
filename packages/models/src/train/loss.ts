// Cross entropy with label smoothing (mean over the batch), as PyTorch's `F.cross_entropy(logits, labels,
// label_smoothing=eps)`, together with its exact gradient with respect to the logits, which is fed to
// `WfModel.grad` as the cotangent of the logits. Computed in float64 from float32 logits.
import { type TensorData, WfError } from '@wf/core';

/** Loss, gradient and hits of one batch. */
export interface CrossEntropyResult {
  /** Mean loss over the batch. */
  loss: number;
  /** d loss / d logits, `[B, C]` float32: `(softmax(logits) - q) / B` with `q = (1 - eps) onehot + eps / C`. */
  grad: TensorData;
  /** Number of rows whose arg-max equals the label. */
  correct: number;
}

/**
 * Cross entropy with label smoothing, mean over the batch, and its gradient with respect to the logits.
 *
 * @param logits Float32 `[B, C]`.
 * @param labels One class index in `0..C-1` per row.
 * @param labelSmoothing The smoothing `eps` in [0, 1) (0 = plain cross entropy).
 * @throws {WfError} `E_ARGUMENT` when shapes or labels do not fit.
 */
export function crossEntropy(
  logits: TensorData,
  labels: ArrayLike<number>,
  labelSmoothing = 0,
): CrossEntropyResult {
  if (logits.shape.length !== 2)
    throw new WfError('E_ARGUMENT', `crossEntropy: logits must be [B, C], got [${logits.shape.join(', ')}]`);
  const [b, c] = logits.shape;
  if (labels.length !== b)
    throw new WfError('E_ARGUMENT', `crossEntropy: ${labels.length} labels for a batch of ${b}`);
  if (!(labelSmoothing >= 0 && labelSmoothing < 1))
    throw new WfError('E_ARGUMENT', `label smoothing must be in [0, 1), got ${labelSmoothing}`);
  const x = logits.data;
  const grad = new Float32Array(b * c);
  let total = 0;
  let correct = 0;
  const off = labelSmoothing / c;
  for (let i = 0; i < b; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= c)
      throw new WfError('E_ARGUMENT', `label ${y} of row ${i} is outside 0..${c - 1}`);
    let mx = Number.NEGATIVE_INFINITY;
    let arg = 0;
    for (let j = 0; j < c; j++) {
      const v = x[i * c + j];
      if (v > mx) {
        mx = v;
        arg = j;
      }
    }
    if (arg === y) correct++;
    let sum = 0;
    for (let j = 0; j < c; j++) sum += Math.exp(x[i * c + j] - mx);
    const lse = mx + Math.log(sum);
    let smooth = 0;
    for (let j = 0; j < c; j++) {
      const logp = x[i * c + j] - lse;
      smooth -= logp;
      const q = (j === y ? 1 - labelSmoothing : 0) + off;
      grad[i * c + j] = (Math.exp(logp) - q) / b;
    }
    total += (1 - labelSmoothing) * (lse - x[i * c + y]) + off * smooth;
  }
  return { loss: total / b, grad: { dtype: 'float32', shape: [b, c], data: grad }, correct };
}
