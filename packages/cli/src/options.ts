// The options that several `wf` commands share, defined once: their parsers (positive integers, numbers,
// pixel counts, resolutions N or WxH) and factories that add them to a command with the same spelling,
// help and checks everywhere. A new command picks the ones it needs from here.
import { InvalidArgumentError, Option } from 'commander';

/** Largest `--threads`: more worker threads than this only exhausts the machine. */
export const MAX_THREADS = 256;

/**
 * Parser of a positive integer option. BUG FIX: it accepted 0 (and integers past 2^53), so `--digits 0`
 * printed "accuracy NaN%" and `--heads 0` was taken as given, although the message says "positive".
 */
export function int(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1 || n > max) {
      throw new InvalidArgumentError(
        `${name} must be a positive integer${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}`,
      );
    }
    return n;
  };
}

/** Parser of a finite number option. */
export function float(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
    return n;
  };
}

/** Parser of `--max-pixels`: a positive integer, also written like 1e8. */
export function pixels(v: string): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?(e\+?\d+)?$/i.test(v) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('--max-pixels must be a positive integer number of pixels, e.g. 1e8');
  }
  return n;
}

/** A resolution from `--res`: width and height in pixels. */
export interface Resolution {
  width: number;
  height: number;
}

/** Parser of `--res`: `N` (square) or `WxH` (width x height), positive integers. */
export function resolution(v: string): Resolution {
  const m = /^(\d+)(?:[xX](\d+))?$/.exec(v.trim());
  const width = m ? Number(m[1]) : Number.NaN;
  const height = m?.[2] !== undefined ? Number(m[2]) : width;
  if (
    !m ||
    !(width >= 1) ||
    !(height >= 1) ||
    !Number.isSafeInteger(width) ||
    !Number.isSafeInteger(height)
  ) {
    throw new InvalidArgumentError(
      '--res must be a positive integer N or WxH (width x height), e.g. 224 or 320x224',
    );
  }
  return { width, height };
}

/** `--model`: every command that loads a checkpoint takes it this way. */
export const modelOption = (description = 'a built-in model name, a .safetensors path or a URL') =>
  new Option('--model <name|file|url>', description);

/** `--variant`: the named configuration of a checkpoint that does not say its own. */
export const variantOption = () =>
  new Option(
    '--variant <name>',
    'named variant whose configuration fills what the checkpoint does not say (e.g. wfm-tiny, deit-small)',
  );

/** `--arch`: force the architecture. */
export const archOption = () =>
  new Option('--arch <arch>', 'architecture (default: from metadata/config/shapes)').choices([
    'wfm',
    'vit',
    'wfm-dit',
  ]);

/** `--heads`: attention heads of ViT checkpoints. */
export const headsOption = () =>
  new Option('--heads <n>', 'attention heads (vit checkpoints)').argParser(int('--heads'));

/** `--res`: input resolution. */
export const resOption = (description: string) =>
  new Option('--res <N|WxH>', description).argParser(resolution);

/** `--backend`. */
export const backendOption = () =>
  new Option('--backend <name>', 'cpu[:plain], gpujs[:mode] or ort[:web|:cuda]').default('cpu');

/** `--threads` of the cpu backend. */
export const threadsOption = () =>
  new Option(
    '--threads <n>',
    'cpu backend: threads for matrix products; ort: intra-op threads (default: all cores)',
  ).argParser(int('--threads', MAX_THREADS));

/** `--json`: machine-readable output (errors too). */
export const jsonOption = () => new Option('--json', 'print results (and errors) as JSON');

/** `--max-pixels`. */
export const maxPixelsOption = () =>
  new Option(
    '--max-pixels <n>',
    'largest image accepted, in pixels, checked before decoding (default: 1e8)',
  ).argParser(pixels);

/** `--no-progress`: no download or evaluation progress bar. */
export const noProgressOption = () => new Option('--no-progress', 'no progress bar');
