// Any image a user has, as 8-bit RGBA pixels: decoded pixels or canvas ImageData as they are; an
// ImageBitmap (or image / canvas element) drawn on an OffscreenCanvas; a Blob, bytes, a URL or (Node) a
// file path decoded by the browser's own decoders in browsers and by the @wf/models/node decoders in Node.
import { WfError } from '@wf/core';
import { type FetchOptions, fetchBytes } from '../fetch.js';
import { assertRgbaImage, type RgbaImage } from './preprocess.js';

/** Something drawable on a canvas (ImageBitmap, HTMLImageElement, HTMLCanvasElement, VideoFrame...). */
export interface DrawableImage {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
}

/**
 * An image: a file path (Node), a URL (`http(s):`, `data:`, `blob:`, `file:`), a Blob, the bytes of an
 * image file, decoded RGBA pixels (`{ width, height, data }`, e.g. canvas `ImageData`), or an ImageBitmap
 * or other canvas-drawable image (browsers).
 */
export type ImageInput = string | URL | Blob | Uint8Array | ArrayBuffer | RgbaImage | DrawableImage;

/** Options of {@link readImage}. */
export interface ReadImageOptions extends Pick<FetchOptions, 'fetch' | 'signal' | 'timeoutMs'> {
  /** Largest image accepted, in pixels (Node decoders; checked from the header before decoding). */
  maxPixels?: number;
}

/** The Node decoders (@wf/models/node), loaded on first use so that browser bundles never see them. */
interface NodeDecoders {
  decodeImage(bytes: Uint8Array, opts?: { maxPixels?: number }): Promise<RgbaImage>;
  loadImageFile(path: string, opts?: { maxPixels?: number }): Promise<RgbaImage>;
}

let nodeDecoders: NodeDecoders | undefined;

/** Used by @wf/models/node to hand its decoders over (saves the dynamic import). @internal */
export function registerNodeDecoders(d: NodeDecoders): void {
  nodeDecoders = d;
}

function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

async function decoders(): Promise<NodeDecoders> {
  if (nodeDecoders) return nodeDecoders;
  const spec = '@wf/models/node';
  const m = (await import(/* @vite-ignore */ spec)) as {
    decodeImageAsync: NodeDecoders['decodeImage'];
    loadImageFile: NodeDecoders['loadImageFile'];
  };
  nodeDecoders = { decodeImage: m.decodeImageAsync, loadImageFile: m.loadImageFile };
  return nodeDecoders;
}

function hasCanvas(): boolean {
  return typeof OffscreenCanvas !== 'undefined' && typeof createImageBitmap !== 'undefined';
}

/** Draws an image on an OffscreenCanvas and reads its pixels back. */
function drawToPixels(img: DrawableImage): RgbaImage {
  const { width, height } = img;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new WfError('E_IMAGE', 'cannot read the image: no 2d canvas context in this environment');
  ctx.drawImage(img as unknown as CanvasImageSource, 0, 0);
  return ctx.getImageData(0, 0, width, height);
}

async function decodeBytes(bytes: Uint8Array, opts: ReadImageOptions, where: string): Promise<RgbaImage> {
  if (!isNode() && hasCanvas()) {
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]));
    } catch (e) {
      throw new WfError(
        'E_IMAGE',
        `${where}: the browser cannot decode this image (${(e as Error).message})`,
        {
          cause: e,
        },
      );
    }
    try {
      return drawToPixels(bitmap);
    } finally {
      bitmap.close();
    }
  }
  const d = await decoders();
  try {
    return await d.decodeImage(bytes, { maxPixels: opts.maxPixels });
  } catch (e) {
    if (e instanceof WfError) throw new WfError(e.code, `${where}: ${e.message}`, { cause: e });
    throw e;
  }
}

function isUrlString(s: string): boolean {
  return /^(https?|data|blob):/i.test(s);
}

/**
 * Reads any {@link ImageInput} as 8-bit RGBA pixels.
 *
 * @throws {WfError} `E_IMAGE` for an undecodable or malformed image, `E_IO` for a file or URL that cannot be
 *   read (one line naming it).
 */
export async function readImage(input: ImageInput, opts: ReadImageOptions = {}): Promise<RgbaImage> {
  if (input instanceof Uint8Array) return decodeBytes(input, opts, 'image bytes');
  if (input instanceof ArrayBuffer) return decodeBytes(new Uint8Array(input), opts, 'image bytes');
  if (typeof Blob !== 'undefined' && input instanceof Blob) {
    return decodeBytes(new Uint8Array(await input.arrayBuffer()), opts, 'image blob');
  }
  if (typeof input === 'string' || input instanceof URL) {
    const s = String(input);
    if (isUrlString(s) || (!isNode() && !/^file:/i.test(s))) {
      const url = isUrlString(s) || typeof location === 'undefined' ? s : new URL(s, location.href).href;
      return decodeBytes(await fetchBytes(url, opts), opts, url);
    }
    const path = /^file:/i.test(s) ? decodeURIComponent(new URL(s).pathname) : s;
    return (await decoders()).loadImageFile(path, { maxPixels: opts.maxPixels });
  }
  if (input && typeof input === 'object' && 'data' in input) {
    assertRgbaImage(input as RgbaImage, 'image');
    return input as RgbaImage;
  }
  if (input && typeof input === 'object' && 'width' in input && 'height' in input && hasCanvas()) {
    return drawToPixels(input);
  }
  throw new WfError(
    'E_IMAGE',
    `cannot read an image from ${input === null ? 'null' : typeof input}; pass a path, a URL, a Blob, image bytes, ImageData or { width, height, data } RGBA pixels`,
  );
}
