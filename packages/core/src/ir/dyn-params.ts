// The parameter lists of DynLinear's and DynDWConv's strategies (names in op input order, and expected
// shapes): data the op table's shape rules, the functional API and the lowerings all read. It lives in
// ir/ so that none of them imports another at run time for it (no import cycle between ops/functional.ts
// and ops/dyn-*.ts).
import type { DynDWConvStrategy, DynLinearStrategy } from './ops.js';
import type { TensorType } from './types.js';

/** A strategy's parameter names (in op input order, after x) and their expected shapes. */
export interface DynParamSpec<A extends unknown[]> {
  /** Parameter names, in op input order after `x`. */
  readonly names: readonly string[];
  /** Expected shape of each parameter for the given sizes (`undefined`: not checked). */
  readonly shapes: (...args: A) => (readonly number[] | undefined)[];
}

/** Parameters of each DynLinear strategy (Cin -> Cout); `params` are the actual inputs after x. */
export const DYN_LINEAR_PARAMS: Readonly<
  Record<DynLinearStrategy, DynParamSpec<[cin: number, cout: number, params: readonly TensorType[]]>>
> = {
  bilateral: {
    names: ['w', 'b', 'wfm_weight', 'wfm_bias', 'w1', 'w2'],
    shapes: (cin, cout) => {
      const z = cin / 4 + cout / 4;
      return [[cin, cout], [cout], [z, cin], [z], [cin / 4, cin], [cout / 4, cout]];
    },
  },
  gap: { names: ['w', 'b', 'a', 'c'], shapes: (cin, cout) => [[cin, cout], [cout], [cin, cin], [cin, cout]] },
  linear: {
    names: ['w', 'b', 'a', 'c'],
    shapes: (cin, cout) => [[cin, cout], [cout], [cin, cin], [cin, cout]],
  },
  nonlinear: {
    names: ['w', 'b', 'a', 'c'],
    shapes: (cin, cout) => [[cin, cout], [cout], [cin, cin], [cin, cout]],
  },
  deep: {
    names: ['w', 'b', 'g_weight', 'g_bias', 'a', 'c'],
    shapes: (cin, cout, params) => {
      const h = params[2]?.shape[0];
      if (h === undefined) return [[cin, cout], [cout]];
      return [[cin, cout], [cout], [h, cin], [h], [h, cin], [h, cout]];
    },
  },
};

/** Parameters of each DynDWConv strategy for D channels (names in op input order, after x). */
export const DYN_DWCONV_PARAMS: Readonly<Record<DynDWConvStrategy, DynParamSpec<[d: number]>>> = {
  adaptive: {
    names: ['w', 'b', 'wfm0_weight', 'wfm0_bias', 'wfm2_weight'],
    shapes: (d) => [[d, 1, 3, 3], [d], [d, d, 1, 1], [d], [d, d, 1, 1]],
  },
  gap: {
    names: ['w', 'b', 'wfm0_weight', 'wfm0_bias', 'wfm2_weight'],
    shapes: (d) => [[d, 1, 3, 3], [d], [d, d, 1, 1], [d], [9 * d, d, 1, 1]],
  },
  ampdir: {
    names: ['w', 'b', 'wfm0_weight', 'wfm0_bias', 'wfm2_weight', 'amp_weight', 'amp_bias'],
    shapes: (d) => [[d, 1, 3, 3], [d], [d, d, 1, 1], [d], [d, d, 1, 1], [d, d], [d]],
  },
  conv: {
    names: ['w', 'b', 'wfm0_weight', 'wfm0_bias', 'kernel'],
    shapes: (d) => [[d, 1, 3, 3], [d], [d, d, 1, 1], [d], [d, 1, 3, 3]],
  },
};
