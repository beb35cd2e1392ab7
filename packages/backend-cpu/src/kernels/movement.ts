// View and data-movement kernels. reshape, permute and slice return strided views that share storage
// when the compiler gives no `out` (zero-copy); with an `out` they copy. concat, pad, gather and cast
// always write their output.
import type { Kernel } from '@wf/core';
import { BackendError, defineKernels, normAxis } from '@wf/core';
import { broadcastView, type CpuTensor, copyInto, forEachOffset, reshapeView, stridedView } from '../nd.js';

/** Writes `view` into `out` when given, else returns the view itself. */
function viewOrCopy(view: CpuTensor, out: CpuTensor | undefined): CpuTensor {
  if (!out) return view;
  copyInto(reshapeView(out, view.shape), view);
  return out;
}

/** Same elements, new shape: a view of a dense input, or a row-major copy into `out`. */
export const reshape: Kernel<CpuTensor, 'reshape'> = ({ inputs: [x], out, type }) => {
  if (!out) return reshapeView(x, type.shape);
  copyInto(reshapeView(out, x.shape), x);
  return out;
};

/** Axis reorder as a stride permutation. */
export const permute: Kernel<CpuTensor, 'permute'> = ({ inputs: [x], out, attrs }) => {
  const { perm } = attrs;
  const view = stridedView(
    x,
    perm.map((p) => x.shape[p]),
    perm.map((p) => x.stride[p]),
    x.offset,
  );
  return viewOrCopy(view, out);
};

/** Broadcast as a stride-0 view. */
export const expand: Kernel<CpuTensor, 'expand'> = ({ inputs: [x], out, type }) =>
  viewOrCopy(broadcastView(x, type.shape), out);

/** Strided sub-range: offset moves to `begin`, strides scale by `step`. */
export const slice: Kernel<CpuTensor, 'slice'> = ({ inputs: [x], out, attrs, type }) => {
  const { begin, step } = attrs;
  const offset = begin.reduce((o, b, i) => o + b * x.stride[i], x.offset);
  const view = stridedView(
    x,
    type.shape,
    step.map((s, i) => s * x.stride[i]),
    offset,
  );
  return viewOrCopy(view, out);
};

/** The part of `out` along `axis` from `start` with `len` entries, as a view. */
function band(out: CpuTensor, axis: number, start: number, len: number): CpuTensor {
  const shape = [...out.shape];
  shape[axis] = len;
  return stridedView(out, shape, out.stride, out.offset + start * out.stride[axis]);
}

/** Copies each input into its band of the output. */
export const concat: Kernel<CpuTensor, 'concat'> = ({ inputs, out, attrs }) => {
  const o = out!;
  const ax = normAxis('concat', attrs.axis, o.shape.length);
  let at = 0;
  for (const x of inputs) {
    copyInto(band(o, ax, at, x.shape[ax]), x);
    at += x.shape[ax];
  }
  return o;
};

/** Fills with the pad value, then copies the input into the interior. */
export const pad: Kernel<CpuTensor, 'pad'> = ({ inputs: [x], out, attrs }) => {
  const { pads, value } = attrs;
  const o = out!;
  o.data.fill(value, o.offset, o.offset + o.size);
  const offset = pads.reduce((acc, [before], i) => acc + before * o.stride[i], o.offset);
  copyInto(stridedView(o, x.shape, o.stride, offset), x);
  return o;
};

/** out[i..., r...] = table[indices[i...], r...]; an index out of range throws. */
export const gather: Kernel<CpuTensor, 'gather'> = ({ inputs: [table, idx], out }) => {
  const o = out!;
  const v = table.shape[0];
  const rowShape = table.shape.slice(1);
  const rowStrides = table.stride.slice(1);
  const dstRows = stridedView(o, idx.shape, o.stride.slice(0, idx.shape.length), o.offset);
  forEachOffset(idx.shape, [idx, dstRows], (p) => {
    const i = idx.data[p[0]];
    if (!(i >= 0 && i < v))
      throw new BackendError(`gather: index ${i} out of range for a table of ${v} rows`);
    const src = stridedView(table, rowShape, rowStrides, table.offset + i * table.stride[0]);
    copyInto(stridedView(o, rowShape, o.stride.slice(idx.shape.length), p[1]), src);
  });
  return o;
};

/** float32 <-> int32 (toward zero). */
export const cast: Kernel<CpuTensor, 'cast'> = ({ inputs: [x], out, type }) => {
  const o = out!;
  const toInt = type.dtype === 'int32';
  forEachOffset(o.shape, [o, x], (p) => {
    o.data[p[0]] = toInt ? Math.trunc(x.data[p[1]]) : x.data[p[1]];
  });
  return o;
};

/** View and movement kernels keyed by op. */
export const movementKernels = defineKernels<CpuTensor>()({
  reshape,
  permute,
  expand,
  slice,
  concat,
  pad,
  gather,
  cast,
});
