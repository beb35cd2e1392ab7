// DynDWConv: a depthwise 3x3 convolution whose kernel gets a per-sample dynamic term predicted from pooled
// context, in time linear in H·W. `adaptive` is the released model's strategy (SPEC section 4, exact);
// `gap`, `ampdir` and `conv` are the ablation strategies of SPEC section 5, documented here:
//
// Every strategy predicts kd [B, D, 3, 3] and then, as SPEC section 4 steps 3-4:
//   k = kd / (norm3x3(kd) + 1) + w,   y = depthwise3x3(x[b], k[b], padding 1) + b
// With p = adaptive_avg_pool(x, 3x3), g = global average pool [B, D, 1, 1], conv1x1 = a channel-mixing
// Linear at every cell:
//   adaptive: kd = wfm2(gelu(wfm0(p)))                    tap (i, j) from pooled region (i, j)
//   gap:      kd = reshape(wfm2(gelu(wfm0(g))), [B,D,3,3])  with wfm2_weight [9D, D, 1, 1] (one vector)
//   ampdir:   dir = wfm2(gelu(wfm0(p))) / (norm3x3 + 1e-6),  amp = sigmoid(g @ amp_weightᵀ + amp_bias);
//             kd = amp · dir                              (direction and amplitude predicted apart)
//   conv:     kd = depthwise3x3(gelu(wfm0(p)), kernel, padding 1)   (a conv over the pooled map)
import { ShapeError } from '../errors.js';
import type { OpAttrs } from '../ir/ops.js';
import type { Tensor } from '../ir/tensor.js';
import * as F from './functional.js';

export { DYN_DWCONV_PARAMS } from '../ir/dyn-params.js';

/** L2 norm over the 9 taps of each (sample, channel): [B, D, 3, 3] -> [B, D, 1, 1]. */
function norm3x3(k: Tensor): Tensor {
  return F.l2norm(k, [2, 3], true);
}

/** Depthwise 3x3 convolution of each sample with its own kernel: x [B,D,H,W], k [B,D,3,3]. */
export function perSampleDepthwise(x: Tensor, k: Tensor, bias: Tensor): Tensor {
  const [b, d, h, w] = x.shape;
  const y = F.conv2d(F.reshape(x, [1, b * d, h, w]), F.reshape(k, [b * d, 1, 3, 3]), undefined, {
    padding: 1,
    groups: b * d,
  });
  return F.add(F.reshape(y, [b, d, h, w]), F.reshape(bias, [1, d, 1, 1]));
}

/**
 * The per-sample kernels `k = kd / (norm3x3(kd) + 1) + w` [B, D, 3, 3] of dyn_dwconv for every strategy
 * (everything but the final depthwise convolution; exporters that apply it another way start here).
 */
export function dynDWConvKernel(inputs: readonly Tensor[], { strategy }: OpAttrs<'dyn_dwconv'>): Tensor {
  const [x, w, , w0, b0] = inputs;
  const [bsz, d] = x.shape;
  let kd: Tensor;
  switch (strategy) {
    case 'adaptive':
      kd = F.conv2d(F.gelu(F.conv2d(F.adaptiveAvgPool2d(x, 3), w0, b0)), inputs[5]);
      break;
    case 'gap': {
      const g = F.adaptiveAvgPool2d(x, 1);
      kd = F.reshape(F.conv2d(F.gelu(F.conv2d(g, w0, b0)), inputs[5]), [bsz, d, 3, 3]);
      break;
    }
    case 'ampdir': {
      const raw = F.conv2d(F.gelu(F.conv2d(F.adaptiveAvgPool2d(x, 3), w0, b0)), inputs[5]);
      const dir = F.div(raw, F.add(norm3x3(raw), 1e-6));
      const amp = F.sigmoid(F.linear(F.mean(x, [2, 3]), inputs[6], inputs[7]));
      kd = F.mul(dir, F.reshape(amp, [bsz, d, 1, 1]));
      break;
    }
    case 'conv': {
      const h = F.gelu(F.conv2d(F.adaptiveAvgPool2d(x, 3), w0, b0));
      kd = F.conv2d(h, inputs[5], undefined, { padding: 1, groups: d });
      break;
    }
    default:
      throw new ShapeError('dyn_dwconv', `unknown strategy "${strategy}"`);
  }
  return F.add(F.div(kd, F.add(norm3x3(kd), 1)), F.reshape(w, [1, d, 3, 3]));
}

/** Lowers dyn_dwconv to primitives for every strategy. */
export function lowerDynDWConv(inputs: readonly Tensor[], attrs: OpAttrs<'dyn_dwconv'>): Tensor {
  return perSampleDepthwise(inputs[0], dynDWConvKernel(inputs, attrs), inputs[2]);
}
