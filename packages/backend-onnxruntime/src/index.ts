// Public API of @wf/backend-onnxruntime: the ONNX Runtime backend (whole compiled graphs as ONNX Runtime
// sessions; onnxruntime-node in Node, onnxruntime-web in browsers) and the runtime loader.
export {
  CPU_DISABLED_OPTIMIZERS,
  createOrtBackend,
  type OrtBackend,
  type OrtBackendOptions,
  type OrtHostTensor,
} from './ort-backend.js';
export {
  isNode,
  loadOrt,
  type OrtModule,
  type OrtRuntime,
  type OrtSessionLike,
  type OrtTensorLike,
} from './runtime.js';
