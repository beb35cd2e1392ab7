// What the playground component loads in the browser (dynamically, so server rendering never imports the
// models or the backends).
export { type BackendChoice, backendFor, detectBackends, gpujsBundled } from './backends';
export { drawingToMnist, type MnistInput } from './digit';
export {
  type Classification,
  classify,
  loadPlaygroundModels,
  PLAYGROUND_MODELS,
  type PlaygroundModelId,
  softmax,
} from './models';
