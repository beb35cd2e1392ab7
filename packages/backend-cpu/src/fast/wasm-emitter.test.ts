// Tests of the WebAssembly binary builder: encodings, and tiny emitted modules that validate and compute.
import { describe, expect, it } from 'vitest';
import { WasmHeap } from './heap.js';
import { ModuleBuilder, op, relaxedSimdSupported, simdSupported, sleb128, uleb128 } from './wasm-emitter.js';

/** Instantiates a module built by `build` (importing the heap's memory if it declares one). */
function instantiate(m: ModuleBuilder, heap?: WasmHeap): Record<string, (...args: number[]) => number> {
  const bytes = m.build();
  expect(WebAssembly.validate(bytes)).toBe(true);
  const imports: WebAssembly.Imports = heap ? { env: { memory: heap.memory } } : {};
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), imports).exports as Record<
    string,
    (...args: number[]) => number
  >;
}

describe('LEB128', () => {
  it('encodes unsigned values', () => {
    expect(uleb128(0)).toEqual([0]);
    expect(uleb128(127)).toEqual([0x7f]);
    expect(uleb128(128)).toEqual([0x80, 0x01]);
    expect(uleb128(261)).toEqual([0x85, 0x02]);
    expect(uleb128(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(uleb128(0xffffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(() => uleb128(-1)).toThrow(RangeError);
  });

  it('encodes signed values', () => {
    expect(sleb128(0)).toEqual([0]);
    expect(sleb128(63)).toEqual([0x3f]);
    expect(sleb128(64)).toEqual([0xc0, 0x00]);
    expect(sleb128(-1)).toEqual([0x7f]);
    expect(sleb128(-64)).toEqual([0x40]);
    expect(sleb128(-65)).toEqual([0xbf, 0x7f]);
    expect(sleb128(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb128(-0x80000000)).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
  });
});

describe('ModuleBuilder', () => {
  it('builds scalar i32 / f32 functions', () => {
    const m = new ModuleBuilder();
    m.addFunction(['i32', 'i32'], ['i32'], 'add').fn.emit(op.i32Add(op.localGet(0), op.localGet(1)));
    m.addFunction(['f32', 'f32'], ['f32'], 'fma').fn.emit(
      op.f32Add(op.f32Mul(op.localGet(0), op.localGet(1)), op.f32Const(0.5)),
    );
    m.addFunction(['i32'], ['i32'], 'big').fn.emit(op.i32Sub(op.localGet(0), op.i32Const(-123456)));
    const ex = instantiate(m);
    expect(ex.add(2, 40)).toBe(42);
    expect(ex.fma(3, 4)).toBe(12.5);
    expect(ex.big(4)).toBe(123460);
  });

  it('builds loops with locals and calls (sum 1..n and a recursive helper)', () => {
    const m = new ModuleBuilder();
    const sq = m.addFunction(['i32'], ['i32']);
    sq.fn.emit(op.i32Mul(op.localGet(0), op.localGet(0)));
    const { fn } = m.addFunction(['i32'], ['i32'], 'sumSquares');
    const [n] = fn.params;
    const i = fn.local('i32');
    const s = fn.local('i32');
    fn.emit(
      op.block(
        op.loop(
          op.brIf(1, op.i32GeS(op.localGet(i), op.localGet(n))),
          op.localSet(i, op.i32Add(op.localGet(i), op.i32Const(1))),
          op.localSet(s, op.i32Add(op.localGet(s), op.call(sq.index, op.localGet(i)))),
          op.br(0),
        ),
      ),
      op.localGet(s),
    );
    expect(instantiate(m).sumSquares(10)).toBe(385);
  });

  it('imports a shared memory and runs f32x4 SIMD with memarg offsets', () => {
    const heap = new WasmHeap({ initialBytes: 1 << 16, maximumBytes: 1 << 20 });
    const m = new ModuleBuilder();
    m.importMemory({
      module: 'env',
      name: 'memory',
      initialPages: 1,
      maximumPages: heap.maximumPages,
      shared: true,
    });
    // axpy4(x, y, a): y[4..8) = a * x[0..4) + y[4..8) (the +16 is a memarg offset); returns lane 2.
    const { fn } = m.addFunction(['i32', 'i32', 'f32'], ['f32'], 'axpy4');
    const [x, y, a] = fn.params;
    const v = fn.local('v128');
    fn.emit(
      op.localSet(
        v,
        op.f32x4Add(
          op.f32x4Mul(op.f32x4Splat(op.localGet(a)), op.v128Load(op.localGet(x))),
          op.v128Load(op.localGet(y), { offset: 16 }),
        ),
      ),
      op.v128Store(op.localGet(y), op.localGet(v), { offset: 16 }),
      op.f32x4ExtractLane(op.localGet(v), 2),
    );
    m.addFunction([], ['f32'], 'constLane').fn.emit(
      op.f32x4ExtractLane(op.v128ConstF32x4([1, 2, 3.5, 4]), 2),
    );
    m.addFunction(['i32'], ['f32'], 'splatLoad').fn.emit(
      op.f32x4ExtractLane(op.v128Load32Splat(op.localGet(0), { offset: 4 }), 3),
    );
    const ex = instantiate(m, heap);
    const xp = heap.alloc(16);
    const yp = heap.alloc(32);
    heap.f32(xp, 4).set([1, 2, 3, 4]);
    heap.f32(yp, 8).set([0, 0, 0, 0, 10, 20, 30, 40]);
    expect(ex.axpy4(xp, yp, 2)).toBe(36);
    expect([...heap.f32(yp, 8)]).toEqual([0, 0, 0, 0, 12, 24, 36, 48]);
    expect(ex.constLane()).toBe(3.5);
    expect(ex.splatLoad(xp)).toBe(2);
  });

  it('reports SIMD support, and relaxed madd computes a * b + c where validated', () => {
    expect(simdSupported()).toBe(true);
    const m = new ModuleBuilder();
    m.addFunction(['f32', 'f32', 'f32'], ['f32'], 'madd').fn.emit(
      op.f32x4ExtractLane(
        op.f32x4RelaxedMadd(
          op.f32x4Splat(op.localGet(0)),
          op.f32x4Splat(op.localGet(1)),
          op.f32x4Splat(op.localGet(2)),
        ),
        1,
      ),
    );
    const bytes = m.build();
    expect(WebAssembly.validate(bytes)).toBe(relaxedSimdSupported());
    if (relaxedSimdSupported()) {
      const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as Record<
        string,
        (...a: number[]) => number
      >;
      expect(ex.madd(3, 4, 5)).toBe(17);
    }
  });
});
