// Layout checks for the fast kernels: a fast kernel handles dense row-major tensors (the common case in
// compiled graphs) and defers anything else to the plain reference kernel.
import { isDense as denseStrides } from '@wf/core';
import type { CpuTensor } from '../nd.js';

/** True when `t` is dense row-major (axes of size 1 may have any stride). */
export function isDense(t: CpuTensor): boolean {
  return denseStrides(t.shape, t.stride);
}

/** Number of elements. */
export function count(t: CpuTensor): number {
  let n = 1;
  for (const d of t.shape) n *= d;
  return n;
}
