// Fast data movement: reshape's copy of a transposed view (the layout a permute's backward pass leaves)
// walks tiles; other copies (broadcast views, short strided runs) merge axes and loop over the last four;
// a reshape without an output buffer is the plain kernel's view. concat of dense inputs copies runs.
import { defineKernels, isDense as denseStrides, type Kernel, normAxis } from '@wf/core';
import { movementKernels } from '../kernels/movement.js';
import type { CpuTensor } from '../nd.js';
import {
  isDense,
  jsTransposeBlock,
  overOuter,
  stridedCopy,
  type TransposeBlock,
  transposedCopy,
} from './layout.js';

/**
 * The fast reshape, copying a transposed input with the block copy `blockFor(input)` gives (the JavaScript
 * tiles by default; the SIMD kernels pass their heap transpose).
 */
export function fastReshape(
  blockFor: (x: CpuTensor) => TransposeBlock = () => jsTransposeBlock,
): Kernel<CpuTensor, 'reshape'> {
  return (args) => {
    const [x] = args.inputs;
    const out = args.out;
    if (out && (transposedCopy(out, x, blockFor(x)) || stridedCopy(out, x))) return out;
    return movementKernels.reshape(args);
  };
}

/**
 * concat into a dense output: per index of the axes before `axis`, one run per input (a block copy when
 * long, a loop when short: a flipped 3 x 3 kernel is 576 runs of three floats, which ndarray's generic
 * copy took 30 µs to walk). An input may be any view whose axes from `axis` on are dense among
 * themselves (a slice along an earlier or the same axis is); other inputs or outputs: the plain kernel.
 */
export const fastConcat: Kernel<CpuTensor, 'concat'> = (args) => {
  const { inputs } = args;
  const o = args.out!;
  const r = o.shape.length;
  const ax = normAxis('concat', args.attrs.axis, r);
  const denseFrom = (x: CpuTensor) => denseStrides(x.shape.slice(ax), x.stride.slice(ax));
  if (!isDense(o) || !inputs.every(denseFrom)) return movementKernels.concat(args);
  const inner = o.shape.slice(ax + 1).reduce((p, d) => p * d, 1);
  const total = o.shape[ax] * inner;
  const od = o.data;
  let at = o.offset;
  for (const x of inputs) {
    const run = x.shape[ax] * inner;
    const xd = x.data;
    let d = at;
    overOuter(x.shape.slice(0, ax), x.stride.slice(0, ax), x.offset, (xs) => {
      if (run >= 64) od.set(xd.subarray(xs, xs + run) as never, d);
      else for (let j = 0; j < run; j++) od[d + j] = xd[xs + j];
      d += total;
    });
    at += run;
  }
  return o;
};

/** The fast movement kernels keyed by op. */
export const fastMovementKernels = defineKernels<CpuTensor>()({ reshape: fastReshape(), concat: fastConcat });
