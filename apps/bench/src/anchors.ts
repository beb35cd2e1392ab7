// The PyTorch reference's timings (`../shared/anchors/pytorch-h200-timings.json`), turned into labelled
// anchor curves. They come from another machine (an NVIDIA H200 host with 16 CPU cores): the report
// draws them for their shape only, never as a comparison of absolute times.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnchorSeries, ModelId, WorkloadId } from './schema.js';

interface AnchorFileRow {
  scope: 'model' | 'block';
  dev: string;
  threads: number | null;
  model: string;
  tokens: number;
  ms_median: number;
}

const MODEL_OF: Record<string, { workload: WorkloadId; model: ModelId }> = {
  'wfm-dynblock': { workload: 'blocks', model: 'wfm-block' },
  'vit-block': { workload: 'blocks', model: 'attn-block' },
  'wfm-tiny': { workload: 'models', model: 'wfm-tiny' },
  'deit-tiny': { workload: 'models', model: 'deit-tiny' },
};

/** Relative path of the anchors file inside the shared folder. */
export const ANCHORS_FILE = 'anchors/pytorch-h200-timings.json';

/** Parses the anchors file's JSON into one series per (network, device, threads). */
export function parseAnchors(json: unknown, source = ANCHORS_FILE): AnchorSeries[] {
  const file = json as { rows?: AnchorFileRow[]; cuda?: string; cpus?: number };
  const series = new Map<string, AnchorSeries>();
  for (const row of file.rows ?? []) {
    const m = MODEL_OF[row.model];
    if (!m || !(row.ms_median > 0) || !(row.tokens > 0)) continue;
    const device = row.dev === 'cuda' ? (file.cuda ?? 'GPU') : `CPU, ${row.threads ?? '?'} threads`;
    const key = `${row.model}|${row.dev}|${row.threads}`;
    let s = series.get(key);
    if (!s) {
      s = {
        label: `PyTorch ${row.model} (${device})`,
        note: 'another machine: shape only',
        source,
        device: row.dev,
        threads: row.threads,
        workload: m.workload,
        model: m.model,
        points: [],
      };
      series.set(key, s);
    }
    s.points.push({ tokens: row.tokens, ms: row.ms_median });
  }
  for (const s of series.values()) s.points.sort((a, b) => a.tokens - b.tokens);
  return [...series.values()];
}

/** Reads the anchors from the shared folder; an empty list when the file is absent. */
export function loadAnchors(sharedDir: string | null): AnchorSeries[] {
  if (!sharedDir) return [];
  const path = join(sharedDir, ANCHORS_FILE);
  if (!existsSync(path)) return [];
  return parseAnchors(JSON.parse(readFileSync(path, 'utf8')), ANCHORS_FILE);
}
