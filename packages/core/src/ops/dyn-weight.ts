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
