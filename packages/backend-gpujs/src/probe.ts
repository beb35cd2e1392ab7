// Proves a mode works before the backend commits to it: a few representative kernels (a looped matrix
// product, broadcasting with index division, transcendental functions, a reduction) compile and compute
// the values the host computes. Also describes the device underneath (GL renderer, WebGPU adapter).
import { erf } from '@wf/core';
import type { Engine } from './engine.js';
import { mapStep, UNARY_SOURCE } from './kernels/elementwise.js';
import { matmulStep } from './kernels/linalg.js';
import type { Step } from './plan.js';

async function runOne(engine: Engine, step: Step, inputs: Float32Array[]): Promise<Float32Array> {
  const vals = await Promise.all(inputs.map((x) => engine.upload(x)));
  const v = await engine.run(step.source, step.size, vals, step.output);
  const out = (await engine.download(v, step.size)).slice();
  for (const u of [...vals, v]) engine.free(u);
  return out;
}

function check(what: string, got: Float32Array, want: ArrayLike<number>, tol: number): void {
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])))) {
      throw new Error(`probe ${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
    }
  }
}

/** Runs the probe kernels on `engine`; throws with the first failure. */
export async function probeEngine(engine: Engine): Promise<void> {
  // matmul [3,7] @ [7,5] with non-trivial values (exercises loops, strides, index division)
  const a = Float32Array.from({ length: 21 }, (_, i) => ((i * 37) % 11) / 7 - 0.6);
  const b = Float32Array.from({ length: 35 }, (_, i) => ((i * 53) % 13) / 9 - 0.7);
  const mm = await runOne(engine, matmulStep([3, 7], [7, 5], [3, 5]), [a, b]);
  const want = new Float32Array(15);
  for (let m = 0; m < 3; m++)
    for (let n = 0; n < 5; n++) {
      let s = 0;
      for (let k = 0; k < 7; k++) s += a[m * 7 + k] * b[k * 5 + n];
      want[m * 5 + n] = s;
    }
  check('matmul', mm, want, 1e-5);
  // broadcast [6,3] * [3] then erf: exact float storage of unrounded values
  const x = Float32Array.from({ length: 18 }, (_, i) => (i - 8.5) / 3.3);
  const y = Float32Array.from([0.5, -1.25, 2.0]);
  const step = mapStep([6, 3], [[6, 3], [3]], ([p, q], n, l) => UNARY_SOURCE.erf([`(${p} * ${q})`], n, l));
  const e = await runOne(engine, step, [x, y]);
  check(
    'erf broadcast',
    e,
    Array.from({ length: 18 }, (_, i) => erf(x[i] * y[i % 3])),
    1e-5,
  );
  // round trip of a value that half precision would lose
  const r = await runOne(
    engine,
    mapStep([2], [[2]], ([p]) => p),
    [Float32Array.from([1.2345678, -98765.43])],
  );
  check('float32 storage', r, [Math.fround(1.2345678), Math.fround(-98765.43)], 1e-7);
}

/** Describes the device underneath an engine, for reports. */
export function glDeviceInfo(engine: Engine): Record<string, string> {
  const gl = engine.glContext() as
    | {
        getParameter(p: number): unknown;
        getExtension(name: string): { UNMASKED_RENDERER_WEBGL: number; UNMASKED_VENDOR_WEBGL: number } | null;
        RENDERER: number;
        VENDOR: number;
        VERSION: number;
      }
    | undefined;
  if (!gl) return {};
  const out: Record<string, string> = {};
  try {
    out.renderer = String(gl.getParameter(gl.RENDERER));
    out.vendor = String(gl.getParameter(gl.VENDOR));
    out.version = String(gl.getParameter(gl.VERSION));
    const dbg = gl.getExtension('WEBGL_debug_renderer_info');
    if (dbg) {
      out.unmaskedRenderer = String(gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL));
      out.unmaskedVendor = String(gl.getParameter(dbg.UNMASKED_VENDOR_WEBGL));
    }
  } catch {
    // a lost context answers nothing
  }
  return out;
}
