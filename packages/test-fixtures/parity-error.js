// The error measure of every parity check against the float64 PyTorch fixtures, with no imports so that a
// browser page can bundle it too (the gpu.js backend's Chromium test page does): the largest absolute
// error, and the bound it must meet, relative to the largest reference value. parity.js re-exports it.

/**
 * The largest error `err` = max |got - ref| over the elements of `ref`, and the bound it must meet,
 * `bound` = `rel` * max(`floor`, max |ref|) (`rel` default 1e-4, `floor` default 0: purely relative; with
 * `floor` 1, absolute for references within [-1, 1]). A NaN in `got` (anywhere) or in `ref` makes `err`
 * infinite, so the check `err <= bound` fails.
 */
export function parityError(got, ref, { rel = 1e-4, floor = 0 } = {}) {
  let err = 0;
  let mx = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const d = Math.abs(got.data[i] - ref.data[i]);
    err = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(err, d);
    mx = Math.max(mx, Math.abs(ref.data[i]));
  }
  for (let i = ref.data.length; i < got.data.length; i++)
    if (Number.isNaN(got.data[i])) err = Number.POSITIVE_INFINITY;
  return { err, bound: rel * Math.max(floor, mx) };
}
