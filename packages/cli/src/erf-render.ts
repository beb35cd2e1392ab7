// Draws effective-receptive-field maps as PNG figures: a grid of heatmaps (rows x columns) on one shared
// colour scale with one colour bar, column titles, row labels and caption lines under each map. Text is
// drawn with the pixel font of js-pixel-fonts, colours come from d3-scale-chromatic, pngjs encodes.
import type { TensorData } from '@wf/core';
import { interpolateViridis } from 'd3-scale-chromatic';
import { fonts, renderPixels } from 'js-pixel-fonts';
import { PNG } from 'pngjs';

/** One map of a figure with the lines printed under it. */
export interface FigureCell {
  /** The map `[H, W]`; values are drawn on the figure's colour scale (e.g. `erf_norm` in [0, 1]). */
  map: TensorData;
  /** Lines printed under the map. */
  caption?: string[];
}

/** A figure: a grid of maps with titles; `undefined` cells are left blank. */
export interface Figure {
  /** Title printed at the top. */
  title?: string;
  /** One title per column. */
  columns: string[];
  /** Rows: a label and one cell per column. */
  rows: { label: string; cells: (FigureCell | undefined)[] }[];
  /** Colour scale limits (default 0 and 1). */
  vmin?: number;
  /** Upper limit of the colour scale (default 1). */
  vmax?: number;
  /** Label of the colour bar. */
  colorbarLabel?: string;
  /** Side of each drawn map in pixels (default 128). */
  cell?: number;
}

type Rgb = [number, number, number];

function parseRgb(s: string): Rgb {
  const m = /rgb\((\d+),\s*(\d+),\s*(\d+)\)/.exec(s);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  const h = /^#([0-9a-f]{6})$/i.exec(s);
  if (h) {
    const v = Number.parseInt(h[1], 16);
    return [v >> 16, (v >> 8) & 255, v & 255];
  }
  throw new Error(`internal: colour ${s}`);
}

const LUT: Rgb[] = Array.from({ length: 256 }, (_, i) => parseRgb(interpolateViridis(i / 255)));

class Canvas {
  readonly png: PNG;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.png = new PNG({ width, height });
    this.png.data.fill(255);
  }
  set(x: number, y: number, [r, g, b]: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 4;
    this.png.data[i] = r;
    this.png.data[i + 1] = g;
    this.png.data[i + 2] = b;
    this.png.data[i + 3] = 255;
  }
  rect(x: number, y: number, w: number, h: number, c: Rgb): void {
    for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) this.set(x + i, y + j, c);
  }
  /** Text with its top-left corner at (x, y); `align` centre puts x at the middle. Returns its width. */
  text(s: string, x: number, y: number, opts: { scale?: number; align?: 'left' | 'center' } = {}): number {
    const scale = opts.scale ?? 1;
    const rows = s ? renderPixels(s, fonts.sevenPlus) : [];
    const w = (rows[0]?.length ?? 0) * scale;
    const x0 = opts.align === 'center' ? Math.round(x - w / 2) : x;
    rows.forEach((row, j) => {
      row.forEach((on, i) => {
        if (on) this.rect(x0 + i * scale, y + j * scale, scale, scale, [0, 0, 0]);
      });
    });
    return w;
  }
  encode(): Buffer {
    return PNG.sync.write(this.png);
  }
}

const LINE = 10; // height of one line of 7-pixel text plus spacing

/** Width in pixels of `s` in the figure font. */
function textWidth(s: string): number {
  return s ? (renderPixels(s, fonts.sevenPlus)[0]?.length ?? 0) : 0;
}

/** Colour of value `v` on the scale [vmin, vmax]. */
export function colourOf(v: number, vmin: number, vmax: number): Rgb {
  const t = vmax > vmin ? (v - vmin) / (vmax - vmin) : 0;
  const k = Math.max(0, Math.min(255, Math.round((Number.isFinite(t) ? t : 0) * 255)));
  return LUT[k];
}

/** Renders a figure to PNG bytes. */
export function renderFigure(fig: Figure): Buffer {
  const cell = fig.cell ?? 128;
  const vmin = fig.vmin ?? 0;
  const vmax = fig.vmax ?? 1;
  const nCols = fig.columns.length;
  const captionLines = Math.max(0, ...fig.rows.flatMap((r) => r.cells.map((c) => c?.caption?.length ?? 0)));
  const labelW =
    Math.max(0, ...fig.rows.map((r) => textWidth(r.label))) + (fig.rows.some((r) => r.label) ? 10 : 0);
  const colW = Math.max(
    cell,
    ...fig.columns.map((c) => textWidth(c) + 6),
    ...fig.rows.flatMap((r) => r.cells.flatMap((c) => (c?.caption ?? []).map((l) => textWidth(l) + 6))),
  );
  const pad = 8;
  const titleH = fig.title ? 2 * LINE + 4 : 0;
  const headH = LINE + 4;
  const rowH = cell + 4 + captionLines * LINE + 8;
  const barW = 16;
  const barLabelW = Math.max(textWidth(vmax.toFixed(2)), textWidth(vmin.toFixed(2)), 0) + 8;
  const width =
    pad + labelW + nCols * colW + pad + barW + barLabelW + pad + (fig.colorbarLabel ? LINE + 4 : 0);
  const height = pad + titleH + headH + fig.rows.length * rowH + pad;
  const cv = new Canvas(width, height);
  if (fig.title) cv.text(fig.title, Math.round(width / 2), pad, { scale: 2, align: 'center' });
  const top = pad + titleH;
  fig.columns.forEach((c, j) => {
    cv.text(c, pad + labelW + j * colW + colW / 2, top, { align: 'center' });
  });
  fig.rows.forEach((row, r) => {
    const y0 = top + headH + r * rowH;
    cv.text(row.label, pad, y0 + Math.round(cell / 2) - 4);
    row.cells.forEach((c, j) => {
      if (!c) return;
      const x0 = pad + labelW + j * colW + Math.round((colW - cell) / 2);
      const [h, w] = c.map.shape;
      const side = Math.max(h, w);
      const dh = Math.round((cell * h) / side);
      const dw = Math.round((cell * w) / side);
      for (let y = 0; y < dh; y++) {
        const sy = Math.min(h - 1, Math.floor((y * h) / dh));
        for (let x = 0; x < dw; x++) {
          const sx = Math.min(w - 1, Math.floor((x * w) / dw));
          cv.set(x0 + x, y0 + y, colourOf(c.map.data[sy * w + sx], vmin, vmax));
        }
      }
      (c.caption ?? []).forEach((line, k) => {
        cv.text(line, pad + labelW + j * colW + colW / 2, y0 + cell + 4 + k * LINE, { align: 'center' });
      });
    });
  });
  // the colour bar, beside the grid, as tall as the maps of all rows
  const bx = pad + labelW + nCols * colW + pad;
  const by = top + headH;
  const bh = Math.max(cell, fig.rows.length * rowH - rowH + cell);
  for (let y = 0; y < bh; y++) {
    const v = vmax - ((vmax - vmin) * y) / Math.max(1, bh - 1);
    cv.rect(bx, by + y, barW, 1, colourOf(v, vmin, vmax));
  }
  cv.text(vmax.toFixed(2), bx + barW + 4, by);
  cv.text(vmin.toFixed(2), bx + barW + 4, by + bh - 7);
  if (fig.colorbarLabel) {
    // the label, one character per line, to the right of the numbers
    const lx = bx + barW + barLabelW;
    [...fig.colorbarLabel].forEach((ch, k) => {
      cv.text(ch, lx, by + k * LINE);
    });
  }
  return cv.encode();
}

/** One heatmap with a colour bar (the `--png` of `wf erf`): `map` on [0, 1] (e.g. `erf_norm`). */
export function renderHeatmap(map: TensorData, title?: string, caption?: string[]): Buffer {
  const [h, w] = map.shape;
  const cell = Math.max(128, Math.min(512, Math.max(h, w) * Math.max(1, Math.floor(256 / Math.max(h, w)))));
  return renderFigure({
    title,
    columns: [''],
    rows: [{ label: '', cells: [{ map, caption }] }],
    cell,
    colorbarLabel: 'erf^0.2/max',
  });
}
