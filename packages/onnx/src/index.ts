// Public API of @wf/onnx: export IR graphs to ONNX (dynamic batch, opsets 13-21, external data), the
// export rule table, Triton model configurations, and the ONNX protobuf schema used to encode and decode.
export {
  DEFAULT_OPSET,
  type ExportOnnxOptions,
  exportOnnx,
  type LowerForExportOptions,
  lowerForExport,
  type OnnxExport,
  type OnnxValueInfo,
  SUPPORTED_OPSETS,
} from './export.js';
export { type ExportableModel, type ExportModelOptions, exportModel, selectOutputs } from './model-export.js';
export { type AttrSpec, OnnxGraphBuilder } from './onnx-builder.js';
export { decodeModel, encodeModel, ModelProto } from './onnx-proto.js';
export {
  EXPORT_RULES,
  type ExportLowering,
  type ExportRule,
  type ExportRules,
  lowerDynDWConvTaps,
  OnnxExportError,
  type OnnxRule,
  type RuleContext,
} from './rules.js';
export { checkTritonName, type TritonConfigOptions, tritonConfig, tritonRepositoryFiles } from './triton.js';
