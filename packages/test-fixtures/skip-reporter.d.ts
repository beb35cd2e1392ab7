/** Where a run's skipped tests are written, relative to the package folder. */
export declare const SKIPS_FILE: '.skips.json';
/** Records skipped tests of one vitest run into {@link SKIPS_FILE}. */
export declare class SkipReporter {
  onTestRunEnd(testModules: ReadonlyArray<unknown>): void;
}
/** vitest's default reporter plus {@link SkipReporter}: the `reporters` of every package's vitest config. */
export declare const testReporters: ['default', SkipReporter];
