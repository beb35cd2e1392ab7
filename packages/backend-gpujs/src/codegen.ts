// Source generation for gpu.js kernels. Every kernel of this backend is one-dimensional: thread x is the
// flat row-major index of an output element, and every input is read as a flat array. Shapes, strides and
// attributes are baked into the source as literals, so each (op, shapes, attributes) compiles to its own
// kernel with constant loop bounds (which GLSL ES 1.00 requires).
//
// Index arithmetic runs in float32 on the GL and WebGPU backends, where division is not guaranteed exact:
// `q = floor(n / d)` is computed from floor((n + 0.5) / d) and corrected from the exact integer remainder
// (see `idiv`), which is right for every n < 2^24 (the largest tensor the GPU backends index exactly).
import { stridesOf } from '@wf/core';

/** A float literal for kernel source (always with a decimal point or exponent-free digits). */
export function lit(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`gpujs codegen: non-finite literal ${x}`);
  if (Math.abs(x) >= 1e15) throw new RangeError(`gpujs codegen: literal ${x} is too large`);
  let s = String(Math.abs(x));
  if (s.includes('e')) {
    // shortest round-trip digits, with the exponent written out: 1e-7 -> 0.0000001
    const [m, e] = s.split('e');
    const digits = m.replace('.', '');
    const point = (m.indexOf('.') < 0 ? m.length : m.indexOf('.')) + Number(e);
    s = point <= 0 ? `0.${'0'.repeat(-point)}${digits}` : `${digits.slice(0, point)}.${digits.slice(point)}`;
  }
  if (!s.includes('.')) s += '.0';
  if (s.endsWith('.')) s += '0';
  return x < 0 ? `(-${s})` : s;
}

/** An integer literal (for loop bounds and index arithmetic). */
export function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`gpujs codegen: ${n} is not an integer`);
  return n < 0 ? `(${n})` : String(n);
}

/** Generates unique variable names within one kernel. */
export class Names {
  private n = 0;
  /** A fresh name with a readable prefix. */
  next(prefix: string): string {
    return `${prefix}${this.n++}`;
  }
}

/**
 * Statements that split integer-valued `num` by `d`: `q = floor(num / d)`, `r = num - q * d`, exact for
 * num < 2^24 when division errs by a few ulp (GLSL ES allows 2.5): a first quotient, then the quotient of
 * its small exact remainder, then a final one-step correction. Declares `q` and `r`.
 */
export function idiv(num: string, d: number, q: string, r: string): string {
  if (d === 1) return `let ${q} = ${num}; let ${r} = 0.0;`;
  const D = lit(d);
  return (
    `let ${q} = Math.floor((${num} + 0.5) / ${D}); let ${r} = ${num} - ${q} * ${D}; ` +
    `let ${q}e = Math.floor((${r} + 0.5) / ${D}); ${q} = ${q} + ${q}e; ${r} = ${r} - ${q}e * ${D}; ` +
    `if (${r} < 0.0) { ${q} = ${q} - 1.0; ${r} = ${r} + ${D}; } ` +
    `if (${r} >= ${D}) { ${q} = ${q} + 1.0; ${r} = ${r} - ${D}; }`
  );
}

/**
 * Statements declaring one coordinate variable per axis of `shape` from the flat index `flat` (row-major).
 * Returns the statements and the coordinate expressions (`'0.0'` for size-1 axes).
 */
export function coords(flat: string, shape: readonly number[], names: Names): { code: string; c: string[] } {
  const c = new Array<string>(shape.length);
  const lines: string[] = [];
  let rest = flat;
  // the outermost axis with size > 1 takes what remains, without a division
  let first = 0;
  while (first < shape.length && shape[first] === 1) first++;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] === 1) {
      c[i] = '0.0';
      continue;
    }
    if (i === first) {
      c[i] = rest;
      continue;
    }
    const q = names.next('q');
    const r = names.next('c');
    lines.push(idiv(rest, shape[i], q, r));
    c[i] = r;
    rest = q;
  }
  return { code: lines.join('\n  '), c };
}

/** `sum(c[i] * strides[i]) + base` as source, skipping zero strides and size-1 coordinates. */
export function offset(c: readonly string[], strides: readonly number[], base = 0): string {
  const terms: string[] = [];
  c.forEach((ci, i) => {
    if (strides[i] === 0 || ci === '0.0') return;
    terms.push(strides[i] === 1 ? ci : `${ci} * ${lit(strides[i])}`);
  });
  if (base !== 0 || terms.length === 0) terms.push(lit(base));
  return terms.join(' + ');
}

/**
 * Strides of a dense tensor of shape `src` read at the coordinates of a broadcast output of rank
 * `outRank` (NumPy alignment: missing leading axes and size-1 axes get stride 0).
 */
export function broadcastStrides(src: readonly number[], out: readonly number[]): number[] {
  const s = stridesOf(src);
  const lead = out.length - src.length;
  return out.map((_, i) => (i < lead || src[i - lead] === 1 ? 0 : s[i - lead]));
}

/** Evaluates a constant arithmetic expression of numbers, + - * / and parentheses. */
export function evalConst(expr: string): number {
  let i = 0;
  const s = expr.replace(/\s+/g, '');
  const num = (): number => {
    if (s[i] === '(') {
      i++;
      const v = sum();
      i++; // ')'
      return v;
    }
    if (s[i] === '-') {
      i++;
      return -num();
    }
    const m = /^[0-9]*\.?[0-9]*/.exec(s.slice(i))![0];
    i += m.length;
    return Number(m);
  };
  const prod = (): number => {
    let v = num();
    while (s[i] === '*' || s[i] === '/') v = s[i++] === '*' ? v * num() : v / num();
    return v;
  };
  const sum = (): number => {
    let v = prod();
    while (s[i] === '+' || s[i] === '-') v = s[i++] === '+' ? v + prod() : v - prod();
    return v;
  };
  const v = sum();
  if (i !== s.length || !Number.isFinite(v)) throw new Error(`gpujs codegen: bad constant "${expr}"`);
  return v;
}

/**
 * Array subscripts that are constant expressions become integer literals: gpu.js passes a constant
 * float subscript to its GLSL texture readers unconverted, which does not compile.
 */
export function foldConstantSubscripts(source: string): string {
  return source.replace(/\[([^[\]]*)\]/g, (whole, inner: string) =>
    /^[0-9.+\-*/() ]+$/.test(inner) ? `[${Math.round(evalConst(inner))}]` : whole,
  );
}

/** Wraps statements and a result expression into a gpu.js kernel source over `args` (flat index `t`). */
export function kernelSource(args: readonly string[], body: string, result: string): string {
  return foldConstantSubscripts(
    `function(${args.join(', ')}) {\n  let t = this.thread.x + 0.0;\n  ${body}\n  return ${result};\n}`,
  );
}

/** Like `kernelSource` for a 2-D kernel: `tx` is the column (thread x), `ty` the row (thread y). */
export function kernelSource2d(args: readonly string[], body: string, result: string): string {
  return foldConstantSubscripts(
    `function(${args.join(', ')}) {\n  let tx = this.thread.x + 0.0;\n  let ty = this.thread.y + 0.0;\n  ${body}\n  return ${result};\n}`,
  );
}

/** Largest extent of a 2-D kernel's output axis (textures of that size exist on every GL device here). */
export const MAX_2D_EXTENT = 8192;

/** erf(x) for kernel source: Abramowitz-Stegun 7.1.26, |error| < 1.5e-7 (float32 adds ~1e-7). */
export function erfExpr(x: string, names: Names, lines: string[]): string {
  const ax = names.next('ea');
  const tt = names.next('et');
  const y = names.next('ey');
  lines.push(
    `let ${ax} = Math.abs(${x});`,
    `let ${tt} = 1.0 / (1.0 + 0.3275911 * ${ax});`,
    `let ${y} = 1.0 - (((((1.061405429 * ${tt} - 1.453152027) * ${tt}) + 1.421413741) * ${tt} - 0.284496736) * ${tt} + 0.254829592) * ${tt} * Math.exp(-${ax} * ${ax});`,
    `if (${x} < 0.0) { ${y} = -${y}; }`,
  );
  return y;
}

/** tanh(x) for kernel source, stable for large |x|: sign(x) (1 - e^-2|x|) / (1 + e^-2|x|). */
export function tanhExpr(x: string, names: Names, lines: string[]): string {
  const e = names.next('te');
  const y = names.next('ty');
  lines.push(
    `let ${e} = Math.exp(-2.0 * Math.abs(${x}));`,
    `let ${y} = (1.0 - ${e}) / (1.0 + ${e});`,
    `if (${x} < 0.0) { ${y} = -${y}; }`,
  );
  return y;
}

/**
 * sin(x) (or cos(x) with `cos`) for kernel source: Cody-Waite reduction by pi/2 in float32, then Taylor
 * polynomials on [-pi/4, pi/4] (error ~1e-7 for |x| < 1e4). GPU built-ins are not accurate enough on some
 * drivers (SwiftShader's sin/cos err by 2e-4).
 */
export function sinExpr(x: string, cos: boolean, names: Names, lines: string[]): string {
  const k = names.next('sk');
  const r = names.next('sr');
  const r2 = names.next('s2');
  const q = names.next('sq');
  const ps = names.next('ps');
  const pc = names.next('pc');
  const y = names.next('sy');
  lines.push(
    `let ${k} = Math.floor(${x} * 0.6366197723675814 + 0.5);`,
    `let ${r} = ((${x} - ${k} * 1.5703125) - ${k} * 0.0004837512969970703) - ${k} * 0.00000007549789954891882;`,
    `let ${r2} = ${r} * ${r};`,
    `let ${ps} = ${r} + ${r} * ${r2} * (-0.16666666666666666 + ${r2} * (0.008333333333333333 + ${r2} * (-0.0001984126984126984 + ${r2} * 0.0000027557319223985893)));`,
    `let ${pc} = 1.0 + ${r2} * (-0.5 + ${r2} * (0.041666666666666664 + ${r2} * (-0.001388888888888889 + ${r2} * (0.0000248015873015873 - ${r2} * 0.0000002755731922398589))));`,
    `let ${q} = ${k}${cos ? ' + 1.0' : ''} - 4.0 * Math.floor((${k}${cos ? ' + 1.0' : ''}) * 0.25);`,
    `let ${y} = ${ps};`,
    `if (${q} > 0.5 && ${q} < 1.5) { ${y} = ${pc}; }`,
    `if (${q} > 1.5 && ${q} < 2.5) { ${y} = -${ps}; }`,
    `if (${q} > 2.5) { ${y} = -${pc}; }`,
  );
  return y;
}

/** sigmoid(x) for kernel source, stable for large |x|. */
export function sigmoidExpr(x: string, names: Names, lines: string[]): string {
  const e = names.next('se');
  const y = names.next('sy');
  lines.push(
    `let ${e} = Math.exp(-Math.abs(${x}));`,
    `let ${y} = 1.0 / (1.0 + ${e});`,
    `if (${x} < 0.0) { ${y} = ${e} / (1.0 + ${e}); }`,
  );
  return y;
}

/** GELU of `x` (exact via erf, or the tanh approximation) for kernel source. */
export function geluExpr(x: string, approximate: boolean, names: Names, lines: string[]): string {
  if (approximate) {
    const u = names.next('gu');
    lines.push(`let ${u} = 0.7978845608028654 * (${x} + 0.044715 * ${x} * ${x} * ${x});`);
    return `(0.5 * ${x} * (1.0 + ${tanhExpr(u, names, lines)}))`;
  }
  const u = names.next('gu');
  lines.push(`let ${u} = ${x} * 0.7071067811865476;`);
  return `(0.5 * ${x} * (1.0 + ${erfExpr(u, names, lines)}))`;
}

/** silu(x) = x sigmoid(x) for kernel source. */
export function siluExpr(x: string, names: Names, lines: string[]): string {
  return `(${x} * ${sigmoidExpr(x, names, lines)})`;
}
