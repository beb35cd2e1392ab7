// The normalized dynamic weight shared by DynLinear's strategies (SPEC section 3, steps 5-6): the
// generator's raw product g, scaled, normalized per output column and added to the static weight. One op,
// so a backend can do it in one pass over the [Cin, Cout] weight instead of five.
import type { OpAttrs } from '../ir/ops.js';
import type { Tensor } from '../ir/tensor.js';
import * as F from './functional.js';

/** dyn_weight(g, w) = w + wd / (‖wd‖ + 1) with wd = scale · g, the norm over axis -2 (Cin), kept. */
export function lowerDynWeight([g, w]: readonly Tensor[], { scale }: OpAttrs<'dyn_weight'>): Tensor {
  const wd = F.mul(g, scale);
  return F.add(F.div(wd, F.add(F.l2norm(wd, g.rank - 2, true), 1)), w);
}

/**
 * dyn_weight_grad(g, gy) = dL/dg of y = dyn_weight(g, w) for the cotangent gy (w does not enter). Per output
 * column, with n = ‖s·g‖ over Cin: dg = s·gy / (n + 1) - g · s³·Σ(gy·g) / (n (n + 1)²), the second term 0 where
 * n = 0 (PyTorch's subgradient of the norm there).
 */
export function lowerDynWeightGrad(
  [g, gy]: readonly Tensor[],
  { scale }: OpAttrs<'dyn_weight_grad'>,
): Tensor {
  const axis = g.rank - 2;
  const n = F.mul(F.l2norm(g, axis, true), Math.abs(scale));
  const n1 = F.add(n, 1);
  const safe = F.add(n, F.sub(1, F.greater(n, 0)));
  const dot = F.sum(F.mul(gy, g), axis, true);
  const c = F.div(F.mul(dot, scale ** 3), F.mul(safe, F.mul(n1, n1)));
  return F.sub(F.div(F.mul(gy, scale), n1), F.mul(g, c));
}
