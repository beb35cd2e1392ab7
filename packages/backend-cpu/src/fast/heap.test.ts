// Tests of WasmHeap: alignment, zero fill, the reserved null offset, coalescing, growth and its limit,
// and random alloc/free sequences checked against a model.
import { describe, expect, it } from 'vitest';
import { WasmHeap } from './heap.js';
import { randomInt, seededRandom } from './test-helpers.js';

describe('WasmHeap', () => {
  it('returns 64-byte aligned, zero-filled, non-null blocks over a shared memory', () => {
    const heap = new WasmHeap({ initialBytes: 1 << 16 });
    expect(heap.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    const a = heap.alloc(10);
    expect(a).toBeGreaterThanOrEqual(64);
    expect(a % 64).toBe(0);
    heap.f32(a, 2).set([1, 2]);
    heap.free(a);
    const b = heap.alloc(8);
    expect(b).toBe(a); // first fit reuses the freed block...
    expect([...heap.f32(b, 2)]).toEqual([0, 0]); // ...zero-filled again
    expect(heap.usedBytes).toBe(64);
    expect(heap.alloc(0) % 64).toBe(0);
  });

  it('free is idempotent and ignores unknown offsets (including 0)', () => {
    const heap = new WasmHeap({ initialBytes: 1 << 16 });
    const a = heap.alloc(100);
    heap.free(a);
    heap.free(a);
    heap.free(0);
    heap.free(12345);
    expect(heap.usedBytes).toBe(0);
  });

  it('coalesces free neighbours so that the whole heap can be allocated again', () => {
    const heap = new WasmHeap({ initialBytes: 1 << 16, maximumBytes: 1 << 16 });
    const blocks = [heap.alloc(1000), heap.alloc(64), heap.alloc(5000), heap.alloc(300)];
    for (const i of [1, 3, 0, 2]) heap.free(blocks[i]);
    expect(heap.alloc(heap.capacityBytes - 64)).toBe(64);
  });

  it('grows the memory on demand; old views stay valid, and the maximum is a clear error', () => {
    const heap = new WasmHeap({ initialBytes: 1 << 16, maximumBytes: 1 << 20 });
    const a = heap.alloc(1000);
    const view = heap.f32(a, 4);
    view.set([1, 2, 3, 4]);
    const big = heap.alloc(300_000);
    expect(heap.capacityBytes).toBeGreaterThanOrEqual(300_000 + 1064);
    expect(big % 64).toBe(0);
    expect([...view]).toEqual([1, 2, 3, 4]); // shared memory: growing does not detach
    expect(view.buffer).not.toBe(heap.memory.buffer);
    expect(heap.ownsBuffer(view.buffer)).toBe(true);
    expect(heap.ownsBuffer(heap.memory.buffer)).toBe(true);
    expect(heap.ownsBuffer(new SharedArrayBuffer(8))).toBe(false);
    expect([...heap.f32(a, 4)]).toEqual([1, 2, 3, 4]);
    expect(() => heap.alloc(2 << 20)).toThrow(/above the maximum of 1048576 bytes/);
    heap.free(big);
    expect(heap.alloc(900_000)).toBeGreaterThan(0); // the grown tail is reusable
  });

  it('survives random alloc/free sequences without overlap (seeded)', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const rand = seededRandom(seed);
      const heap = new WasmHeap({ initialBytes: 1 << 16, maximumBytes: 64 << 20 });
      const live = new Map<number, { size: number; tag: number }>();
      for (let step = 0; step < 400; step++) {
        if (live.size > 0 && rand() < 0.45) {
          const keys = [...live.keys()];
          const offset = keys[randomInt(rand, 0, keys.length - 1)];
          const { size, tag } = live.get(offset)!;
          // The block's contents were not disturbed by other blocks.
          const bytes = new Uint8Array(heap.memory.buffer, offset, size);
          expect(bytes.every((b) => b === tag)).toBe(true);
          heap.free(offset);
          live.delete(offset);
        } else {
          const size = randomInt(rand, 0, rand() < 0.1 ? 200_000 : 3000);
          const offset = heap.alloc(size);
          expect(offset % 64).toBe(0);
          expect(offset).toBeGreaterThanOrEqual(64);
          expect(offset + size).toBeLessThanOrEqual(heap.capacityBytes);
          const bytes = new Uint8Array(heap.memory.buffer, offset, size);
          expect(bytes.every((b) => b === 0)).toBe(true);
          for (const [o, b] of live) expect(offset + size <= o || o + b.size <= offset).toBe(true);
          const tag = randomInt(rand, 1, 255);
          bytes.fill(tag);
          live.set(offset, { size, tag });
        }
        const expectedUsed = [...live.values()].reduce(
          (s, b) => s + Math.max(64, Math.ceil(b.size / 64) * 64),
          0,
        );
        expect(heap.usedBytes).toBe(expectedUsed);
      }
      for (const offset of live.keys()) heap.free(offset);
      expect(heap.usedBytes).toBe(0);
      // Everything coalesced back into a single free block.
      expect(heap.alloc(heap.capacityBytes - 64)).toBe(64);
    }
  });
});
