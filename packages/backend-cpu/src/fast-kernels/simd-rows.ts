// Layer norm and its input gradient, same-shape add, dyn_weight, depthwise 3x3, erf and exact GELU on the WebAssembly SIMD kernels, for dense
// float32 tensors that live in the wasm engine's heap (rows a multiple of 4 floats long where it matters);
// anything else goes to the JavaScript fast kernel they wrap.
import type { Kernel, KernelTable } from '@wf/core';
import type { CpuTensor } from '../nd.js';
import type { ScratchProvider } from './attention.js';
import { isDepthwise3x3 } from './depthwise.js';
import { fastDynWeightKernels } from './dyn-weight.js';
import { count, isDense } from './layout.js';
import type { WasmMatmulEngine } from './wasm-engine.js';

/** Heap address of a dense float32 tensor's first element, or -1 when it is not dense or not in the heap. */
function addressOf(engine: WasmMatmulEngine, t: CpuTensor | undefined): number {
  if (!t || !isDense(t) || !(t.data instanceof Float32Array)) return -1;
  return engine.address(t.data, t.offset);
}

/**
 * Wraps the JavaScript `layer_norm`, `add` and `conv2d` (its depthwise 3x3 case) kernels of `js`, and
 * `dyn_weight`, with their SIMD versions on `engine`'s heap. `scratch` must hand out memory in that heap (the backend's scratch provider).
 */
export function simdRowKernels(
  engine: WasmMatmulEngine,
  js: KernelTable<
    CpuTensor,
    'layer_norm' | 'layer_norm_grad' | 'add' | 'conv2d' | 'erf' | 'gelu' | 'gelu_grad'
  >,
  scratch: ScratchProvider,
): KernelTable<
  CpuTensor,
  'gelu_grad' | 'layer_norm' | 'layer_norm_grad' | 'add' | 'dyn_weight' | 'conv2d' | 'erf' | 'gelu'
> {
  const rows = engine.rows;
  const layerNorm: Kernel<CpuTensor, 'layer_norm'> = (args) => {
    const [x, w, b] = args.inputs;
    const y = args.out!;
    const d = x.shape[x.shape.length - 1];
    if (d % 4 === 0) {
      const px = addressOf(engine, x);
      const py = addressOf(engine, y);
      let pw = addressOf(engine, w);
      let pb = addressOf(engine, b);
      if (px >= 0 && py >= 0 && (pw >= 0 || !w) && (pb >= 0 || !b)) {
        if (!w || !b) {
          // no affine (x̂ for a weight gradient) or weight only: ones and zeros in scratch memory
          const ab = scratch(2 * d);
          ab.fill(1, 0, d).fill(0, d, 2 * d);
          if (!w) pw = engine.address(ab, 0);
          if (!b) pb = engine.address(ab, d);
        }
        rows.layerNorm(px, py, pw, pb, count(x) / d, d, args.attrs.eps);
        return y;
      }
    }
    return js.layer_norm(args);
  };
  /** Layer norm's input gradient (see rows-module.ts), for dense rows of a multiple of 4 floats. */
  const layerNormGrad: Kernel<CpuTensor, 'layer_norm_grad'> = (args) => {
    const [x, g, w] = args.inputs;
    const o = args.out!;
    const d = x.shape[x.shape.length - 1];
    if (d % 4 === 0) {
      const px = addressOf(engine, x);
      const pg = addressOf(engine, g);
      const po = addressOf(engine, o);
      let pw = addressOf(engine, w);
      if (px >= 0 && pg >= 0 && po >= 0 && (pw >= 0 || !w)) {
        if (!w) {
          const ones = scratch(d);
          ones.fill(1, 0, d);
          pw = engine.address(ones, 0);
        }
        rows.layerNormGrad(px, pg, pw, po, count(x) / d, d, args.attrs.eps);
        return o;
      }
    }
    return js.layer_norm_grad(args);
  };
  const add: Kernel<CpuTensor, 'add'> = (args) => {
    const [a, b] = args.inputs;
    const o = args.out!;
    const n = count(o);
    if (n % 4 === 0 && count(a) === n && count(b) === n && a.shape.length === o.shape.length) {
      const pa = addressOf(engine, a);
      const pb = addressOf(engine, b);
      const po = addressOf(engine, o);
      if (pa >= 0 && pb >= 0 && po >= 0) {
        rows.add(pa, pb, po, n);
        return o;
      }
    }
    return js.add(args);
  };
  const jsDynWeight = fastDynWeightKernels.dyn_weight;
  const dynWeight: Kernel<CpuTensor, 'dyn_weight'> = (args) => {
    const [g, w] = args.inputs;
    const o = args.out!;
    const [cin, cout] = w.shape;
    const pg = addressOf(engine, g);
    const pw = addressOf(engine, w);
    const po = addressOf(engine, o);
    if (cout % 4 !== 0 || cin === 0 || pg < 0 || pw < 0 || po < 0) return jsDynWeight(args);
    const { scale } = args.attrs;
    const absScale = Math.abs(scale);
    const s = scratch(2 * cout); // [sums of squares | column factors]
    const ps = engine.address(s, 0);
    const per = cin * cout;
    for (let b = 0; b < count(g) / per; b++) {
      rows.colSumSq(pg + 4 * b * per, ps, cin, cout);
      for (let j = 0; j < cout; j++) s[cout + j] = scale / (absScale * Math.sqrt(s[j]) + 1);
      rows.addScaledCols(pw, pg + 4 * b * per, ps + 4 * cout, po + 4 * b * per, cin, cout);
    }
    return o;
  };
  const jsConv = js.conv2d;
  const conv2d: Kernel<CpuTensor, 'conv2d'> = (args) => {
    const [x, w, bias] = args.inputs;
    const o = args.out!;
    if (!isDepthwise3x3(x, w, args.attrs)) return jsConv(args);
    const px = addressOf(engine, x);
    const pk = addressOf(engine, w);
    const py = addressOf(engine, o);
    const pb = bias ? addressOf(engine, bias) : 0;
    if (px < 0 || pk < 0 || py < 0 || pb < 0) return jsConv(args);
    const [n, c, h, wd] = x.shape;
    const wp = wd + 5;
    const pad = scratch((h + 2) * wp);
    pad.fill(0, 0, (h + 2) * wp);
    rows.depthwise3x3(px, pk, pb, py, n * c, c, h, wd, engine.address(pad, 0), wp);
    return o;
  };
  /** erf or exact GELU of a dense tensor: copy into the output (unless in place), then the SIMD span. */
  const spanKernel =
    <K extends 'erf' | 'gelu'>(op: K, apply: (ptr: number, n: number) => void): Kernel<CpuTensor, K> =>
    (args) => {
      const [x] = args.inputs;
      const o = args.out!;
      const exact = op === 'erf' || args.attrs.approximate !== 'tanh';
      const po = addressOf(engine, o);
      if (exact && po >= 0 && isDense(x) && x.data instanceof Float32Array) {
        const n = count(o);
        if (x.data !== o.data || x.offset !== o.offset)
          o.data.set(x.data.subarray(x.offset, x.offset + n), o.offset);
        apply(po, n);
        return o;
      }
      return js[op](args);
    };
  /** Exact GELU's backward pass in one SIMD pass (gelu' as odd polynomial pieces, see gelu-erf.ts). */
  const geluGrad: Kernel<CpuTensor, 'gelu_grad'> = (args) => {
    const [x, g] = args.inputs;
    const o = args.out!;
    if (args.attrs.approximate !== 'tanh') {
      const px = addressOf(engine, x);
      const pg = addressOf(engine, g);
      const po = addressOf(engine, o);
      if (px >= 0 && pg >= 0 && po >= 0) {
        engine.geluGrad(px, pg, po, count(o));
        return o;
      }
    }
    return js.gelu_grad(args);
  };
  return {
    gelu_grad: geluGrad,
    layer_norm: layerNorm,
    layer_norm_grad: layerNormGrad,
    add,
    dyn_weight: dynWeight,
    conv2d,
    erf: spanKernel('erf', (p, n) => engine.erfInPlace(p, n)),
    gelu: spanKernel('gelu', (p, n) => engine.geluInPlace(p, n)),
  };
}
