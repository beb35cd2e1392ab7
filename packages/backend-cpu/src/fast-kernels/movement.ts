// Fast data movement: reshape's copy of a transposed view (the layout a permute's backward pass leaves)
// walks tiles; other copies (broadcast views, short strided runs) merge axes and loop over the last four;
// a reshape without an output buffer is the plain kernel's view. concat of dense inputs copies runs.
import { defineKernels, type Kernel, normAxis } from '@wf/core';
import { movementKernels } from '../kernels/movement.js';
import type { CpuTensor } from '../nd.js';
import { isDense, jsTransposeBlock, stridedCopy, type TransposeBlock, transposedCopy } from './layout.js';

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
  if (!isDense(o) || !inputs.every((x) => denseFrom(x, ax))) return movementKernels.concat(args);
  const inner = o.shape.slice(ax + 1).reduce((p, d) => p * d, 1);
  const total = o.shape[ax] * inner;
  const od = o.data;
  let at = o.offset;
  for (const x of inputs) {
    const run = x.shape[ax] * inner;
    const xd = x.data;
    // the outer axes as an odometer over x's strides
    const idx = new Array<number>(ax).fill(0);
    const outer = x.shape.slice(0, ax).reduce((p, d) => p * d, 1);
    let xs = x.offset;
    let d = at;
    for (let i = 0; i < outer; i++) {
      if (run >= 64) od.set(xd.subarray(xs, xs + run) as never, d);
      else for (let j = 0; j < run; j++) od[d + j] = xd[xs + j];
      d += total;
      for (let k = ax - 1; k >= 0; k--) {
        xs += x.stride[k];
        if (++idx[k] < x.shape[k]) break;
        xs -= x.stride[k] * x.shape[k];
        idx[k] = 0;
      }
    }
    at += run;
  }
  return o;
};

/** Whether `x`'s axes from `from` on are row-major dense among themselves (size-1 axes any stride). */
function denseFrom(x: CpuTensor, from: number): boolean {
  let expect = 1;
  for (let a = x.shape.length - 1; a >= from; a--) {
    if (x.shape[a] !== 1 && x.stride[a] !== expect) return false;
    expect *= x.shape[a];
  }
  return true;
}

/** The fast movement kernels keyed by op. */
export const fastMovementKernels = defineKernels<CpuTensor>()({ reshape: fastReshape(), concat: fastConcat });
