// Issue 11's backward rows: forward plus backward (the gradient graph of `WfModel.gradGraph`: input and
// every trainable parameter, loss sum(output * cotangent)) against the forward pass alone, on our cpu
// backend, for WFM-T and DeiT-T at 224 px batch 1 and the WeightFormer MNIST model at batch 128. Forward and
// forward+backward alternate run by run (A B A B) so their ratio shares the machine's state. Both take their
// outputs as views of the backend's memory (`RunOptions.borrow`), as the trainer takes its gradients (a
// copy of WFM-T's 5.5 M gradient values to new arrays would add some 4 ms a step). Memory is the
// compiled graph's peak: the planned intermediates at their peak plus every input and constant (weights,
// cotangent), the same formula for both.
import type { AnyBackend, CompiledGraph, TensorData } from '@wf/core';
import { compile } from '@wf/core';
import { randomModel, type WfModel } from '@wf/models';
import { loadBuiltinModel } from '@wf/models/node';
import { dueForWarmup } from './interleave.js';
import { median } from './stats.js';
import { inputData } from './workloads.js';

/** Warm-up time of each graph of a backward row before its timed pairs, ms. */
const WARMUP_MS = 1000;

/** One network's forward vs forward+backward measurement. */
export interface BackwardRow {
  engine: string;
  /** `wfm-tiny`, `deit-tiny` or `wfm-mnist`. */
  model: string;
  px: number;
  batch: number;
  runs: number;
  /** Median forward latency (ms). */
  forwardMs: number;
  /** Median forward + backward latency (ms). */
  backwardMs: number;
  /** backwardMs / forwardMs. */
  timeRatio: number;
  /** Peak bytes of the compiled forward graph (planned intermediates at peak, inputs, weights). */
  forwardPeakBytes: number;
  /** The same for the gradient graph. */
  backwardPeakBytes: number;
  /** backwardPeakBytes / forwardPeakBytes. */
  memoryRatio: number;
  /**
   * FLOPs of the gradient graph over the forward graph's (the cost model, both as compiled): the time ratio
   * a backward pass exactly as efficient per FLOP as the forward would give (3 for a network of matrix
   * products: two backward products per forward one).
   */
  flopRatio: number;
}

/** Total FLOPs of a compiled graph by the cost model. */
const compiledFlops = (c: CompiledGraph): number => c.cost().flops;

/** Peak bytes of a compiled graph: planned intermediates at their peak plus every input and constant. */
export function compiledPeakBytes(c: CompiledGraph): number {
  let other = 0;
  for (const n of c.graph.nodes) {
    if (n.op === 'const' || n.op === 'input') other += n.type.shape.reduce((a, b) => a * b, 1) * 4;
  }
  return c.plan.peakBytes + other;
}

/** The networks measured (WFM-T and DeiT-T at 224 px, batch 1; WFM-MNIST at batch 128). */
export async function backwardNetworks(): Promise<
  { id: string; model: WfModel; px: number; batch: number }[]
> {
  return [
    { id: 'wfm-tiny', model: randomModel('wfm-tiny'), px: 224, batch: 1 },
    { id: 'deit-tiny', model: randomModel('deit-tiny'), px: 224, batch: 1 },
    { id: 'wfm-mnist', model: await loadBuiltinModel('wfm-mnist'), px: 32, batch: 128 },
  ];
}

/** Measures forward vs forward + backward of every network on `backend` (`runs` interleaved pairs). */
export async function measureBackward(
  backend: AnyBackend,
  engine: string,
  runs: number,
  tick: (what: string) => void = () => {},
): Promise<BackwardRow[]> {
  const rows: BackwardRow[] = [];
  for (const { id, model, px, batch } of await backwardNetworks()) {
    const shape = { batch, height: px, width: px };
    const fwd = await compile(model.graph(shape), backend);
    const bwd = await compile(model.gradGraph(shape), backend);
    try {
      const input = inputData(model.inputShapes(shape).input.shape);
      const fwdInputs = { input };
      const bwdInputs: Record<string, TensorData> = { input };
      for (const [name, type] of bwd.inputTypes) {
        if (name === 'cotangent') bwdInputs[name] = inputData(type.shape);
        else if (name !== 'input') bwdInputs[name] = model.weights.get(name)!;
      }
      const opts = { borrow: true };
      // warm-up, alternately, until each graph's runs add up to WARMUP_MS (JIT and WebAssembly tier-up take
      // a few runs), then A B A B
      const warm: number[][] = [[], []];
      for (let due = [0, 1]; due.length; due = dueForWarmup({ warmupMs: WARMUP_MS }, warm)) {
        for (const k of due) {
          const t0 = performance.now();
          await (k === 0 ? fwd.run(fwdInputs, opts) : bwd.run(bwdInputs, opts));
          warm[k].push(performance.now() - t0);
        }
      }
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < runs; i++) {
        tick(`backward ${id} ${i + 1}/${runs}`);
        let t0 = performance.now();
        await fwd.run(fwdInputs, opts);
        a.push(performance.now() - t0);
        t0 = performance.now();
        await bwd.run(bwdInputs, opts);
        b.push(performance.now() - t0);
      }
      const forwardMs = median(a);
      const backwardMs = median(b);
      const forwardPeakBytes = compiledPeakBytes(fwd);
      const backwardPeakBytes = compiledPeakBytes(bwd);
      rows.push({
        engine,
        model: id,
        px,
        batch,
        runs,
        forwardMs,
        backwardMs,
        timeRatio: backwardMs / forwardMs,
        forwardPeakBytes,
        backwardPeakBytes,
        memoryRatio: backwardPeakBytes / forwardPeakBytes,
        flopRatio: compiledFlops(bwd) / compiledFlops(fwd),
      });
    } finally {
      fwd.dispose();
      bwd.dispose();
    }
  }
  return rows;
}

/** One printed line per row. */
export function formatBackwardRow(r: BackwardRow): string {
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  return `  forward+backward ${r.model} ${r.px} px b${r.batch} on ${r.engine}: ${r.backwardMs.toFixed(1)} ms vs forward ${r.forwardMs.toFixed(1)} ms (x${r.timeRatio.toFixed(2)}; FLOPs x${r.flopRatio.toFixed(2)}), peak memory ${mb(r.backwardPeakBytes)} vs ${mb(r.forwardPeakBytes)} (x${r.memoryRatio.toFixed(2)})`;
}
