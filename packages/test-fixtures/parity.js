// What the parity suites against the float64 PyTorch fixtures share: the runs of fixtures/grad (gradient
// and ERF references), loading one run's fixtures, the model inputs a fixture stores, the ERF check, and the
// error measure with its bound (max |got - ref| against 1e-4 * max |ref|, a NaN anywhere failing). Used by
// the gradient and ERF parity suites of @wf/models (cpu backend) and @wf/backend-gpujs. Missing fixtures
// throw (they are copied into this package): these suites never skip.
import { fixturePath, readFixture } from './index.js';

import { parityError } from './parity-error.js';

export { parityError };

/** The runs of fixtures/grad with a gradient fixture (`grad/<run>.grad.safetensors`) and their weights. */
export const GRAD_RUNS = Object.freeze([
  Object.freeze({ run: 'wfm-micro-64', weights: 'wfm-micro' }),
  Object.freeze({ run: 'deit-micro-64', weights: 'deit-micro-64' }),
  Object.freeze({ run: 'wfm-dit-micro-16', weights: 'wfm-dit-micro-16' }),
]);

/** The runs with an ERF fixture (`grad/<run>.erf.safetensors`): the classifiers of {@link GRAD_RUNS}. */
export const ERF_RUNS = Object.freeze(GRAD_RUNS.slice(0, 2));

/**
 * One run's fixtures: `weightsPath`, the path of `reference/<weights>.safetensors`, and `io`, the bytes of
 * `grad/<run>.<kind>.safetensors` (`kind` `grad` or `erf`). A missing file throws.
 */
export function gradFixture({ run, weights }, kind) {
  return {
    weightsPath: fixturePath(`reference/${weights}.safetensors`),
    io: readFixture(`grad/${run}.${kind}.safetensors`),
  };
}

/**
 * The model inputs stored in a reference fixture `io` (parsed safetensors: a `<run>.io` or a gradient
 * fixture) for a model of architecture `arch`: `x`, `t` and `y` for `wfm-dit`, `input` for the classifiers.
 */
export function fixtureInputs(arch, io) {
  return arch === 'wfm-dit'
    ? { x: io.tensor('x'), t: io.tensor('t'), y: io.tensor('y') }
    : { input: io.tensor('input') };
}

/**
 * The errors of an ERF result `res` against an ERF fixture `io` (parsed safetensors): `erf` and `erf_norm`,
 * each with its {@link parityError} and bound.
 */
export function erfErrors(res, io) {
  return [
    { name: 'erf', ...parityError(res.erf, io.tensor('erf')) },
    { name: 'erf_norm', ...parityError(res.erfNorm, io.tensor('erf_norm')) },
  ];
}
