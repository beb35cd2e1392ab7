// `wf erf-figure`: the paper's Figure 3 and its ablation in miniature. Columns: Static (fixed weights only),
// ViT (softmax attention), DynLinear GAP / Linear / Nonlinear / Deep / Bilateral (DynDWConv at the
// reference's Adaptive) and DynDWConv GAP / Adaptive / Amp-Dir / Conv (DynLinear at the reference's
// Bilateral), all the size of the built-in MNIST models (32 px, patch 4, D=64, depth 5). Rows: seeded random
// init, and trained checkpoints where given (`--checkpoint column=file`; the built-in wfm-mnist and
// vit-mnist fill Bilateral, Adaptive and ViT). Maps are erf_norm averaged over MNIST test digits, on one
// colour scale with one colour bar, with the image-area share holding 50/90/99% of the ERF mass under
// each. Also a table (params, FLOPs, test accuracy, areas) and the WFM-T vs DeiT-T random-init figure at
// 448 px (and more sizes with --big-res).
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnyBackend } from '@wf/core';
import {
  type DWConvStrategy,
  erf,
  erfMassArea,
  type LinearStrategy,
  loadModel,
  randomModel,
  type VitConfig,
  type WfModel,
  type WfmConfig,
} from '@wf/models';
import { evaluateMnist, loadBuiltinModel } from '@wf/models/node';
import { createBackend } from '../backends.js';
import { type FigureCell, renderFigure } from '../erf-render.js';
import { UsageError } from '../errors.js';
import { openImages } from './erf.js';

/** One column of the figure. */
export interface ErfColumn {
  /** Key used by `--checkpoint key=file`. */
  key: string;
  /** Title over the column. */
  title: string;
  /** Architecture of the random-init model. */
  config: WfmConfig | VitConfig;
}

const WFM: WfmConfig = {
  arch: 'wfm',
  imgSize: 32,
  patchSize: 4,
  inChans: 1,
  numClasses: 10,
  embedDim: 64,
  depth: 5,
  mlpRatio: 4,
  dynamicBlocks: [1, 4],
};

const VIT: VitConfig = {
  arch: 'vit',
  imgSize: 32,
  patchSize: 4,
  inChans: 1,
  numClasses: 10,
  embedDim: 64,
  depth: 5,
  numHeads: 2,
  mlpRatio: 4,
};

const wfm = (dynLinear: LinearStrategy, dynDWConv: DWConvStrategy): WfmConfig => ({
  ...WFM,
  ...(dynLinear === 'bilateral' ? {} : { dynLinear }),
  ...(dynDWConv === 'adaptive' ? {} : { dynDWConv }),
});

/** The columns of Figure 3, in order. */
export const ERF_COLUMNS: readonly ErfColumn[] = [
  { key: 'static', title: 'Static', config: wfm('static', 'static') },
  { key: 'vit', title: 'ViT', config: VIT },
  { key: 'linear-gap', title: 'DL GAP', config: wfm('gap', 'adaptive') },
  { key: 'linear-linear', title: 'DL Linear', config: wfm('linear', 'adaptive') },
  { key: 'linear-nonlinear', title: 'DL Nonlin', config: wfm('nonlinear', 'adaptive') },
  { key: 'linear-deep', title: 'DL Deep', config: wfm('deep', 'adaptive') },
  { key: 'linear-bilateral', title: 'DL Bilat', config: wfm('bilateral', 'adaptive') },
  { key: 'dwconv-gap', title: 'DW GAP', config: wfm('bilateral', 'gap') },
  { key: 'dwconv-adaptive', title: 'DW Adapt', config: wfm('bilateral', 'adaptive') },
  { key: 'dwconv-ampdir', title: 'DW AmpDir', config: wfm('bilateral', 'ampdir') },
  { key: 'dwconv-conv', title: 'DW Conv', config: wfm('bilateral', 'conv') },
];

/** Trained checkpoints used when `--checkpoint` does not name one: the built-in MNIST models. */
export const DEFAULT_TRAINED: Readonly<Record<string, string>> = {
  vit: 'builtin:vit-mnist',
  'linear-bilateral': 'builtin:wfm-mnist',
  'dwconv-adaptive': 'builtin:wfm-mnist',
};

/** Options of `wf erf-figure`. */
export interface ErfFigureOptions {
  outDir: string;
  images: string;
  seed: number;
  backend: string;
  threads?: number;
  batch?: number;
  /** `key=file` trained checkpoints (repeatable). */
  checkpoint?: string[];
  /** Use only the checkpoints given (not the built-in MNIST models) for the trained row. */
  noBuiltin?: boolean;
  /** Evaluate the trained checkpoints' MNIST test accuracy on this many digits (default all; 0: skip). */
  accuracyDigits?: number;
  /** Resolutions of the WFM-T vs DeiT-T figure (default [448]; empty: skip it). */
  bigRes?: number[];
  /** Images of the WFM-T vs DeiT-T figure (default mnist:2). */
  bigImages?: string;
  /** Only these columns (keys), for quick runs. */
  columns?: string[];
  json?: boolean;
}

/** One variant's row of the table. */
export interface ErfTableRow {
  key: string;
  title: string;
  dynLinear: string;
  dynDWConv: string;
  params: number;
  mflops: number;
  trained?: string;
  accuracy?: number;
  areaInit: number[];
  areaTrained?: number[];
}

/** What `wf erf-figure` wrote. */
export interface ErfFigureResult {
  figure: string;
  table: string;
  big?: string;
  rows: ErfTableRow[];
  big448?: { model: string; res: number; area: number[]; seconds: number }[];
}

const pct = (v: number) => `${(100 * v).toFixed(1)}`;
const areaCaption = (a: number[]) => `${pct(a[0])}/${pct(a[1])}/${pct(a[2])}%`;

async function openCheckpoint(spec: string): Promise<WfModel> {
  if (spec === 'builtin:wfm-mnist' || spec === 'builtin:vit-mnist')
    return loadBuiltinModel(spec.slice(8) as 'wfm-mnist' | 'vit-mnist');
  return loadModel(spec);
}

async function mapOf(
  model: WfModel,
  images: string,
  backend: AnyBackend,
  batch: number | undefined,
  res?: number,
): Promise<{ cell: FigureCell; area: number[]; seconds: number }> {
  const t0 = performance.now();
  const src = openImages(images, model, { res, batch });
  const r = await erf(model, src.images, { backend, batchSize: batch });
  const area = erfMassArea(r.erf);
  return {
    cell: { map: r.erfNorm, caption: [areaCaption(area)] },
    area,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Executes `wf erf-figure`. */
export async function erfFigureCommand(
  opts: ErfFigureOptions,
  print: (line: string) => void,
): Promise<ErfFigureResult> {
  const trained: Record<string, string> = opts.noBuiltin ? {} : { ...DEFAULT_TRAINED };
  for (const c of opts.checkpoint ?? []) {
    const m = /^([a-z-]+)=(.+)$/.exec(c);
    if (!m || !ERF_COLUMNS.some((col) => col.key === m[1]))
      throw new UsageError(
        `--checkpoint ${c}: use COLUMN=FILE with COLUMN one of ${ERF_COLUMNS.map((col) => col.key).join(', ')}`,
      );
    trained[m[1]] = m[2];
  }
  const columns = opts.columns?.length
    ? ERF_COLUMNS.filter((c) => opts.columns!.includes(c.key))
    : [...ERF_COLUMNS];
  if (opts.columns?.length && columns.length !== opts.columns.length)
    throw new UsageError(`--columns: known columns are ${ERF_COLUMNS.map((c) => c.key).join(', ')}`);
  mkdirSync(opts.outDir, { recursive: true });
  const backend = await createBackend(opts.backend, { threads: opts.threads });
  const rows: ErfTableRow[] = [];
  const initCells: FigureCell[] = [];
  const trainedCells: (FigureCell | undefined)[] = [];
  type Measured = Awaited<ReturnType<typeof mapOf>>;
  const initCache = new Map<string, Measured>();
  const trainedCache = new Map<string, Measured & { accuracy?: number }>();
  const log = (l: string) => {
    if (!opts.json) print(l);
  };
  try {
    for (const col of columns) {
      const model = randomModel(col.config, { seed: opts.seed });
      // the same network (DL Bilat and DW Adapt are both the released one) is measured once
      const initKey = JSON.stringify(col.config);
      const init = initCache.get(initKey) ?? (await mapOf(model, opts.images, backend, opts.batch));
      initCache.set(initKey, init);
      const cfg = col.config;
      const row: ErfTableRow = {
        key: col.key,
        title: col.title,
        dynLinear: cfg.arch === 'wfm' ? (cfg.dynLinear ?? 'bilateral') : '-',
        dynDWConv: cfg.arch === 'wfm' ? (cfg.dynDWConv ?? 'adaptive') : '-',
        params: model.parameterCount,
        mflops: model.cost({ batch: 1 }).flops / 1e6,
        areaInit: init.area,
      };
      await model.dispose();
      rows.push(row);
      initCells.push(init.cell);
      const ck = trained[col.key];
      if (ck) {
        let t = trainedCache.get(ck);
        if (!t) {
          const tm = await openCheckpoint(ck);
          try {
            const m = await mapOf(tm, opts.images, backend, opts.batch);
            const accuracy =
              (opts.accuracyDigits ?? 1) > 0
                ? (await evaluateMnist(tm, backend, { limit: opts.accuracyDigits })).accuracy
                : undefined;
            t = { ...m, accuracy };
            trainedCache.set(ck, t);
          } finally {
            await tm.dispose();
          }
        }
        row.trained = ck;
        row.areaTrained = t.area;
        row.accuracy = t.accuracy;
        trainedCells.push(t.cell);
      } else trainedCells.push(undefined);
      log(
        `${col.key}: params ${row.params}, ${row.mflops.toFixed(2)} MFLOPs, init area 50/90/99% ${areaCaption(row.areaInit)}${row.areaTrained ? `, trained ${areaCaption(row.areaTrained)}` : ''}${row.accuracy !== undefined ? `, acc ${(100 * row.accuracy).toFixed(2)}%` : ''}`,
      );
    }
    const figRows = [{ label: 'init', cells: initCells }];
    if (trainedCells.some(Boolean)) figRows.push({ label: 'trained', cells: trainedCells as FigureCell[] });
    const figure = join(opts.outDir, 'erf-figure3.png');
    await writeFile(
      figure,
      renderFigure({
        title: `ERF, MNIST-size models, ${opts.images}, seed ${opts.seed}`,
        columns: columns.map((c) => c.title),
        rows: figRows,
        cell: 96,
        colorbarLabel: 'erf^0.2/max',
      }),
    );
    const table = join(opts.outDir, 'erf-table.md');
    const lines = [
      `# ERF table (wf erf-figure, ${opts.images}, seed ${opts.seed})`,
      '',
      `| column | dyn_linear | dyn_dwconv | params | MFLOPs (32 px) | test acc | ERF area 50/90/99% (init) | (trained) | trained checkpoint |`,
      '| --- | --- | --- | ---: | ---: | ---: | --- | --- | --- |',
    ];
    for (const r of rowsOf(rows)) lines.push(r);
    let big: string | undefined;
    const bigRuns: ErfFigureResult['big448'] = [];
    const bigRes = opts.bigRes ?? [448];
    if (bigRes.length) {
      const bigRows: { label: string; cells: FigureCell[] }[] = [];
      for (const res of bigRes) {
        const cells: FigureCell[] = [];
        for (const name of ['wfm-tiny', 'deit-tiny'] as const) {
          const model = randomModel(name, { seed: opts.seed });
          const r = await mapOf(model, opts.bigImages ?? 'mnist:2', backend, 1, res);
          await model.dispose();
          cells.push(r.cell);
          bigRuns.push({ model: name, res, area: r.area, seconds: r.seconds });
          log(
            `${name} at ${res} px (random init): area 50/90/99% ${areaCaption(r.area)}, ${r.seconds.toFixed(1)} s`,
          );
        }
        bigRows.push({ label: `${res}px`, cells });
      }
      big = join(opts.outDir, 'erf-wfm-vs-deit.png');
      await writeFile(
        big,
        renderFigure({
          title: `ERF at random init, ${opts.bigImages ?? 'mnist:2'}`,
          columns: ['WFM-T', 'DeiT-T'],
          rows: bigRows,
          cell: 192,
          colorbarLabel: 'erf^0.2/max',
        }),
      );
      lines.push(
        '',
        '| model (random init) | px | ERF area 50/90/99% | seconds |',
        '| --- | ---: | --- | ---: |',
        ...bigRuns.map((b) => `| ${b.model} | ${b.res} | ${areaCaption(b.area)} | ${b.seconds.toFixed(1)} |`),
      );
    }
    await writeFile(table, `${lines.join('\n')}\n`);
    await writeFile(
      join(opts.outDir, 'erf-table.json'),
      `${JSON.stringify({ rows, big: bigRuns }, null, 2)}\n`,
    );
    const result: ErfFigureResult = { figure, table, big, rows, big448: bigRuns };
    if (opts.json) print(JSON.stringify(result));
    else print(`wrote ${figure}, ${table}${big ? ` and ${big}` : ''}`);
    return result;
  } finally {
    backend.dispose();
  }
}

function rowsOf(rows: ErfTableRow[]): string[] {
  return rows.map(
    (r) =>
      `| ${r.title} | ${r.dynLinear} | ${r.dynDWConv} | ${r.params.toLocaleString('en-US')} | ${r.mflops.toFixed(2)} | ${r.accuracy !== undefined ? `${(100 * r.accuracy).toFixed(2)}%` : '-'} | ${areaCaption(r.areaInit)} | ${r.areaTrained ? areaCaption(r.areaTrained) : '-'} | ${r.trained ?? '-'} |`,
  );
}
