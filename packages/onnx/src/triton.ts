// NVIDIA Triton Inference Server model configuration (config.pbtxt, protobuf text format) for an ONNX
// export: the ONNX Runtime platform, inputs and outputs with their dims less the batch dimension,
// `max_batch_size` and dynamic batching. A Triton model repository is `<repo>/<name>/config.pbtxt` plus
// `<repo>/<name>/1/model.onnx`; `tritonRepositoryFiles` lists those files for a writer.
import type { OnnxExport, OnnxValueInfo } from './export.js';
import { OnnxExportError } from './rules.js';

/** Options of {@link tritonConfig}. */
export interface TritonConfigOptions {
  /** The model's name in the repository (its folder name). */
  name: string;
  /** Largest batch Triton forms (default 8); needs an export with a dynamic batch. */
  maxBatchSize?: number;
  /** Longest time, in microseconds, a request waits for a batch to fill (default 100). */
  maxQueueDelayMicroseconds?: number;
}

const TRITON_TYPE = { float32: 'TYPE_FP32', int32: 'TYPE_INT32' } as const;

/** Triton model names: letters, digits, `_`, `-` and `.` (a folder name). */
export function checkTritonName(name: string): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === '.' || name === '..') {
    throw new OnnxExportError(
      `Triton model name "${name}" is not a plain folder name; use letters, digits, "_", "-" and "."`,
    );
  }
}

function tensorBlock(v: OnnxValueInfo, batched: boolean): string {
  const dims = batched ? v.shape.slice(1) : v.shape;
  if (dims.some((d) => typeof d === 'string')) {
    throw new OnnxExportError(`tensor "${v.name}" has a symbolic dimension past the batch axis`);
  }
  const lines = [`    name: "${v.name}"`, `    data_type: ${TRITON_TYPE[v.dtype]}`];
  // A batch-only tensor ([B]) is declared as [1] per request and reshaped to a scalar, as Triton documents.
  if (dims.length === 0) lines.push('    dims: [ 1 ]', '    reshape: { shape: [ ] }');
  else lines.push(`    dims: [ ${dims.join(', ')} ]`);
  return `  {\n${lines.join('\n')}\n  }`;
}

/** The text of `config.pbtxt` for an export served by Triton's ONNX Runtime backend. */
export function tritonConfig(
  exp: Pick<OnnxExport, 'inputs' | 'outputs' | 'dynamicBatch'>,
  options: TritonConfigOptions,
): string {
  checkTritonName(options.name);
  const maxBatch = options.maxBatchSize ?? 8;
  if (!Number.isInteger(maxBatch) || maxBatch < 0) {
    throw new OnnxExportError(`max batch size must be a non-negative integer, got ${maxBatch}`);
  }
  const batched = maxBatch > 0;
  if (batched && !exp.dynamicBatch) {
    throw new OnnxExportError('a Triton max batch size above 0 needs an export with a dynamic batch');
  }
  const parts = [
    `name: "${options.name}"`,
    'platform: "onnxruntime_onnx"',
    'backend: "onnxruntime"',
    `max_batch_size: ${maxBatch}`,
    `input [\n${exp.inputs.map((v) => tensorBlock(v, batched)).join(',\n')}\n]`,
    `output [\n${exp.outputs.map((v) => tensorBlock(v, batched)).join(',\n')}\n]`,
  ];
  if (batched) {
    parts.push(
      `dynamic_batching {\n  max_queue_delay_microseconds: ${options.maxQueueDelayMicroseconds ?? 100}\n}`,
    );
  }
  return `${parts.join('\n')}\n`;
}

/** The files of a Triton model repository entry, paths relative to the repository root. */
export function tritonRepositoryFiles(
  exp: OnnxExport,
  options: TritonConfigOptions,
): { path: string; bytes: Uint8Array }[] {
  const files = [
    { path: `${options.name}/config.pbtxt`, bytes: new TextEncoder().encode(tritonConfig(exp, options)) },
    { path: `${options.name}/1/model.onnx`, bytes: exp.model },
  ];
  if (exp.externalData) {
    files.push({ path: `${options.name}/1/${exp.externalData.location}`, bytes: exp.externalData.bytes });
  }
  return files;
}
