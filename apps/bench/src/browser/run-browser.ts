// `pnpm bench --browser`: WFM-T at 224 px, batch 1, in headless Chromium (Debian's, through
// playwright-core), on a cross-origin isolated page (COOP/COEP headers: SharedArrayBuffer, threads) and on
// an ordinary page (no headers, as most sites are served). Each page loads an esbuild bundle of our
// backends and fetches onnxruntime-web from its dist folder; every engine computes the same fixture input
// with the same (fixture) weights and its logits are checked against the float64 PyTorch reference. Then
// the driver asks the pages for rounds in turn (isolated, ordinary, isolated, ...); within a round each
// engine runs a block of `block` consecutive runs (A A B B ...), so drift hits every engine alike.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumPath } from '@wf/test-fixtures';
import { startBrowserPage } from '@wf/test-fixtures/browser-page';
import { summarize } from '../stats.js';
import type { PageApi, PageKind, PageReport } from './protocol.js';

/** Options of `runBrowserBench`. */
export interface BrowserBenchOptions {
  /** Quick (CI): ours cpu and onnxruntime-web wasm, few rounds. Full: adds gpu.js modes and ORT WebGPU. */
  quick: boolean;
  /** The shared folder (fixture weights, ONNX export). */
  sharedDir: string;
  /** Threads on the isolated page (default: the browser's hardwareConcurrency, at most 4). */
  threads?: number;
  /** Engines (default by mode); names as in `PageSetup.engines`. */
  engines?: string[];
  /** Rounds and runs per block (default by mode). */
  rounds?: number;
  block?: number;
  log?: (line: string) => void;
}

/** One engine on one page: its timings and its output check. */
export interface BrowserRow {
  page: PageKind;
  engine: string;
  threads: number;
  detail: string;
  samplesMs: number[];
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  prepareMs: number;
  warmupMs: number[];
  /** Largest |logits - float64 reference| and the largest |reference|; top-1 agrees. */
  maxAbsErr: number;
  refMaxAbs: number;
  top1: boolean;
}

/** A ratio of medians on one page (ours over a peer). */
export interface BrowserRatio {
  page: PageKind;
  label: string;
  numerator: string;
  denominator: string;
  ratio: number;
  /** Issue 15's target (ours / onnxruntime-web <= 0.6 on both pages), where one applies. */
  target: { op: '<='; value: number; source: string } | null;
  met: boolean | null;
}

/** The browser section of results.json. */
export interface BrowserResults {
  browser: string;
  model: 'wfm-tiny';
  px: number;
  batch: number;
  rounds: number;
  block: number;
  pages: {
    kind: PageKind;
    crossOriginIsolated: boolean;
    hardwareConcurrency: number;
    webgpu: boolean;
    /** Console lines of the page (our one-time threads notice on the ordinary page). */
    console: string[];
  }[];
  rows: BrowserRow[];
  ratios: BrowserRatio[];
  skipped: { page: PageKind; engine: string; reason: string }[];
}

export const QUICK_ENGINES = ['cpu', 'ort-web'];
export const FULL_ENGINES = ['cpu', 'gpujs:webgl2', 'gpujs:webgpu', 'ort-web', 'ort-web:webgpu'];

const here = dirname(fileURLToPath(import.meta.url));

/** The page script's source: src/browser/page.ts (tests, tsx) or dist/browser-page.ts beside the bundle. */
function pageEntry(): string {
  for (const p of [
    join(here, 'page.ts'),
    join(here, 'browser', 'page.ts'),
    join(here, '..', 'src', 'browser', 'page.ts'),
  ])
    if (existsSync(p)) return p;
  throw new Error(`bench --browser: the page script (src/browser/page.ts) was not found from ${here}`);
}

/** Files the pages may fetch from data/: name -> path. */
function dataFiles(shared: string): Record<string, string> {
  return {
    'wfm-tiny.safetensors': join(shared, 'fixtures', 'reference', 'wfm-tiny.safetensors'),
    'wfm-tiny-224.io.safetensors': join(shared, 'fixtures', 'reference', 'wfm-tiny-224.io.safetensors'),
    'wfm-tiny-224.onnx': join(shared, 'peers', 'onnx', 'wfm-tiny', 'wfm-tiny-224.onnx'),
    'wfm-tiny.onnx.data': join(shared, 'peers', 'onnx', 'wfm-tiny', 'wfm-tiny.onnx.data'),
  };
}

/** onnxruntime-web's dist folder (its .mjs and .wasm files, served under ort/). */
function ortDir(): string {
  return dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
}

/** Why the browser bench cannot run here (no Chromium, missing files), or null. */
export function browserUnavailable(shared: string | null): string | null {
  if (!existsSync(chromiumPath))
    return `no Chromium at ${chromiumPath} (install the Debian package "chromium")`;
  if (!shared) return 'the shared folder (../shared, or WF_SHARED) was not found';
  const missing = Object.values(dataFiles(shared)).filter((p) => !existsSync(p));
  return missing.length ? `missing ${missing.join(', ')}` : null;
}

/** Runs the browser bench (see the file header). */
export async function runBrowserBench(opts: BrowserBenchOptions): Promise<BrowserResults> {
  const log = opts.log ?? (() => {});
  const why = browserUnavailable(opts.sharedDir);
  if (why) throw new Error(`bench --browser: ${why}`);
  const engines = opts.engines ?? (opts.quick ? QUICK_ENGINES : FULL_ENGINES);
  const rounds = opts.rounds ?? (opts.quick ? 3 : 10);
  const block = opts.block ?? (opts.quick ? 2 : 3);
  // /isolated/... with COOP/COEP on every response and /plain/... without: index.html, page.js (our
  // backends and models, bundled by esbuild), data/<file> and ort/<file> (onnxruntime-web's .mjs and .wasm)
  const session = await startBrowserPage({
    entry: pageEntry(),
    external: ['gl', 'webgpu'],
    title: 'wf bench',
    isolation: 'both',
    mounts: [
      { prefix: 'data/', files: dataFiles(opts.sharedDir) },
      { prefix: 'ort/', dir: ortDir(), pattern: /^[\w.-]+\.(mjs|wasm)$/ },
    ],
    webgpu: engines.some((e) => e.includes('webgpu')),
  });
  const { browser } = session;
  try {
    const kinds: PageKind[] = ['isolated', 'plain'];
    const pages = [];
    for (const kind of kinds) {
      const { page, lines } = await session.open({ entry: 'wfBench', entryType: 'object' }, kind);
      const threads = opts.threads ?? Math.min(4, await page.evaluate(() => navigator.hardwareConcurrency));
      log(`browser ${kind} page: preparing ${engines.join(', ')}`);
      const report = (await page.evaluate(
        (s) => (globalThis as unknown as { wfBench: PageApi }).wfBench.setup(s),
        { engines, threads, warmup: opts.quick ? 1 : 2 },
      )) as PageReport;
      for (const e of report.engines)
        log(`  ${e.name}: ${e.detail}, warm-up ${e.warmupMs.map((v) => v.toFixed(0)).join(', ')} ms`);
      for (const s of report.skipped) log(`  skip ${s.engine}: ${s.reason}`);
      pages.push({ kind, page, report, lines, samples: new Map<string, number[]>() });
    }
    for (let r = 0; r < rounds; r++) {
      for (const p of pages) {
        const times = (await p.page
          .evaluate((b) => (globalThis as unknown as { wfBench: PageApi }).wfBench.round(b), block)
          .catch((e: Error) => {
            const why = p.lines.filter((l) => /^(crash|pageerror|error)/.test(l)).join('; ');
            throw new Error(
              `browser ${p.kind} page, round ${r + 1}: ${e.message.split('\n')[0]}${why ? ` (${why})` : ''}`,
            );
          })) as Record<string, number[]>;
        for (const [engine, ms] of Object.entries(times))
          p.samples.set(engine, [...(p.samples.get(engine) ?? []), ...ms]);
      }
      log(`browser round ${r + 1}/${rounds}`);
    }
    const rows: BrowserRow[] = [];
    for (const p of pages) {
      await p.page.evaluate(() => (globalThis as unknown as { wfBench: PageApi }).wfBench.dispose());
      for (const e of p.report.engines) {
        const samplesMs = p.samples.get(e.name) ?? [];
        if (!samplesMs.length) continue;
        rows.push({
          page: p.kind,
          engine: e.name,
          threads: e.threads,
          detail: e.detail,
          samplesMs,
          ...summarize(samplesMs),
          prepareMs: e.prepareMs,
          warmupMs: e.warmupMs,
          maxAbsErr: e.maxAbsErr,
          refMaxAbs: e.refMaxAbs,
          top1: e.top1,
        });
      }
    }
    return {
      browser: browser.version(),
      model: 'wfm-tiny',
      px: 224,
      batch: 1,
      rounds,
      block,
      pages: pages.map((p) => ({
        kind: p.kind,
        crossOriginIsolated: p.report.crossOriginIsolated,
        hardwareConcurrency: p.report.hardwareConcurrency,
        webgpu: p.report.webgpu,
        console: p.lines.filter((l) => !l.startsWith('debug: ')),
      })),
      rows,
      ratios: browserRatios(rows),
      skipped: pages.flatMap((p) => p.report.skipped.map((s) => ({ page: p.kind, ...s }))),
    };
  } finally {
    await session.close();
  }
}

/** Ours (every engine of ours) over each onnxruntime-web engine, per page; issue 15's target on cpu / ort-web. */
export function browserRatios(rows: readonly BrowserRow[]): BrowserRatio[] {
  const out: BrowserRatio[] = [];
  for (const page of ['isolated', 'plain'] as const) {
    const at = rows.filter((r) => r.page === page);
    for (const peer of at.filter((r) => r.engine.startsWith('ort-web')))
      for (const ours of at.filter((r) => !r.engine.startsWith('ort-'))) {
        const target =
          ours.engine === 'cpu' && peer.engine === 'ort-web'
            ? { op: '<=' as const, value: 0.6, source: 'issue 15' }
            : null;
        const ratio = ours.medianMs / peer.medianMs;
        out.push({
          page,
          label: `${page} page: ${ours.engine} (${ours.threads} thr) / ${peer.engine} (${peer.threads} thr), WFM-T 224 px`,
          numerator: ours.engine,
          denominator: peer.engine,
          ratio,
          target,
          met: target ? ratio <= target.value : null,
        });
      }
  }
  return out;
}
