// The cost model's curves: FLOPs (and bytes) of one forward pass against tokens, far beyond what can be
// timed (about a million tokens), from `graphCost` of the same graphs the bench runs.
import { type Graph, graphCost } from '@wf/core';
import { fitLogLog } from './fit.js';
import type { AnalyticCurve, AnalyticPoint, ModelId } from './schema.js';
import { buildGraph, deitCostGraph, MODELS, PATCH } from './workloads.js';

/** Grid sides of the analytic curves: 14 (196 tokens) to 1024 (1,048,576 tokens), about x1.4 apart. */
export const ANALYTIC_SIDES = [14, 20, 28, 40, 56, 80, 112, 160, 224, 320, 448, 640, 896, 1024];

/** The graph whose cost stands for `model` at `tokens` (DeiT-T without the bicubic position resize). */
function costGraph(model: ModelId, tokens: number): Graph {
  return model === 'deit-tiny' ? deitCostGraph(tokens) : buildGraph(model, tokens, 1);
}

/** The analytic curve of one network up to `maxTokens`. */
export function analyticCurve(model: ModelId, maxTokens: number): AnalyticCurve {
  const spec = MODELS[model];
  const points: AnalyticPoint[] = [];
  for (const side of ANALYTIC_SIDES) {
    const tokens = side * side;
    if (tokens > maxTokens) break;
    const c = graphCost(costGraph(model, tokens));
    points.push({
      tokens,
      px: spec.workload === 'models' ? side * PATCH : null,
      flops: c.flops,
      bytes: c.bytes,
    });
  }
  const fit = fitLogLog(points.map((p) => ({ tokens: p.tokens, value: p.flops })));
  return { workload: spec.workload, model, points, slope: fit?.slope ?? null };
}
