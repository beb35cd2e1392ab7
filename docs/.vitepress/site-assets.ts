// Static assets the site serves that live elsewhere in the repository, copied into `docs/public/` (ignored
// by git) when the config loads: the built-in MNIST checkpoints of @wf/models (for the playground) and the
// benchmark results of apps/bench, when a run has produced them.
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DOCS_ROOT, REPO_ROOT } from './api/packages';

/** The checkpoints the playground loads, served at `/models/<name>.safetensors`. */
export const PLAYGROUND_MODELS = ['wfm-mnist', 'vit-mnist'] as const;

/** Where the bench writes its results, unless `WF_BENCH_RESULTS` names another file. */
export function benchResultsPath(): string {
  return process.env.WF_BENCH_RESULTS ?? join(REPO_ROOT, 'apps/bench/results/results.json');
}

/** Copies the checkpoints and (if present) the bench results into `docs/public/`. */
export function copySiteAssets(): { bench: boolean } {
  const models = join(DOCS_ROOT, 'public/models');
  mkdirSync(models, { recursive: true });
  for (const name of PLAYGROUND_MODELS) {
    const from = join(REPO_ROOT, 'packages/models/weights', `${name}.safetensors`);
    if (!existsSync(from)) throw new Error(`docs: missing checkpoint ${from}`);
    copyFileSync(from, join(models, `${name}.safetensors`));
  }
  const benchDir = join(DOCS_ROOT, 'public/bench');
  rmSync(benchDir, { recursive: true, force: true });
  const results = benchResultsPath();
  if (!existsSync(results)) return { bench: false };
  mkdirSync(benchDir, { recursive: true });
  copyFileSync(results, join(benchDir, 'results.json'));
  return { bench: true };
}
