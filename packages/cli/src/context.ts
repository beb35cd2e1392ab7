// What a command's action gets besides its options: where to print, how to warn, whether to draw progress.
import type { LoadProgress } from '@wf/models';
import cliProgress from 'cli-progress';

/** Where commands print. */
export interface CommandContext {
  /** Writes one line of normal output (stdout). */
  out: (line: string) => void;
  /** Writes one line of error output (stderr). */
  err: (line: string) => void;
  /** Prints a one-line warning, `wf: warning: <text>`, on stderr. */
  warn: (text: string) => void;
  /** True when stderr is a terminal (progress bars are drawn only then). */
  interactive: boolean;
}

/**
 * A download progress callback that draws a bar on stderr when it is a terminal (and `enabled`); returns
 * the callback and a function that removes the bar.
 */
export function downloadProgress(
  ctx: CommandContext,
  what: string,
  enabled = true,
): { onProgress?: (p: LoadProgress) => void; done: () => void } {
  if (!ctx.interactive || !enabled) return { done: () => {} };
  let bar: cliProgress.SingleBar | undefined;
  return {
    onProgress: (p) => {
      if (p.cached) return;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            format: `${what} [{bar}] {percentage}% {value}/{total} MB`,
            stream: process.stderr,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(Math.round((p.total ?? p.loaded) / 1e5) / 10, 0);
      }
      if (p.total) bar.setTotal(Math.round(p.total / 1e5) / 10);
      bar.update(Math.round(p.loaded / 1e5) / 10);
    },
    done: () => bar?.stop(),
  };
}
