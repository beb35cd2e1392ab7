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
