/** Folder of the fixtures copied into the repository (`reference/`, `mnist/`). */
export declare const fixturesDir: string;
/** The project's `../shared` folder, or `WF_SHARED` when set. */
export declare const sharedDir: string;
/** Whether the tests run in CI (`CI` set to anything but '', 'false' or '0'): nothing may skip there. */
export declare function isCI(): boolean;
/** {@link isCI} when the module was loaded. */
export declare const IN_CI: boolean;
/** Absolute path of a fixture copied into the repo, e.g. `reference/wfm-micro.safetensors`. */
export declare function fixturePath(rel: string): string;
/** Bytes of a fixture copied into the repo. */
export declare function readFixture(rel: string): Uint8Array;
/** Path of a large fixture kept in ../shared, or undefined when absent (throws in CI, see isCI). */
export declare function sharedPath(rel: string): string | undefined;
/** Seed of the fuzz suites outside CI unless `WF_FUZZ_SEED` is set. */
export declare const DEFAULT_FUZZ_SEED: number;
/** The fuzz seed: `WF_FUZZ_SEED`, else in CI one derived from the commit and the UTC date, else the default. */
export declare function fuzzSeed(): { seed: number; source: string };
/** `WF_FUZZ_SEED=<seed> WF_FUZZ_RUNS=<runs> pnpm fuzz`: the command that replays a fuzz run. */
export declare function fuzzReplayCommand(params: { seed: number; numRuns: number }): string;
/** fast-check parameters of a fuzz suite: `defaultRuns` unless `WF_FUZZ_RUNS` is set; the seed of {@link fuzzSeed} (printed once). */
export declare function fuzzParams(defaultRuns: number): { seed: number; numRuns: number };
/** Runs an `fc.assert` given `params`; a failure's message gets the replay command appended. */
export declare function withFuzzReplay<P extends { seed: number; numRuns: number }, T>(
  params: P,
  assertion: (params: P) => T | Promise<T>,
): Promise<T>;
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
