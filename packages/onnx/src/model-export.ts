// Exports a model object (`WfModel` of @wf/models, or anything that traces its forward pass per shape)
// with `wf run`'s tensor names: `input` -> `logits` (plus `features` when asked) for classifiers, and
// `x`, `t`, `y` -> `output` for the WeightFormer DiT, with a symbolic batch dimension by default.
import { eliminateDeadCode, type Graph } from '@wf/core';
import { type ExportOnnxOptions, exportOnnx, type OnnxExport } from './export.js';
import { OnnxExportError } from './rules.js';

/** What the exporter needs of a model: its architecture and a tracer of its forward pass. */
export interface ExportableModel {
  /** The resolved configuration (only `arch` is read). */
  readonly config: { readonly arch: string };
  /** Traces the forward pass for one input shape. */
  graph(opts: { batch?: number; height?: number; width?: number }): Graph;
}

/** Options of {@link exportModel}. */
export interface ExportModelOptions extends ExportOnnxOptions {
  /** Image height in pixels (classifiers; default the model's size). */
  height?: number;
  /** Image width in pixels (default = height). */
  width?: number;
  /** Also output the pooled `features` (classifiers). */
  features?: boolean;
  /** A fixed batch size instead of the symbolic batch dimension. */
  staticBatch?: number;
}

/** Keeps only the named outputs of a graph (and what they need). */
export function selectOutputs(graph: Graph, names: readonly string[]): Graph {
  const outputs = new Map<string, number>();
  for (const n of names) {
    const id = graph.outputs.get(n);
    if (id === undefined) {
      throw new OnnxExportError(
        `the graph has no output "${n}" (it has ${[...graph.outputs.keys()].join(', ')})`,
      );
    }
    outputs.set(n, id);
  }
  return eliminateDeadCode({ ...graph, outputs });
}

/** Exports a model's forward pass to ONNX (see the file header). */
export function exportModel(model: ExportableModel, options: ExportModelOptions = {}): OnnxExport {
  const { height, width, features, staticBatch, ...rest } = options;
  const dit = model.config.arch === 'wfm-dit';
  if (dit && (height !== undefined || width !== undefined)) {
    throw new OnnxExportError('the DiT takes latents of its own input size; --height/--width do not apply');
  }
  if (dit && features) throw new OnnxExportError('the DiT has no features output');
  const names = dit ? ['output'] : features ? ['logits', 'features'] : ['logits'];
  const trace = (batch: number) =>
    selectOutputs(model.graph(dit ? { batch } : { batch, height, width: width ?? height }), names);
  if (staticBatch !== undefined) {
    if (!Number.isInteger(staticBatch) || staticBatch < 1) {
      throw new OnnxExportError(`the batch size must be a positive integer, got ${staticBatch}`);
    }
    return exportOnnx(trace(staticBatch), rest);
  }
  return exportOnnx(trace, rest);
}
