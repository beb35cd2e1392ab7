// Fast data movement: reshape's copy of a transposed view (the layout a permute's backward pass leaves)
// walks tiles; other copies (broadcast views, short strided runs) merge axes and loop over the last four;
// a reshape without an output buffer is the plain kernel's view. concat of dense inputs copies runs.
import { defineKernels, type Kernel, normAxis, stridesOf } from '@wf/core';
import ndarray from 'ndarray';
import { movementKernels } from '../kernels/movement.js';
import type { CpuTensor } from '../nd.js';
import {
  count,
  isDense,
  jsTransposeBlock,
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
 * long, a loop when short: a flipped 3 x 3 kernel is 576 runs of one float, which ndarray's generic copy
 * took 30-45 µs to walk); a strided input (a slice) is first copied dense. Other outputs: the plain kernel.
 */
export const fastConcat: Kernel<CpuTensor, 'concat'> = (args) => {
  const { inputs } = args;
  const o = args.out!;
  if (!isDense(o)) return movementKernels.concat(args);
  const ax = normAxis('concat', args.attrs.axis, o.shape.length);
  const inner = o.shape.slice(ax + 1).reduce((p, d) => p * d, 1);
  const outer = count(o) / Math.max(1, o.shape[ax] * inner);
  const total = o.shape[ax] * inner;
  const od = o.data;
  let at = o.offset;
  for (const input of inputs) {
    const x = isDense(input) ? input : denseCopy(input);
    const run = x.shape[ax] * inner;
    const xd = x.data;
    if (run >= 64) {
      for (let i = 0; i < outer; i++)
        od.set(xd.subarray(x.offset + i * run, x.offset + (i + 1) * run) as never, at + i * total);
    } else {
      for (let i = 0; i < outer; i++) {
        const s = x.offset + i * run;
        const d = at + i * total;
        for (let j = 0; j < run; j++) od[d + j] = xd[s + j];
      }
    }
    at += run;
  }
  return o;
};

/** A dense row-major copy of the view `t` in fresh memory of its own element type. */
function denseCopy(t: CpuTensor): CpuTensor {
  const data = t.data instanceof Int32Array ? new Int32Array(count(t)) : new Float32Array(count(t));
  const copy = ndarray(data, [...t.shape], stridesOf(t.shape), 0) as CpuTensor;
  stridedCopy(copy, t);
  return copy;
}

/** The fast movement kernels keyed by op. */
export const fastMovementKernels = defineKernels<CpuTensor>()({ reshape: fastReshape(), concat: fastConcat });
