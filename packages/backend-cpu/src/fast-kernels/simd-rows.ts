// Layer norm and its input gradient, same-shape add, dyn_weight and its backward pass, depthwise 3x3 and its
// weight gradient, erf and exact GELU on the WebAssembly SIMD kernels, for dense
// float32 tensors that live in the wasm engine's heap (rows a multiple of 4 floats long where it matters);
// anything else goes to the JavaScript fast kernel they wrap.
import {
  BINARY_OPS,
  type BinaryOp,
  type Kernel,
  type KernelTable,
  normAxes,
  opTable,
  stridesOf,
} from '@wf/core';
import ndarray from 'ndarray';
import { type CpuTensor, forEachOffset, stridedView } from '../nd.js';
import type { ScratchProvider } from './attention.js';
import { isDepthwise3x3 } from './depthwise.js';
import { fastDynWeightKernels } from './dyn-weight.js';
import { fastBinary, sigmoidOf, siluOf } from './elementwise.js';
import {
  count,
  isDense,
  isTransposedView,
  jsTransposeBlock,
  stridedCopy,
  type TransposeBlock,
  transposedCopy,
} from './layout.js';
import { fastReshape } from './movement.js';
import { adaptivePoolBins, avgPoolBins, type Bins } from './pooling.js';
import type { WasmMatmulEngine } from './wasm-engine.js';

/**
 * The extent of the axes along which `t` is broadcast to `shape`, when they are the trailing ones and `t`
 * matches `shape` before them ([N, C, 1, 1] against [N, C, H, W]: H·W); else 0.
 */
function trailingSpan(t: CpuTensor, shape: readonly number[]): number {
  let k = t.shape.length;
  while (k > 0 && t.shape[k - 1] === 1) k--;
  if (t.shape.length !== shape.length || k === t.shape.length) return 0;
  for (let i = 0; i < k; i++) if (t.shape[i] !== shape[i]) return 0;
  return shape.slice(k).reduce((p, d) => p * d, 1);
}

/** Heap address of a dense float32 tensor's first element, or -1 when it is not dense or not in the heap. */
function addressOf(engine: WasmMatmulEngine, t: CpuTensor | undefined): number {
  if (!t || !isDense(t) || !(t.data instanceof Float32Array)) return -1;
  return engine.address(t.data, t.offset);
}

/**
 * Wraps the JavaScript `layer_norm`, `add`, `conv2d` and `depthwise_weight_grad` (their depthwise 3x3 cases) kernels of `js`, and
 * `dyn_weight` and `dyn_weight_grad`, with their SIMD versions on `engine`'s heap. `scratch` must hand out memory in that heap (the backend's scratch provider).
 */
export function simdRowKernels(
  engine: WasmMatmulEngine,
  js: KernelTable<
    CpuTensor,
    | 'layer_norm'
    | 'layer_norm_grad'
    | 'add'
    | 'conv2d'
    | 'depthwise_weight_grad'
    | 'erf'
    | 'gelu'
    | 'gelu_grad'
    | 'sum'
    | 'mean'
    | 'avg_pool2d'
    | 'adaptive_avg_pool2d'
    | 'sigmoid'
    | 'silu'
  >,
  scratch: ScratchProvider,
): KernelTable<
  CpuTensor,
  | BinaryOp
  | 'reshape'
  | 'sum'
  | 'mean'
  | 'gelu_grad'
  | 'layer_norm'
  | 'layer_norm_grad'
  | 'add'
  | 'dyn_weight'
  | 'dyn_weight_grad'
  | 'conv2d'
  | 'depthwise_weight_grad'
  | 'erf'
  | 'gelu'
  | 'avg_pool2d'
  | 'adaptive_avg_pool2d'
  | 'sigmoid'
  | 'silu'
> {
  const rows = engine.rows;
  /**
   * Layer norm on the SIMD rows (d a multiple of 4): x dense in the heap, or copied there first (a
   * transposed view, e.g. the patch embedding's tokens; any other view); weight and bias in the heap.
   */
  const layerNorm: Kernel<CpuTensor, 'layer_norm'> = (args) => {
    const [x, w, b] = args.inputs;
    const y = args.out!;
    const d = x.shape[x.shape.length - 1];
    if (d % 4 === 0) {
      const py = addressOf(engine, y);
      let pw = addressOf(engine, w);
      let pb = addressOf(engine, b);
      const sx = py >= 0 && (pw >= 0 || !w) && (pb >= 0 || !b) ? stage(x) : undefined;
      if (sx) {
        const n = count(x);
        const copies = 'ptr' in sx ? 0 : n;
        const affine = w && b ? 0 : 2 * d;
        const buf = copies + affine > 0 ? scratch(copies + affine) : undefined;
        const px = place(sx, buf, 0, n);
        if (buf && (!w || !b)) {
          // no affine (x̂ for a weight gradient) or weight only: ones and zeros in scratch memory
          buf.fill(1, copies, copies + d).fill(0, copies + d, copies + 2 * d);
          if (!w) pw = engine.address(buf, copies);
          if (!b) pb = engine.address(buf, copies + d);
        }
        rows.layerNorm(px, py, pw, pb, n / d, d, args.attrs.eps);
        return y;
      }
    }
    return js.layer_norm(args);
  };
  /** Layer norm's input gradient (see rows-module.ts) on the SIMD rows, x and g staged as in layerNorm. */
  const layerNormGrad: Kernel<CpuTensor, 'layer_norm_grad'> = (args) => {
    const [x, g, w] = args.inputs;
    const o = args.out!;
    const d = x.shape[x.shape.length - 1];
    if (d % 4 === 0) {
      const po = addressOf(engine, o);
      let pw = addressOf(engine, w);
      const sx = po >= 0 && (pw >= 0 || !w) ? stage(x) : undefined;
      const sg = sx ? stage(g) : undefined;
      if (sx && sg) {
        const n = count(x);
        const cx = 'ptr' in sx ? 0 : n;
        const cg = 'ptr' in sg ? 0 : n;
        const ones = w ? 0 : d;
        const buf = cx + cg + ones > 0 ? scratch(cx + cg + ones) : undefined;
        const px = place(sx, buf, 0, n);
        const pg = place(sg, buf, cx, n);
        if (buf && !w) {
          buf.fill(1, cx + cg, cx + cg + d);
          pw = engine.address(buf, cx + cg);
        }
        rows.layerNormGrad(px, pg, pw, po, n / d, d, args.attrs.eps);
        return o;
      }
    }
    return js.layer_norm_grad(args);
  };
  /** The JavaScript binary kernels (the SIMD ones below defer to them). */
  const binaries = opTable(BINARY_OPS, (op) => fastBinary(op));
  /**
   * A transposed block copy on the SIMD kernel, from the heap view whose element 0 is at byte address
   * `base` (taken before any scratch request, which may grow and detach a plain heap's views) into `dd`,
   * which must be in the heap (else the JavaScript tiles).
   */
  const heapTranspose =
    (base: number): TransposeBlock =>
    (sd, so, dd, dOff, m, n, ss) => {
      const pd = dd instanceof Float32Array ? engine.address(dd, dOff) : -1;
      if (base < 0 || pd < 0) jsTransposeBlock(sd, so, dd, dOff, m, n, ss);
      else rows.transpose(base + 4 * so, pd, m, n, ss);
    };
  /** Heap address of element 0 of `t`'s storage, or -1 when it is not float32 heap memory. */
  const heapBase = (t: CpuTensor): number =>
    t.data instanceof Float32Array ? engine.address(t.data, 0) : -1;
  /**
   * An operand of the SIMD row kernels: its heap address when it is dense in the heap; else how to make a
   * dense copy in scratch memory: a transposed heap view by the SIMD transpose (from its storage address,
   * taken now), any other float32 view by a JavaScript copy made now (a later scratch request may grow a
   * plain heap and detach the views it reads).
   */
  type Staged = { ptr: number } | { base: number; t: CpuTensor } | { tmp: Float32Array };
  const stage = (t: CpuTensor): Staged | undefined => {
    const ptr = addressOf(engine, t);
    if (ptr >= 0) return { ptr };
    if (!(t.data instanceof Float32Array)) return undefined;
    const base = heapBase(t);
    if (base >= 0 && isTransposedView(t)) return { base, t };
    const tmp = new Float32Array(count(t));
    stridedCopy(ndarray(tmp, [...t.shape], stridesOf(t.shape), 0) as CpuTensor, t);
    return { tmp };
  };
  /** The heap address of a staged operand of `n` floats, copied to `buf[at..at + n)` unless it is in place. */
  const place = (s: Staged, buf: Float32Array | undefined, at: number, n: number): number => {
    if ('ptr' in s) return s.ptr;
    const copy = buf!.subarray(at, at + n);
    if ('base' in s)
      transposedCopy(
        ndarray(copy, [...s.t.shape], stridesOf(s.t.shape), 0) as CpuTensor,
        s.t,
        heapTranspose(s.base),
      );
    else copy.set(s.tmp);
    return engine.address(buf!, at);
  };
  /**
   * add, mul and sub of same-shape operands on the SIMD kernels, each operand dense in the heap or staged
   * there (see `stage`), and add of a bias row; anything else is the JavaScript kernel.
   */
  const sameShape =
    <K extends 'add' | 'mul' | 'sub'>(
      op: K,
      run: (a: number, b: number, out: number, n: number) => void,
    ): Kernel<CpuTensor, K> =>
    (args) => {
      const [a, b] = args.inputs;
      const o = args.out!;
      const n = count(o);
      const po = addressOf(engine, o);
      const fits = (t: CpuTensor) => t.shape.length === o.shape.length && count(t) === n;
      if (op === 'add' && po >= 0) {
        // a + a bias row broadcast over the leading axes (either order)
        const cols = o.shape[o.shape.length - 1];
        const isRow = (t: CpuTensor) => count(t) === cols && t.shape[t.shape.length - 1] === cols;
        const [m, row] =
          fits(a) && isRow(b) && !fits(b) ? [a, b] : fits(b) && isRow(a) && !fits(a) ? [b, a] : [];
        const pm = m ? addressOf(engine, m) : -1;
        const pr = row ? addressOf(engine, row) : -1;
        if (cols % 4 === 0 && pm >= 0 && pr >= 0) {
          rows.addRow(pm, pr, po, n / cols, cols);
          return o;
        }
        // a + a column broadcast over the trailing axes (either order): a per-channel bias of NCHW planes
        const [full, col] = fits(a) && !fits(b) ? [a, b] : fits(b) && !fits(a) ? [b, a] : [];
        const span = col ? trailingSpan(col, o.shape) : 0;
        const pf = full && span % 4 === 0 && span > 0 ? addressOf(engine, full) : -1;
        const pc = pf >= 0 ? addressOf(engine, col!) : -1;
        if (pc >= 0) {
          rows.addCol(pf, pc, po, n / span, span);
          return o;
        }
      }
      // any other view (rows of a wider tensor, a broadcast) runs faster in the JavaScript kernel, which walks
      // it in place, than copied densely first
      const sameLayout = (t: CpuTensor) => addressOf(engine, t) >= 0 || isTransposedView(t);
      if (n % 4 === 0 && po >= 0 && fits(a) && fits(b) && sameLayout(a) && sameLayout(b)) {
        // operands dense in the heap, or staged there (a permute's cotangent: a transposed view)
        const sa = stage(a);
        const sb = sa ? stage(b) : undefined;
        if (sa && sb) {
          const ca = 'ptr' in sa ? 0 : n;
          const cb = 'ptr' in sb ? 0 : n;
          const buf = ca + cb > 0 ? scratch(ca + cb) : undefined;
          run(place(sa, buf, 0, n), place(sb, buf, ca, n), po, n);
          return o;
        }
      }
      return binaries[op](args);
    };
  /**
   * Heap address of `n` float64 totals in scratch memory, 16-byte aligned, followed by `floats` more float32
   * values (at address + 8n). Take views after this call: it may grow the heap.
   */
  const f64Scratch = (n: number, floats = 0): number => {
    const s = scratch(2 * n + 4 + floats);
    return engine.address(s, ((16 - (s.byteOffset % 16)) % 16) / 4);
  };
  /**
   * sum and mean over one run of adjacent axes (size-1 axes aside) with an inner extent of a multiple of
   * four floats (column sums: bias and norm-weight gradients) on the SIMD `col_sum`, totals in float64.
   */
  const columnReduce =
    <K extends 'sum' | 'mean'>(op: K): Kernel<CpuTensor, K> =>
    (args) => {
      const [x] = args.inputs;
      const y = args.out!;
      const axes = normAxes(op, args.attrs.axes, x.shape.length).filter((a) => x.shape[a] !== 1);
      const first = axes[0];
      const last = axes[axes.length - 1];
      const px = addressOf(engine, x);
      const py = addressOf(engine, y);
      if (axes.length === 0 || last - first !== axes.length - 1 || px < 0 || py < 0) return js[op](args);
      const extent = (from: number, to: number) => x.shape.slice(from, to).reduce((p, d) => p * d, 1);
      const inner = extent(last + 1, x.shape.length);
      if (inner % 4 !== 0) return js[op](args);
      const red = extent(first, last + 1);
      const outer = extent(0, first);
      const pt = f64Scratch(inner);
      // views of the heap's current memory (not `s.buffer`: the heap may have grown since `s` was made)
      const totals = engine.f64At(pt, inner);
      const yd = engine.f32At(py, outer * inner);
      for (let o = 0; o < outer; o++) {
        totals.fill(0);
        rows.colSum(px + 4 * o * red * inner, pt, red, inner);
        const yo = o * inner;
        if (op === 'mean') for (let i = 0; i < inner; i++) yd[yo + i] = totals[i] / red;
        else for (let i = 0; i < inner; i++) yd[yo + i] = totals[i];
      }
      return y;
    };
  /**
   * Average pooling (windows or adaptive bins) on the SIMD column sums, C a multiple of 4, input in the
   * heap: a channels-last view (a token grid [B, H·W, C] permuted to [B, C, H, W], strides
   * [H·W·C, 1, W·C, C]) is read in place; a dense NCHW input is first transposed to [H·W, C] per image (the
   * SIMD transpose). Each bin row is then a run of adjacent tokens, so a cell is a few column sums over
   * [tokens, C] blocks (float64 totals). Other layouts are the JavaScript kernel.
   */
  const channelsLastPool =
    <K extends 'avg_pool2d' | 'adaptive_avg_pool2d'>(
      op: K,
      bins: (args: Parameters<Kernel<CpuTensor, K>>[0]) => [Bins, Bins],
    ): Kernel<CpuTensor, K> =>
    (args) => {
      const [x] = args.inputs;
      const y = args.out!;
      const [bsz, c, h, w] = x.shape;
      const [sn, sc, sh, sw] = x.stride;
      const hw = h * w;
      const channelsLast = sc === 1 && sw === c && sh === w * c && (bsz === 1 || sn === hw * c);
      const dense = !channelsLast && isDense(x);
      const base = heapBase(x);
      const py = addressOf(engine, y);
      if (!(channelsLast || dense) || c % 4 !== 0 || base < 0 || py < 0) return js[op](args);
      const [rowBins, colBins] = bins(args);
      const [, , oh, ow] = y.shape;
      // [c float64 totals | one image channels-last when transposed]
      const pt = f64Scratch(c, dense ? hw * c : 0);
      const pimg = pt + 8 * c;
      // views of the heap's current memory (scratch may have grown it)
      const totals = engine.f64At(pt, c);
      const yd = engine.f32At(py, count(y));
      const [yn, yc, yh, yw] = y.stride;
      for (let n = 0; n < bsz; n++) {
        let at = base + 4 * (x.offset + n * sn);
        if (dense) {
          rows.transpose(at, pimg, hw, c, hw);
          at = pimg;
        }
        for (let i = 0; i < oh; i++) {
          const [r0, r1] = rowBins[i];
          for (let j = 0; j < ow; j++) {
            const [c0, c1] = colBins[j];
            totals.fill(0);
            for (let r = r0; r < r1; r++) rows.colSum(at + 4 * (r * w + c0) * c, pt, c1 - c0, c);
            const inv = 1 / ((r1 - r0) * (c1 - c0));
            const yo = n * yn + i * yh + j * yw;
            for (let ch = 0; ch < c; ch++) yd[yo + ch * yc] = totals[ch] * inv;
          }
        }
      }
      return y;
    };
  /**
   * sigmoid and SiLU on the SIMD rows (e^-|x| as 2^k · p(f), see rows-module.ts) into a dense heap output,
   * from a dense heap input or from rows of a view whose last axis is contiguous (a slice of the last
   * axis, as WeightFormer's weight generator splits its hidden layer); the n % 4 floats past the last whole
   * vector of each run in JavaScript. Other layouts: the JavaScript kernel.
   */
  const logistic =
    <K extends 'sigmoid' | 'silu'>(
      op: K,
      simd: (x: number, out: number, n: number) => void,
      f: (x: number) => number,
    ): Kernel<CpuTensor, K> =>
    (args) => {
      const [x] = args.inputs;
      const o = args.out!;
      const po = addressOf(engine, o);
      const base = heapBase(x);
      const r = x.shape.length;
      const d = r ? x.shape[r - 1] : 1;
      if (po < 0 || base < 0 || (!isDense(x) && (r < 2 || x.stride[r - 1] !== 1))) return js[op](args);
      const xd = x.data;
      const od = o.data;
      const run = (xo: number, oo: number, n: number) => {
        simd(base + 4 * xo, po + 4 * (oo - o.offset), n);
        for (let i = n - (n % 4); i < n; i++) od[oo + i] = f(xd[xo + i]);
      };
      if (isDense(x)) run(x.offset, o.offset, count(o));
      else {
        const lead = x.shape.slice(0, -1);
        let oo = o.offset;
        forEachOffset(lead, [stridedView(x, lead, x.stride.slice(0, -1), x.offset)], (at) => {
          run(at[0], oo, d);
          oo += d;
        });
      }
      return o;
    };
  /** reshape's copy of a transposed view on the SIMD transpose. */
  const reshape = fastReshape((x) => heapTranspose(heapBase(x)));
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
  const jsDynWeightGrad = fastDynWeightKernels.dyn_weight_grad;
  /** dyn_weight's backward pass (see dyn-weight.ts): column sums of g² and gy·g, then gy·a[col] + g·b[col]. */
  const dynWeightGrad: Kernel<CpuTensor, 'dyn_weight_grad'> = (args) => {
    const [g, gy] = args.inputs;
    const o = args.out!;
    const cin = g.shape[g.shape.length - 2];
    const cout = g.shape[g.shape.length - 1];
    const pg = addressOf(engine, g);
    const py = addressOf(engine, gy);
    const po = addressOf(engine, o);
    if (cout % 4 !== 0 || cin === 0 || pg < 0 || py < 0 || po < 0) return jsDynWeightGrad(args);
    const { scale } = args.attrs;
    const absScale = Math.abs(scale);
    const s3 = scale * scale * scale;
    const s = scratch(4 * cout); // [Σg² | Σgy·g | a | b]
    const ps = engine.address(s, 0);
    const per = cin * cout;
    for (let b = 0; b < count(g) / per; b++) {
      rows.colSumSqDot(pg + 4 * b * per, py + 4 * b * per, ps, cin, cout);
      for (let j = 0; j < cout; j++) {
        const n = absScale * Math.sqrt(s[j]);
        const n1 = n + 1;
        s[2 * cout + j] = scale / n1;
        s[3 * cout + j] = n > 0 ? (-s3 * s[cout + j]) / (n * n1 * n1) : 0;
      }
      rows.combineCols(
        py + 4 * b * per,
        ps + 8 * cout,
        pg + 4 * b * per,
        ps + 12 * cout,
        po + 4 * b * per,
        cin,
        cout,
      );
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
  const jsDepthwiseWeightGrad = js.depthwise_weight_grad;
  /** The weight gradient of a dense depthwise 3x3 (stride 1, padding 1) on the SIMD kernel. */
  const depthwiseWeightGrad: Kernel<CpuTensor, 'depthwise_weight_grad'> = (args) => {
    const [x, g] = args.inputs;
    const o = args.out!;
    const { kernel, stride, padding } = args.attrs;
    const k3 = kernel[0] === 3 && kernel[1] === 3 && stride[0] === 1 && stride[1] === 1;
    if (!k3 || padding[0] !== 1 || padding[1] !== 1) return jsDepthwiseWeightGrad(args);
    const px = addressOf(engine, x);
    const pg = addressOf(engine, g);
    const po = addressOf(engine, o);
    if (px < 0 || pg < 0 || po < 0) return jsDepthwiseWeightGrad(args);
    const [n, c, h, wd] = x.shape;
    const wp = wd + 5;
    o.data.fill(0, o.offset, o.offset + c * 9); // before the scratch request, which may detach a plain heap's views
    const pad = scratch((2 * h + 2) * wp);
    pad.fill(0, 0, (2 * h + 2) * wp);
    rows.depthwise3x3WeightGrad(px, pg, po, n * c, c, h, wd, engine.address(pad, 0), wp);
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
  const spanGelu = spanKernel('gelu', (p, n) => engine.gelu(p, p, n));
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
    ...binaries,
    sum: columnReduce('sum'),
    mean: columnReduce('mean'),
    sigmoid: logistic('sigmoid', rows.sigmoid, sigmoidOf),
    silu: logistic('silu', rows.silu, siluOf),
    avg_pool2d: channelsLastPool('avg_pool2d', avgPoolBins),
    adaptive_avg_pool2d: channelsLastPool('adaptive_avg_pool2d', adaptivePoolBins),
    add: sameShape('add', rows.add),
    mul: sameShape('mul', rows.mul),
    sub: sameShape('sub', rows.sub),
    reshape,
    gelu_grad: geluGrad,
    layer_norm: layerNorm,
    layer_norm_grad: layerNormGrad,
    dyn_weight: dynWeight,
    dyn_weight_grad: dynWeightGrad,
    conv2d,
    depthwise_weight_grad: depthwiseWeightGrad,
    erf: spanKernel('erf', (p, n) => engine.erfInPlace(p, n)),
    gelu: (args) => {
      // a heap input: the copy into the output runs in the same (threaded) pass
      const px = addressOf(engine, args.inputs[0]);
      const po = addressOf(engine, args.out);
      if (args.attrs.approximate !== 'tanh' && px >= 0 && po >= 0) {
        engine.gelu(px, po, count(args.out!));
        return args.out!;
      }
      return spanGelu(args);
    },
  };
}
