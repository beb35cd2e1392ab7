/** Where a run's report (skipped and failed tests) is written, relative to the package folder. */
export declare const REPORT_FILE: '.test-report.json';
/** Records the skipped and failed tests of one vitest run into {@link REPORT_FILE}. */
export declare class SkipReporter {
  onTestRunEnd(testModules: ReadonlyArray<unknown>, unhandledErrors?: ReadonlyArray<unknown>): void;
}
/** vitest's default reporter plus {@link SkipReporter}: the `reporters` of every package's vitest config. */
export declare const testReporters: ['default', SkipReporter];
