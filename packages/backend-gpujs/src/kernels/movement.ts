// View and data-movement kernels. Values are dense and flat, so reshape shares its input's value (no
// copy) while permute, slice and expand gather their input at computed offsets. concat selects the source
// per output element (inputs beyond a few are joined in groups, to stay within the texture units a GL
// shader may bind), pad writes the pad value outside the input, gather reads table rows by index.
import { normAxis, stridesOf } from '@wf/core';
import { broadcastStrides, coords, kernelSource, lit, Names, offset } from '../codegen.js';
import { type ArgRef, definePlans, type Plan, type PlanBuilder, type Step, stepRef, steps } from '../plan.js';

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Reads input 0 at `offset(coords(out), strides) + base` for every output element. */
function gatherStep(out: readonly number[], strides: readonly number[], base: number): Step {
  const names = new Names();
  const c = coords('t', out, names);
  return {
    source: kernelSource(['in0'], c.code, `in0[${offset(c.c, strides, base)}]`),
    size: sizeOf(out),
    args: [0],
  };
}

/** reshape: the same flat values. */
export const reshape: PlanBuilder = () => ({ kind: 'alias', input: 0 });

/** permute: output axis i reads input axis perm[i]. */
export const permute: PlanBuilder<'permute'> = ({ inputTypes, type, attrs }): Plan => {
  if (sizeOf(type.shape) === 0) return { kind: 'empty' };
  const src = stridesOf(inputTypes[0].shape);
  if (attrs.perm.every((p, i) => p === i)) return { kind: 'alias', input: 0 };
  return steps(
    gatherStep(
      type.shape,
      attrs.perm.map((p) => src[p]),
      0,
    ),
  );
};

/** slice: begin offset plus step-scaled strides. */
export const slice: PlanBuilder<'slice'> = ({ inputTypes, type, attrs }): Plan => {
  if (sizeOf(type.shape) === 0) return { kind: 'empty' };
  const src = stridesOf(inputTypes[0].shape);
  const base = attrs.begin.reduce((o, b, i) => o + b * src[i], 0);
  return steps(
    gatherStep(
      type.shape,
      attrs.step.map((s, i) => s * src[i]),
      base,
    ),
  );
};

/** expand: stride 0 on broadcast axes. */
export const expand: PlanBuilder = ({ inputTypes, type }): Plan => {
  if (sizeOf(type.shape) === 0) return { kind: 'empty' };
  if (sizeOf(inputTypes[0].shape) === sizeOf(type.shape)) return { kind: 'alias', input: 0 };
  return steps(gatherStep(type.shape, broadcastStrides(inputTypes[0].shape, type.shape), 0));
};

/** Inputs one concat kernel joins at most (GL shaders bind a limited number of textures). */
export const CONCAT_GROUP = 6;

function concatStep(
  out: readonly number[],
  parts: readonly (readonly number[])[],
  ax: number,
  args: readonly ArgRef[],
): Step {
  const names = new Names();
  const c = coords('t', out, names);
  const lines = [c.code, 'let v = 0.0;'];
  let start = 0;
  parts.forEach((shape, i) => {
    const len = shape[ax];
    const cc = [...c.c];
    const ca = c.c[ax] === '0.0' ? '0.0' : `(${c.c[ax]} - ${lit(start)})`;
    cc[ax] = ca;
    const read = `v = in${i}[${offset(cc, stridesOf(shape))}];`;
    const cond = i === parts.length - 1 ? '' : `if (${c.c[ax]} < ${lit(start + len)}) `;
    lines.push(`${i === 0 ? '' : 'else '}${cond}{ ${read} }`);
    start += len;
  });
  return {
    source: kernelSource(
      parts.map((_, i) => `in${i}`),
      lines.join('\n  '),
      'v',
    ),
    size: sizeOf(out),
    args,
  };
}

/** concat along an axis; empty inputs are skipped; more than CONCAT_GROUP inputs join in groups. */
export const concat: PlanBuilder<'concat'> = ({ inputTypes, type, attrs }): Plan => {
  if (sizeOf(type.shape) === 0) return { kind: 'empty' };
  const ax = normAxis('concat', attrs.axis, type.shape.length);
  let parts: { shape: readonly number[]; ref: ArgRef }[] = inputTypes
    .map((t, i) => ({ shape: t.shape, ref: i }))
    .filter((p) => p.shape[ax] > 0);
  if (parts.length === 1) return { kind: 'alias', input: parts[0].ref };
  const out: Step[] = [];
  while (parts.length > CONCAT_GROUP) {
    const next: typeof parts = [];
    for (let i = 0; i < parts.length; i += CONCAT_GROUP) {
      const group = parts.slice(i, i + CONCAT_GROUP);
      if (group.length === 1) {
        next.push(group[0]);
        continue;
      }
      const shape = [...group[0].shape];
      shape[ax] = group.reduce((a, p) => a + p.shape[ax], 0);
      out.push(
        concatStep(
          shape,
          group.map((p) => p.shape),
          ax,
          group.map((p) => p.ref),
        ),
      );
      next.push({ shape, ref: stepRef(out.length - 1) });
    }
    parts = next;
  }
  out.push(
    concatStep(
      type.shape,
      parts.map((p) => p.shape),
      ax,
      parts.map((p) => p.ref),
    ),
  );
  return steps(...out);
};

/** pad: the input inside, the pad value outside. */
export const pad: PlanBuilder<'pad'> = ({ inputTypes, type, attrs }): Plan => {
  if (sizeOf(type.shape) === 0) return { kind: 'empty' };
  const inShape = inputTypes[0].shape;
  if (attrs.pads.every(([a, b]) => a === 0 && b === 0)) return { kind: 'alias', input: 0 };
  if (sizeOf(inShape) === 0) {
    return {
      kind: 'steps',
      steps: [{ source: kernelSource([], '', lit(attrs.value)), size: sizeOf(type.shape), args: [] }],
    };
  }
  const names = new Names();
  const c = coords('t', type.shape, names);
  const inner = c.c.map((ci, i) => (attrs.pads[i][0] === 0 ? ci : `(${ci} - ${lit(attrs.pads[i][0])})`));
  const conds: string[] = [];
  attrs.pads.forEach(([before, after], i) => {
    if (before > 0) conds.push(`${c.c[i]} < ${lit(before)}`);
    if (after > 0) conds.push(`${c.c[i]} >= ${lit(before + inShape[i])}`);
  });
  const body = `${c.code}\n  let v = ${lit(attrs.value)};\n  if (!(${conds.join(' || ')})) { v = in0[${offset(inner, stridesOf(inShape))}]; }`;
  return steps({ source: kernelSource(['in0'], body, 'v'), size: sizeOf(type.shape), args: [0] });
};

/**
 * gather: out[i..., r...] = table[idx[i...], r...]. Indices are float32 values holding integers; an
 * index outside [0, rows) reads 0 (the host-side backends throw; a shader cannot).
 */
export const gather: PlanBuilder = ({ inputTypes, type }): Plan => {
  if (sizeOf(type.shape) === 0) return { kind: 'empty' };
  const [table, idx] = inputTypes;
  const rows = table.shape[0];
  const row = sizeOf(table.shape.slice(1));
  const names = new Names();
  const lines: string[] = [];
  let i = 't';
  let r = '0.0';
  if (row > 1) {
    const c = coords('t', [sizeOf(idx.shape), row], names);
    lines.push(c.code);
    [i, r] = c.c;
  }
  lines.push(
    `let k = in1[${i}];`,
    'let v = 0.0;',
    `if (k >= 0.0 && k < ${lit(rows)}) { v = in0[k * ${lit(row)} + ${r}]; }`,
  );
  return steps({
    source: kernelSource(['in0', 'in1'], lines.join('\n  '), 'v'),
    size: sizeOf(type.shape),
    args: [0, 1],
  });
};

/** Plan builders of the view and movement ops, keyed by op. */
export const movementPlans = definePlans({
  reshape,
  permute,
  slice,
  expand,
  concat,
  pad,
  gather,
});
