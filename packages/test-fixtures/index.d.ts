/** Folder of the fixtures copied into the repository (`reference/`, `mnist/`). */
export declare const fixturesDir: string;
/** The project's `../shared` folder, or `WF_SHARED` when set. */
export declare const sharedDir: string;
/** Absolute path of a fixture copied into the repo, e.g. `reference/wfm-micro.safetensors`. */
export declare function fixturePath(rel: string): string;
/** Bytes of a fixture copied into the repo. */
export declare function readFixture(rel: string): Uint8Array;
/** Path of a large fixture kept in ../shared, or undefined when absent (throws when CI=true). */
export declare function sharedPath(rel: string): string | undefined;
/** Seed of every fuzz suite unless `WF_FUZZ_SEED` is set. */
export declare const DEFAULT_FUZZ_SEED: number;
/** fast-check parameters of a fuzz suite: `defaultRuns` unless `WF_FUZZ_RUNS` is set; seed `WF_FUZZ_SEED` or the default. */
export declare function fuzzParams(defaultRuns: number): { seed: number; numRuns: number };
/** Runs a full garbage collection (enables `--expose-gc` at run time if needed). */
export declare function forceGc(): Promise<void>;
/** Process memory after a forced GC: V8 heap used, ArrayBuffer bytes and external bytes. */
export declare function memoryAfterGc(): Promise<{
  heapUsed: number;
  arrayBuffers: number;
  external: number;
}>;
/** One PNG chunk: big-endian length, the 4-letter type, `data`, and the CRC-32 of type and data. */
export declare function pngChunk(type: string, data: Uint8Array): Uint8Array;
/** The system Chromium the browser tests drive: `CHROMIUM_PATH` (or `WF_CHROMIUM`), else Debian's. */
export declare const chromiumPath: string;
/** playwright-core launch options for {@link chromiumPath}; `webgpu` (default true) enables WebGPU on SwiftShader. */
export declare function chromiumLaunchOptions(options?: { webgpu?: boolean }): {
  executablePath: string;
  headless: boolean;
  args: string[];
};
