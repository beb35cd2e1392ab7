// What the bench's browser page and its Node driver exchange (types only: the page is bundled for the
// browser, the driver runs in Node).

/** Which kind of page: cross-origin isolated (COOP/COEP headers) or ordinary (no headers). */
export type PageKind = 'isolated' | 'plain';

/** Asked of a page once: which engines to prepare, with how many threads. */
export interface PageSetup {
  /** Engines: `cpu`, `gpujs:<mode>`, `ort-web` (wasm), `ort-web:webgpu`. */
  engines: string[];
  /** Threads for ours and onnxruntime-web where the page allows threads (one on an ordinary page). */
  threads: number;
  /** Warm-up runs per engine (the first run is always one of them). */
  warmup: number;
}

/** One prepared engine, as the page reports it after warming it up. */
export interface PageEngine {
  name: string;
  /** Threads it computes with on this page. */
  threads: number;
  /** What runs underneath (our `runtime()` summary, the ORT version and execution provider). */
  detail: string;
  /** Time to load and prepare (compile / create the session), ms. */
  prepareMs: number;
  /** Warm-up run times, ms. */
  warmupMs: number[];
  /** Largest |logits - reference| and the largest |reference| (the float64 PyTorch fixture). */
  maxAbsErr: number;
  refMaxAbs: number;
  /** The top-1 class equals the reference's. */
  top1: boolean;
}

/** What `setup` resolves to. */
export interface PageReport {
  crossOriginIsolated: boolean;
  userAgent: string;
  hardwareConcurrency: number;
  webgpu: boolean;
  engines: PageEngine[];
  /** Engines that could not be prepared here, with the reason. */
  skipped: { engine: string; reason: string }[];
}

/** The functions the page puts on `window.wfBench`. */
export interface PageApi {
  setup(setup: PageSetup): Promise<PageReport>;
  /** Runs every engine `block` times in turn (A A B B ...); resolves to the times, ms, by engine. */
  round(block: number): Promise<Record<string, number[]>>;
  dispose(): Promise<void>;
}
