// Tests of the float32 erf/GELU: the scalar model against a float64 erf (max abs error < 2e-7), and the
// WebAssembly SIMD functions against the scalar model, bit for bit.
import { erf } from '@wf/core';
import { describe, expect, it } from 'vitest';
import { ERF_CLAMP, ERF_PIECE_BOUNDS, erfF32, GELU_GRAD_PIECES, geluF32, geluGradF32 } from './gelu-erf.js';
import { createGemm } from './gemm-module.js';
import { WasmHeap } from './heap.js';
import { seededRandom } from './test-helpers.js';

/** Probe points: a dense grid over [-5, 5], the piece boundaries and their float32 neighbours, random points. */
function probePoints(): Float32Array {
  const xs: number[] = [];
  for (let i = -500_000; i <= 500_000; i++) xs.push(i * 1e-5);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  for (const b of [...ERF_PIECE_BOUNDS, ERF_CLAMP, ...GELU_GRAD_PIECES.bounds, GELU_GRAD_PIECES.clamp]) {
    f32[0] = b;
    for (let d = -3; d <= 3; d++) {
      const bits = new Uint32Array([u32[0] + d]);
      const v = new Float32Array(bits.buffer)[0];
      xs.push(v, -v);
    }
  }
  const rand = seededRandom(7);
  for (let i = 0; i < 100_000; i++)
    xs.push((rand() - 0.5) * 10, (rand() - 0.5) * 1e-3, (rand() - 0.5) * 1e-30);
  xs.push(0, -0, 1e-45, 6, -6, 1e30, -1e30);
  return new Float32Array(xs);
}

describe('float32 erf model', () => {
  it('is within 2e-7 of a float64 erf', () => {
    let worst = 0;
    let at = 0;
    for (const x of probePoints()) {
      const e = Math.abs(erfF32(x) - erf(x));
      if (e > worst) {
        worst = e;
        at = x;
      }
    }
    expect(worst, `max |erfF32 - erf| = ${worst} at x = ${at}`).toBeLessThan(2e-7);
  });

  it('handles special values', () => {
    expect(erfF32(Number.NaN)).toBeNaN();
    expect(erfF32(Number.POSITIVE_INFINITY)).toBe(1);
    expect(erfF32(Number.NEGATIVE_INFINITY)).toBe(-1);
    expect(Object.is(erfF32(-0), -0)).toBe(true);
    expect(geluF32(Number.NaN)).toBeNaN();
    expect(geluF32(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });

  it('gives GELU within float32 rounding of the float64 definition', () => {
    let worst = 0;
    for (const x of probePoints()) {
      if (Math.abs(x) > 1e4) continue;
      const ref = 0.5 * x * (1 + erf(x / Math.SQRT2));
      worst = Math.max(worst, Math.abs(geluF32(x) - ref) / Math.max(1, Math.abs(x)));
    }
    expect(worst).toBeLessThan(2e-7);
  });
});

describe("float32 GELU derivative model (gelu' as odd pieces)", () => {
  // measured 2.1e-7 (near x = 4.04, where gelu' is just above 1 and the float32 spacing 1.2e-7): the fit's
  // 8e-8 plus the roundings of Estrin's scheme (Horner's rule gave 1.3e-7, at x = 1.18)
  it("gives g · gelu'(x) within 2.5e-7 of the float64 definition", () => {
    const c = 1 / Math.sqrt(2 * Math.PI);
    let worst = 0;
    let at = 0;
    for (const x of probePoints()) {
      if (!Number.isFinite(x)) continue;
      const ref = 0.5 * (1 + erf(x / Math.SQRT2)) + x * Math.exp(-0.5 * x * x) * c;
      const e = Math.abs(geluGradF32(x, 1) - ref);
      if (e > worst) {
        worst = e;
        at = x;
      }
    }
    expect(worst, `max |geluGradF32 - gelu'| = ${worst} at x = ${at}`).toBeLessThan(2.5e-7);
  });

  it('handles special values and scales by g', () => {
    expect(geluGradF32(Number.NaN, 1)).toBeNaN();
    expect(geluGradF32(Number.POSITIVE_INFINITY, 2)).toBe(2);
    expect(geluGradF32(Number.NEGATIVE_INFINITY, 2)).toBe(0);
    expect(geluGradF32(0, 3)).toBe(1.5);
    expect(geluGradF32(1, 0)).toBe(0);
  });
});

describe('WebAssembly erf_f32 / gelu_f32 / gelu_to_f32', () => {
  it('match the scalar model bit for bit (SIMD body and scalar tail)', () => {
    const heap = new WasmHeap({ initialBytes: 32 << 20 });
    const g = createGemm(heap);
    const xs = probePoints();
    const n = xs.length - 3; // not a multiple of 4: exercises the tail
    for (const [name, model] of [
      ['erf_f32', erfF32],
      ['gelu_f32', geluF32],
    ] as const) {
      const p = heap.alloc(4 * n);
      heap.f32(p, n).set(xs.subarray(0, n));
      g.instance[name](p, n);
      const out = heap.f32(p, n);
      let mismatches = 0;
      for (let i = 0; i < n; i++) {
        const want = model(xs[i]);
        if (!Object.is(out[i], Math.fround(want)) && !(Number.isNaN(want) && Number.isNaN(out[i])))
          mismatches++;
      }
      expect(mismatches, name).toBe(0);
      heap.free(p);
    }
    // gelu_to_f32: from one array into another, the source left as it was
    const [src, dst] = [heap.alloc(4 * n), heap.alloc(4 * n)];
    heap.f32(src, n).set(xs.subarray(0, n));
    g.instance.gelu_to_f32(src, dst, n);
    let mismatches = 0;
    for (let i = 0; i < n; i++) {
      const want = Math.fround(geluF32(xs[i]));
      const got = heap.f32(dst, n)[i];
      if (!Object.is(got, want) && !(Number.isNaN(want) && Number.isNaN(got))) mismatches++;
      if (!Object.is(heap.f32(src, n)[i], xs[i]) && !Number.isNaN(xs[i])) mismatches++;
    }
    expect(mismatches, 'gelu_to_f32').toBe(0);
  });

  it('gelu_grad_f32 matches geluGradF32 bit for bit (SIMD body, scalar tail, output over an input)', () => {
    const heap = new WasmHeap({ initialBytes: 32 << 20 });
    const gm = createGemm(heap);
    const xs = probePoints();
    const n = xs.length - 1; // not a multiple of 4
    const rand = seededRandom(3);
    const gs = Float32Array.from({ length: n }, () => (rand() - 0.5) * 4);
    const px = heap.alloc(4 * n);
    const pg = heap.alloc(4 * n);
    const po = heap.alloc(4 * n);
    heap.f32(px, n).set(xs.subarray(0, n));
    heap.f32(pg, n).set(gs);
    gm.instance.gelu_grad_f32(px, pg, po, n);
    const count = (out: Float32Array) => {
      let mismatches = 0;
      for (let i = 0; i < n; i++) {
        const want = Math.fround(geluGradF32(xs[i], gs[i]));
        if (!Object.is(out[i], want) && !(Number.isNaN(want) && Number.isNaN(out[i]))) mismatches++;
      }
      return mismatches;
    };
    expect(count(heap.f32(po, n))).toBe(0);
    gm.instance.gelu_grad_f32(px, pg, pg, n); // in place over g
    expect(count(heap.f32(pg, n))).toBe(0);
  });
});
