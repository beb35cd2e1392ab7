// The rows module's SIMD sigmoid and SiLU against float64 over a sweep of magnitudes (tiny to overflowing),
// signed zeros, infinities and NaN, on shared and plain memory: relative error within 2.5e-7 (plus float32
// underflow), NaN kept, and the floats past the last whole vector left for the caller.
import { describe, expect, it } from 'vitest';
import { WasmHeap } from './heap.js';
import { createRowKernels } from './rows-module.js';

const sigmoid64 = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** Inputs: a log sweep of both signs from 1e-8 to 1e3, exact special values, and a few random ones. */
function inputs(): Float32Array {
  const xs: number[] = [0, -0, 1, -1, 0.5, -0.5, 87, -87, 88.8, -88.8, 104, -104, 1e30, -1e30];
  xs.push(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN);
  for (let e = -8; e <= 3; e += 0.01) xs.push(10 ** e, -(10 ** e));
  let s = 7;
  for (let i = 0; i < 1000; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    xs.push((s / 2147483648 - 0.5) * 60);
  }
  return Float32Array.from(xs);
}

describe.each([true, false])('rows module sigmoid and SiLU (shared memory: %s)', (shared) => {
  const heap = new WasmHeap({ shared, initialBytes: 1 << 20 });
  const rows = createRowKernels(heap);
  const xs = inputs();
  const n = xs.length;
  const px = heap.alloc(4 * n);
  const po = heap.alloc(4 * n);

  it.each(['sigmoid', 'silu'] as const)('%s is within 2.5e-7 of float64, NaN kept', (name) => {
    heap.f32(px, n).set(xs);
    heap.f32(po, n).fill(-7);
    rows[name](px, po, n);
    const out = heap.f32(po, n);
    const whole = n - (n % 4);
    for (let i = 0; i < n; i++) {
      const x = xs[i];
      if (i >= whole) {
        expect(out[i], `untouched tail ${i}`).toBe(-7);
        continue;
      }
      const ref = name === 'sigmoid' ? sigmoid64(x) : x * sigmoid64(x);
      if (Number.isNaN(x)) expect(out[i]).toBeNaN();
      else if (!Number.isFinite(ref)) expect(out[i], `x = ${x}`).toBe(ref);
      else {
        // e^-|x| is clamped at 2^-126 (float32's smallest normal), so allow that much (times |x| for SiLU)
        const err = Math.abs(out[i] - ref);
        const bound = 2.5e-7 * Math.abs(ref) + 2 ** -125 * Math.max(1, Math.abs(x));
        expect(err, `${name}(${x}) = ${out[i]}, float64 ${ref}`).toBeLessThanOrEqual(bound);
      }
    }
  });

  it('does nothing for fewer than four floats', () => {
    heap.f32(po, 4).fill(-7);
    rows.sigmoid(px, po, 3);
    expect([...heap.f32(po, 4)]).toEqual([-7, -7, -7, -7]);
  });
});
