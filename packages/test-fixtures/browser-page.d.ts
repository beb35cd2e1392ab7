// Types of browser-page.js: the bundle / serve / open-in-Chromium scaffolding of the browser checks.
import type { Plugin } from 'esbuild';
import type { Browser, Page } from 'playwright-core';

/** Why the browser checks cannot run here (no Chromium), or `undefined` when they can. */
export declare function chromiumMissing(): string | undefined;
/** esbuild plugin: Node built-ins (path, url, fs, module, zlib, os, worker_threads, ...) resolve to an inert stub. */
export declare const nodeBuiltinsStub: Plugin;
/** Bundles the page script `entry` for the browser (ESM, es2022, in memory; Node built-ins stubbed). */
export declare function bundlePage(entry: string, options?: { external?: string[] }): Promise<string>;
/** The COOP/COEP headers that make a page cross-origin isolated. */
export declare const ISOLATION_HEADERS: Readonly<Record<string, string>>;

/** Where the page serves files from: `<prefix><name>` for names matching `pattern` in `dir`, or the named `files`. */
export type PageMount =
  | { prefix: string; dir: string; pattern: RegExp; files?: undefined }
  | { prefix: string; files: Readonly<Record<string, string>> };
/** Serves `fixtures/<name>.safetensors` from the reference fixtures copied into the repository. */
export declare const referenceFixturesMount: PageMount;

/** How the page is served: `/` with COOP/COEP, `/` without, or `/isolated/` and `/plain/`. */
export type PageIsolation = 'isolated' | 'plain' | 'both';
/** The page kinds of `isolation: 'both'`. */
export type PageKind = 'isolated' | 'plain';

/** Options of {@link servePage}. */
export interface ServePageOptions {
  /** The page's `<title>` (default `wf`). */
  title?: string;
  /** Default `'isolated'`. */
  isolation?: PageIsolation;
  /** Files served beside the page. */
  mounts?: readonly PageMount[];
}

/** A running page server. */
export interface PageServer {
  server: import('node:http').Server;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** The page's address: `/`, or `/<kind>/` with `isolation: 'both'`. */
  url(kind?: PageKind): string;
  close(): Promise<void>;
}

/** Serves `index.html`, `page.js` (`script`) and the mounted files on 127.0.0.1 (see browser-page.js). */
export declare function servePage(script: string, options?: ServePageOptions): Promise<PageServer>;

/** Options of {@link openPage}. */
export interface OpenPageOptions {
  /** The global the page script installs when it has loaded (e.g. `wfRun`). */
  entry: string;
  /** Its `typeof` once installed (default `'function'`). */
  entryType?: string;
  /** How long to wait for it, in ms (default 30 000). */
  timeout?: number;
}

/** A page opened by {@link openPage}. */
export interface OpenedPage {
  page: Page;
  /** Every console message (`<type>: <text>`), uncaught error (`pageerror: ...`) and crash (`crash: ...`). */
  lines: string[];
  /** Console errors (`console error: ...`), uncaught errors (`page error: ...`) and a crash. */
  errors: string[];
}

/** Opens `url` in a new page, recording its console and errors, and waits for the page script's entry. */
export declare function openPage(
  browser: Browser,
  url: string,
  options: OpenPageOptions,
): Promise<OpenedPage>;

/** Options of {@link startBrowserPage}. */
export interface BrowserPageOptions extends ServePageOptions {
  /** The page script (absolute path), bundled by esbuild. */
  entry: string;
  /** Imports esbuild leaves out of the bundle. */
  external?: string[];
  /** Launch Chromium with WebGPU on SwiftShader (default true). */
  webgpu?: boolean;
}

/** A running browser check: the Chromium, the served page, and how to open it. */
export interface BrowserPageSession {
  browser: Browser;
  url(kind?: PageKind): string;
  /** Opens the page (at `/<kind>/` with `isolation: 'both'`); see {@link openPage}. */
  open(options: OpenPageOptions, kind?: PageKind): Promise<OpenedPage>;
  /** Closes the browser and the server. */
  close(): Promise<void>;
}

/** Bundles `entry`, serves it, launches the system Chromium: the set-up of every browser check. */
export declare function startBrowserPage(options: BrowserPageOptions): Promise<BrowserPageSession>;
