// The gradient check of the conformance suite: for a traced graph and its inputs, the gradient graph
// (`vjpGraph` w.r.t. every float input, with a seeded random cotangent) is evaluated in float64 and
// compared with central finite differences of the float64 forward pass at sampled coordinates (this checks
// the rules), then compiled and run on the backend and compared with the float64 gradients everywhere
// (this checks the backend's kernels on the backward graph), and optionally run eagerly too.

import { cotangentName, gradName, vjpGraph } from '../autodiff/grad.js';
import type { AnyBackend } from '../backend.js';
import { compile } from '../graph/compile.js';
import { eager } from '../graph/eager.js';
import type { Graph } from '../graph/graph.js';
import { runGraph } from '../graph/rewrite.js';
import type { TensorData } from '../ir/types.js';
import { expectClose, maxAbs, type Rng, randomTensor } from './compare.js';
import { evaluateF64, type F64Data, toF64 } from './reference-kernels.js';

/** Options of one gradient check. */
export interface GradCheckOptions {
  /** Random stream for the cotangent and the sampled coordinates. */
  rng: Rng;
  /** Relative bound of backend vs float64 gradients (`max|g - ref| <= rel * max(1, max|ref|)`). */
  rel: number;
  /** Coordinates per input checked by finite differences (default 4). */
  samples?: number;
  /** Also run the gradient graph eagerly (default false). */
  eagerToo?: boolean;
}

/** Relative bound of the float64 rules against central finite differences. */
export const FD_BOUND = 1e-6;

function lossOf(out: Record<string, F64Data>, cots: Record<string, F64Data>, graph: Graph): number {
  let s = 0;
  for (const name of graph.outputs.keys()) {
    const c = cots[cotangentName(graph, name)];
    if (!c) continue;
    const y = out[name].data;
    for (let i = 0; i < y.length; i++) s += y[i] * c.data[i];
  }
  return s;
}

/**
 * Checks the gradients of `graph` at `inputs` (see the file header); throws with the input, coordinate and
 * values on a mismatch. With `backend` undefined only the float64 rules are checked.
 */
export async function checkGradients(
  backend: AnyBackend | undefined,
  graph: Graph,
  inputs: Readonly<Record<string, TensorData>>,
  label: string,
  options: GradCheckOptions,
): Promise<void> {
  const wrt = [...graph.inputs].filter(([, id]) => graph.nodes[id].type.dtype === 'float32').map(([n]) => n);
  if (!wrt.length) return;
  const vjp = vjpGraph(graph, wrt);
  const r = options.rng;
  const cots: Record<string, TensorData> = {};
  for (const [name, id] of graph.outputs) {
    const cn = cotangentName(graph, name);
    if (vjp.inputs.has(cn)) cots[cn] = randomTensor(graph.nodes[id].type.shape, r, { lo: -1, hi: 1 });
  }
  const all = { ...inputs, ...cots };
  const ref = evaluateF64(vjp, all);
  // rules vs central finite differences, in float64
  const cots64 = Object.fromEntries(Object.entries(cots).map(([k, v]) => [k, toF64(v)]));
  const samples = options.samples ?? 4;
  for (const name of wrt) {
    const g = ref[gradName(name)];
    const base = toF64(inputs[name]);
    const scale = Math.max(1, maxAbs(g));
    const n = base.data.length;
    const picks =
      n <= samples ? [...Array(n).keys()] : Array.from({ length: samples }, () => Math.floor(r() * n));
    for (const k of picks) {
      const h = 1e-6 * Math.max(1, Math.abs(base.data[k]));
      const at = (delta: number) => {
        const d = Float64Array.from(base.data);
        d[k] += delta;
        return lossOf(
          evaluateF64(graph, { ...inputs, [name]: { shape: base.shape, data: d } }),
          cots64,
          graph,
        );
      };
      const fd = (at(h) - at(-h)) / (2 * h);
      const err = Math.abs(fd - g.data[k]);
      if (!(err <= FD_BOUND * scale * 10 + 1e-7 * Math.abs(fd))) {
        throw new Error(
          `${label}: d/d${name}[${k}]: rule gives ${g.data[k]}, central differences ${fd} (error ${err.toExponential(2)}, bound ${(FD_BOUND * scale * 10).toExponential(2)})`,
        );
      }
    }
  }
  if (!backend) return;
  const compiled = await compile(vjp, backend);
  try {
    const out = await compiled.run(all);
    for (const name of wrt) {
      expectClose(
        out[gradName(name)],
        ref[gradName(name)],
        options.rel,
        `${label}: grad of ${name} (compiled)`,
      );
    }
  } finally {
    compiled.dispose();
  }
  if (options.eagerToo) {
    const session = eager(backend);
    try {
      const ts = Object.fromEntries(Object.entries(all).map(([k, v]) => [k, session.tensor(v)]));
      const out = runGraph(session, vjp, ts);
      for (const name of wrt) {
        expectClose(
          await session.read(out[gradName(name)]),
          ref[gradName(name)],
          options.rel,
          `${label}: grad of ${name} (eager)`,
        );
      }
    } finally {
      session.dispose();
    }
  }
}
