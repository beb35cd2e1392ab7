// Loading ONNX Runtime: onnxruntime-node (native, ships its library inside the package) in Node, and
// onnxruntime-web (WebAssembly, WebGPU where the browser has it) in browsers or when asked for in Node.
// Only the one asked for is imported, so a browser bundle never pulls the native package in.
import { BackendError } from '@wf/core';

/** Which ONNX Runtime package runs the graphs. */
export type OrtRuntime = 'node' | 'web';

/** The part of an ONNX Runtime tensor the backend uses. */
export interface OrtTensorLike {
  /** Dimensions. */
  readonly dims: readonly number[];
  /** Element type, e.g. `float32`. */
  readonly type: string;
  /** The elements, when on the CPU. */
  readonly data: unknown;
  /** Where the data lives (`cpu`, `gpu-buffer`, ...). */
  readonly location?: string;
  /** Downloads the data (tensors on a device). */
  getData?(): Promise<unknown>;
  /** Frees device data. */
  dispose?(): void;
}

/** The part of an ONNX Runtime session the backend uses. */
export interface OrtSessionLike {
  /** The model's input names. */
  readonly inputNames: readonly string[];
  /** The model's output names. */
  readonly outputNames: readonly string[];
  /** Runs the model on named inputs. */
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
  /** Frees the session. */
  release(): Promise<void>;
}

/** The part of an ONNX Runtime package (`onnxruntime-node` or `onnxruntime-web`) the backend uses. */
export interface OrtModule {
  /** Session factory. */
  readonly InferenceSession: {
    /** Creates a session from model bytes. */
    create(model: Uint8Array, options?: object): Promise<OrtSessionLike>;
  };
  /** Tensor constructor. */
  readonly Tensor: {
    /** A CPU tensor of `type` over `data` with dimensions `dims`. */
    new (type: 'float32' | 'int32', data: Float32Array | Int32Array, dims: readonly number[]): OrtTensorLike;
  };
  /** Global settings. */
  readonly env: {
    /** Package versions. */
    versions?: Record<string, string | undefined>;
    /** WebAssembly settings (onnxruntime-web). */
    wasm?: { numThreads?: number; wasmPaths?: unknown };
    /** Log level. */
    logLevel?: string;
  };
}

/** Whether this is Node (rather than a browser or a worker). */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/** URL of onnxruntime-web's dist folder in Node (where its .wasm and loader files are), for `wasmPaths`. */
async function webWasmDirInNode(): Promise<string> {
  // Specifiers in variables: browser bundles must not try to resolve Node's modules.
  const [mod, path, url] = ['node:module', 'node:path', 'node:url'];
  const [{ createRequire }, { dirname }, { pathToFileURL }] = (await Promise.all([
    import(/* @vite-ignore */ mod),
    import(/* @vite-ignore */ path),
    import(/* @vite-ignore */ url),
  ])) as [typeof import('node:module'), typeof import('node:path'), typeof import('node:url')];
  const require = createRequire(import.meta.url);
  const wasm = require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm');
  return `${pathToFileURL(dirname(wasm)).href}/`;
}

/**
 * Imports the ONNX Runtime package of `runtime`.
 *
 * @throws BackendError naming the package to install when it is missing.
 */
export async function loadOrt(runtime: OrtRuntime, threads?: number): Promise<OrtModule> {
  const pkg = runtime === 'node' ? 'onnxruntime-node' : 'onnxruntime-web';
  let mod: OrtModule;
  try {
    // onnxruntime-web is imported by name so that bundlers include it; onnxruntime-node (native) through
    // a variable, so that they never try to.
    mod = (
      runtime === 'web' ? await import('onnxruntime-web') : await import(/* @vite-ignore */ pkg)
    ) as OrtModule;
    const withDefault = mod as OrtModule & { default?: OrtModule };
    if (!withDefault.InferenceSession && withDefault.default) mod = withDefault.default;
  } catch (err) {
    throw new BackendError(
      `the ONNX Runtime backend (${runtime}) needs the package ${pkg}; install it (npm install ${pkg}): ${(err as Error).message.split('\n')[0]}`,
    );
  }
  if (runtime === 'web' && mod.env.wasm) {
    if (isNode()) mod.env.wasm.wasmPaths = await webWasmDirInNode();
    if (threads !== undefined) mod.env.wasm.numThreads = threads;
    mod.env.logLevel = 'error';
  }
  return mod;
}
