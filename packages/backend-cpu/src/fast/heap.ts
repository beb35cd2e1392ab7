// A heap inside one WebAssembly.Memory, so that the WebAssembly kernels (on the main thread and in worker
// threads) can all address the same tensors by byte offset. A first-fit free list with coalescing; blocks
// are 64-byte aligned (one cache line, and a multiple of the 16 bytes of a v128) and zero-filled.
// The memory grows on demand up to a fixed maximum. It is shared where SharedArrayBuffer exists (Node, and
// cross-origin isolated pages): growing a shared memory never detaches existing views (they keep their
// length, so take fresh views with `f32`/`i32` after allocating). Elsewhere (an ordinary web page) it is a
// plain memory, usable from one thread only, and growing it DETACHES every view of the old buffer: users
// watch `generation` (bumped by every growth) and take fresh views with `f32`/`i32`.

/** Size and alignment of every block, in bytes. */
const ALIGN = 64;
/** Bytes of one WebAssembly page. */
const PAGE = 65536;
/** Largest heap: 2 GiB - 64 KiB (offsets and end offsets stay below 2^31). */
export const MAX_HEAP_BYTES = 2 ** 31 - PAGE;

/** Options for `WasmHeap`. */
export interface WasmHeapOptions {
  /** Initial memory size in bytes (rounded up to whole 64 KiB pages; default 16 MiB). */
  initialBytes?: number;
  /**
   * Maximum memory size in bytes (rounded up to whole pages; default 1 GiB). At most `MAX_HEAP_BYTES`
   * (2 GiB - 64 KiB), so that every byte offset and end offset is a positive i32 in the kernels' arithmetic.
   */
  maximumBytes?: number;
  /**
   * Shared memory (usable from worker threads; needs SharedArrayBuffer) or a plain one (one thread; growing
   * it detaches old views). Default: shared where SharedArrayBuffer exists ({@link sharedMemoryAvailable}).
   */
  shared?: boolean;
}

/**
 * Whether this runtime can create shared memory and send it to workers: SharedArrayBuffer exists and, in a
 * browser, the page is cross-origin isolated.
 */
export function sharedMemoryAvailable(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  return isolated !== false;
}

/** A free range [offset, offset + size) of the heap. */
interface FreeBlock {
  offset: number;
  size: number;
}

/** Rounds `n` up to a multiple of `m`. */
function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/**
 * A first-fit allocator over a shared `WebAssembly.Memory`. Offsets are byte offsets into `memory.buffer`,
 * 64-byte aligned; offset 0 is never returned (bytes 0..63 are reserved), so 0 can mean "null" in the
 * kernels' arguments.
 */
export class WasmHeap {
  /** The memory all kernels import as `env.memory`. */
  readonly memory: WebAssembly.Memory;
  /** Whether `memory` is shared (workers may use it) or plain (one thread; growth detaches views). */
  readonly shared: boolean;
  /** Number of growths so far: views taken before a growth of a plain memory are detached. */
  generation = 0;
  /** Maximum size of `memory` in 64 KiB pages. */
  readonly maximumPages: number;
  /** Free ranges sorted by offset, never adjacent (adjacent ranges are coalesced). */
  private readonly freeList: FreeBlock[] = [];
  /** Size of each live allocation, by offset. */
  private readonly live = new Map<number, number>();
  private used = 0;
  /** Every ArrayBuffer object the memory has exposed (a new one after each growth). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();

  constructor(opts: WasmHeapOptions = {}) {
    const maximumBytes = opts.maximumBytes ?? 1 << 30;
    const initialBytes = Math.min(opts.initialBytes ?? 16 << 20, maximumBytes);
    if (!(maximumBytes > 0) || maximumBytes > MAX_HEAP_BYTES) {
      throw new RangeError(`WasmHeap: maximumBytes must be in (0, ${MAX_HEAP_BYTES}], got ${maximumBytes}`);
    }
    this.maximumPages = Math.ceil(maximumBytes / PAGE);
    const initialPages = Math.max(1, Math.ceil(initialBytes / PAGE));
    this.shared = opts.shared ?? sharedMemoryAvailable();
    if (this.shared && typeof SharedArrayBuffer === 'undefined')
      throw new RangeError('WasmHeap: shared memory needs SharedArrayBuffer; pass shared: false');
    this.memory = new WebAssembly.Memory({
      initial: initialPages,
      maximum: this.maximumPages,
      shared: this.shared,
    });
    this.freeList.push({ offset: ALIGN, size: this.capacityBytes - ALIGN });
    this.buffers.add(this.memory.buffer);
  }

  /**
   * Whether `buffer` is (a view's buffer of) this heap's memory, before or after any growth: growing a
   * memory gives `memory.buffer` a new object, while views made earlier keep the old one.
   */
  ownsBuffer(buffer: ArrayBufferLike): boolean {
    this.buffers.add(this.memory.buffer); // in case the memory was grown by someone else
    return this.buffers.has(buffer);
  }

  /** Bytes currently allocated (sum of live block sizes, each rounded up to 64 bytes). */
  get usedBytes(): number {
    return this.used;
  }

  /** Current size of the memory in bytes (grows on demand). */
  get capacityBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Allocates `bytes` (rounded up to a multiple of 64; at least 64) and returns the byte offset of the
   * zero-filled block. Grows the memory if no free block is large enough; throws a RangeError when that would
   * exceed the maximum size. `zero: false` skips the zero fill, for a block its user overwrites whole before
   * reading (a packed operand, a copy, a product's output).
   */
  alloc(bytes: number, options: { zero?: boolean } = {}): number {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`WasmHeap.alloc: invalid size ${bytes}`);
    const size = Math.max(ALIGN, roundUp(bytes, ALIGN));
    let index = this.freeList.findIndex((b) => b.size >= size);
    if (index < 0) {
      this.grow(size);
      index = this.freeList.findIndex((b) => b.size >= size);
    }
    const block = this.freeList[index];
    const offset = block.offset;
    if (block.size === size) this.freeList.splice(index, 1);
    else {
      block.offset += size;
      block.size -= size;
    }
    this.live.set(offset, size);
    this.used += size;
    if (options.zero ?? true) new Uint8Array(this.memory.buffer, offset, size).fill(0);
    return offset;
  }

  /** Returns the block at `offset` to the heap. Freeing 0, or an offset that is not live, does nothing. */
  free(offset: number): void {
    const size = this.live.get(offset);
    if (size === undefined) return;
    this.live.delete(offset);
    this.used -= size;
    this.insertFree(offset, size);
  }

  /** Size in bytes of the live block at `offset` (0 if none). */
  sizeOf(offset: number): number {
    return this.live.get(offset) ?? 0;
  }

  /** A Float32Array view of `length` floats at byte `offset` over the current buffer. */
  f32(offset: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, offset, length);
  }

  /** An Int32Array view of `length` ints at byte `offset` over the current buffer. */
  i32(offset: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, offset, length);
  }

  /** Inserts [offset, offset + size) into the sorted free list, merging with its neighbours. */
  private insertFree(offset: number, size: number): void {
    const list = this.freeList;
    // First free block after `offset` (binary search: the list is sorted by offset).
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].offset < offset) lo = mid + 1;
      else hi = mid;
    }
    const prev = lo > 0 ? list[lo - 1] : undefined;
    const next = lo < list.length ? list[lo] : undefined;
    if (prev && prev.offset + prev.size === offset) {
      prev.size += size;
      if (next && prev.offset + prev.size === next.offset) {
        prev.size += next.size;
        list.splice(lo, 1);
      }
    } else if (next && offset + size === next.offset) {
      next.offset = offset;
      next.size += size;
    } else {
      list.splice(lo, 0, { offset, size });
    }
  }

  /** Grows the memory so that a block of `size` bytes fits at its end (at least doubling, up to the max). */
  private grow(size: number): void {
    const oldBytes = this.capacityBytes;
    const last = this.freeList[this.freeList.length - 1];
    const tailFree = last && last.offset + last.size === oldBytes ? last.size : 0;
    const neededPages = Math.ceil((oldBytes + size - tailFree) / PAGE);
    const currentPages = oldBytes / PAGE;
    if (neededPages > this.maximumPages) {
      throw new RangeError(
        `WasmHeap: cannot allocate ${size} bytes: ${this.used} bytes in use, capacity would need ` +
          `${neededPages * PAGE} bytes, above the maximum of ${this.maximumPages * PAGE} bytes`,
      );
    }
    const targetPages = Math.min(this.maximumPages, Math.max(neededPages, currentPages * 2));
    this.memory.grow(targetPages - currentPages);
    this.generation++;
    this.buffers.add(this.memory.buffer);
    this.insertFree(oldBytes, this.capacityBytes - oldBytes);
  }
}
