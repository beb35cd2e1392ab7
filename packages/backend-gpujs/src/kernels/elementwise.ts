// Elementwise kernels: unary math, broadcasting binary ops, casts, and the GELU/SiLU composites as single
// passes. Broadcast operands are read through stride-0 index arithmetic, never materialized.
import { BINARY_OPS, type BinaryOp, opTable, sameShape, UNARY_OPS, type UnaryOp } from '@wf/core';
import {
  broadcastStrides,
  coords,
  erfExpr,
  geluExpr,
  kernelSource,
  Names,
  offset,
  sigmoidExpr,
  siluExpr,
  sinExpr,
  tanhExpr,
} from '../codegen.js';
import { definePlans, type Plan, type PlanBuilder, type Step, steps } from '../plan.js';

/** Builds `f(x0, x1, ...)` for kernel source; may push helper statements to `lines`. */
export type ElementFn = (xs: readonly string[], names: Names, lines: string[]) => string;

/**
 * One kernel computing `f` of the inputs (broadcast to `out`) at every output element. `args` are the
 * plan argument references of the inputs, in order.
 */
export function mapStep(
  out: readonly number[],
  ins: readonly (readonly number[])[],
  f: ElementFn,
  args: readonly number[] = ins.map((_, i) => i),
): Step {
  const names = new Names();
  const lines: string[] = [];
  const size = out.reduce((a, b) => a * b, 1);
  const dense = ins.map((s) => sameShape(s, out));
  let cs: string[] = [];
  if (dense.some((d) => !d)) {
    const c = coords('t', out, names);
    lines.push(c.code);
    cs = c.c;
  }
  const xs = ins.map((s, i) => {
    const x = names.next('x');
    const at = dense[i] ? 't' : offset(cs, broadcastStrides(s, out));
    lines.push(`let ${x} = in${i}[${at}];`);
    return x;
  });
  const result = f(xs, names, lines);
  return {
    source: kernelSource(
      ins.map((_, i) => `in${i}`),
      lines.filter(Boolean).join('\n  '),
      result,
    ),
    size,
    args,
  };
}

/**
 * Scalar source of each unary op, keyed by the op table's unary ops: the table's `scalar` written as
 * kernel source.
 */
export const UNARY_SOURCE: Readonly<Record<UnaryOp, ElementFn>> = {
  neg: ([x]) => `-${x}`,
  abs: ([x]) => `Math.abs(${x})`,
  exp: ([x]) => `Math.exp(${x})`,
  log: ([x]) => `Math.log(${x})`,
  sqrt: ([x]) => `Math.sqrt(${x})`,
  tanh: ([x], n, l) => tanhExpr(x, n, l),
  erf: ([x], n, l) => erfExpr(x, n, l),
  sin: ([x], n, l) => sinExpr(x, false, n, l),
  cos: ([x], n, l) => sinExpr(x, true, n, l),
};

/**
 * Scalar source of each binary op, keyed by the op table's binary ops: the table's `scalar` written as
 * kernel source.
 */
export const BINARY_SOURCE: Readonly<Record<BinaryOp, ElementFn>> = {
  add: ([a, b]) => `${a} + ${b}`,
  sub: ([a, b]) => `${a} - ${b}`,
  mul: ([a, b]) => `${a} * ${b}`,
  div: ([a, b]) => `${a} / ${b}`,
  max: ([a, b]) => `Math.max(${a}, ${b})`,
  min: ([a, b]) => `Math.min(${a}, ${b})`,
  pow: ([a, b]) => `Math.pow(${a}, ${b})`,
  greater: ([a, b]) => `(${a} > ${b} ? 1.0 : 0.0)`,
};

const empty = (size: readonly number[]): boolean => size.some((d) => d === 0);

/** Plan builder of an elementwise op given its scalar source. */
export function elementwise(f: ElementFn): PlanBuilder {
  return ({ inputTypes, type }): Plan => {
    if (empty(type.shape)) return { kind: 'empty' };
    return steps(
      mapStep(
        type.shape,
        inputTypes.map((t) => t.shape),
        f,
      ),
    );
  };
}

/** gelu (exact or tanh) in one pass. */
export const gelu: PlanBuilder<'gelu'> = (spec) =>
  elementwise(([x], n, l) => geluExpr(x, spec.attrs.approximate === 'tanh', n, l))(spec);

/** relu in one pass (the composite's fused kernel; its lowering is max(x, 0)). */
export const relu: PlanBuilder<'relu'> = elementwise(([x]) => `Math.max(${x}, 0.0)`);

/** sigmoid in one pass, stable for large |x| (the composite's fused kernel). */
export const sigmoid: PlanBuilder<'sigmoid'> = elementwise(([x], n, l) => sigmoidExpr(x, n, l));

/** silu in one pass. */
export const silu: PlanBuilder<'silu'> = elementwise(([x], n, l) => siluExpr(x, n, l));

/**
 * cast: int32 values are stored as float32 holding integers, so every cast but float32 -> int32 (which
 * truncates toward zero) shares its input's value.
 */
export const cast: PlanBuilder<'cast'> = (spec) => {
  const from = spec.inputTypes[0].dtype;
  if (empty(spec.type.shape)) return { kind: 'empty' };
  if (!(from === 'float32' && spec.attrs.dtype === 'int32')) return { kind: 'alias', input: 0 };
  return elementwise(([x]) => `(Math.sign(${x}) * Math.floor(Math.abs(${x})))`)(spec);
};

/** Plan builders of the elementwise ops, keyed by op. */
export const elementwisePlans = definePlans({
  ...opTable(UNARY_OPS, (op) => elementwise(UNARY_SOURCE[op])),
  ...opTable(BINARY_OPS, (op) => elementwise(BINARY_SOURCE[op])),
  gelu,
  relu,
  sigmoid,
  silu,
  cast,
});
