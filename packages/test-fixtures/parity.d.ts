// Types of parity.js: the runs, fixtures and error measure of the gradient and ERF parity suites.
export { type ParityErrorOptions, parityError } from './parity-error.js';
/** A run of fixtures/grad and the reference weights it uses (`reference/<weights>.safetensors`). */
export interface GradRun {
  readonly run: string;
  readonly weights: string;
}
/** The runs with a gradient fixture (`grad/<run>.grad.safetensors`). */
export declare const GRAD_RUNS: readonly GradRun[];
/** The runs with an ERF fixture (`grad/<run>.erf.safetensors`). */
export declare const ERF_RUNS: readonly GradRun[];
/** The path of the run's weights and the bytes of `grad/<run>.<kind>.safetensors`; a missing file throws. */
export declare function gradFixture(
  run: GradRun,
  kind: 'grad' | 'erf',
): { weightsPath: string; io: Uint8Array };
/** The model inputs stored in a reference fixture (io or gradient): `x`, `t`, `y` for `wfm-dit`, else `input`. */
export declare function fixtureInputs<T>(arch: string, io: { tensor(name: string): T }): Record<string, T>;
/** `erf` and `erf_norm` of an ERF result against an ERF fixture: each name with its error and bound. */
export declare function erfErrors(
  res: {
    readonly erf: { readonly data: ArrayLike<number> };
    readonly erfNorm: { readonly data: ArrayLike<number> };
  },
  io: { tensor(name: string): { readonly data: ArrayLike<number> } },
): { name: 'erf' | 'erf_norm'; err: number; bound: number }[];
