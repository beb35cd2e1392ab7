// Fast data movement: reshape's copy of a transposed view (the layout a permute's backward pass leaves)
// walks tiles; other copies (broadcast views, short strided runs) merge axes and loop over the last two;
// a reshape without an output buffer is the plain kernel's view.
import { defineKernels, type Kernel } from '@wf/core';
import { movementKernels } from '../kernels/movement.js';
import type { CpuTensor } from '../nd.js';
import { jsTransposeBlock, stridedCopy, type TransposeBlock, transposedCopy } from './layout.js';

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

/** The fast movement kernels keyed by op. */
export const fastMovementKernels = defineKernels<CpuTensor>()({ reshape: fastReshape() });
