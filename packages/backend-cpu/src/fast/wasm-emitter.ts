// A small WebAssembly binary builder, so that the fast CPU kernels can be generated from TypeScript at load
// time with no external compiler toolchain. It covers exactly what the kernels need: functions with
// locals, an imported (shared) memory, mutable i32 globals, exports, structured control flow, scalar
// i32/f32 arithmetic and the 128-bit SIMD (`0xfd` prefix) instructions, including relaxed-SIMD
// `f32x4.relaxed_madd`.
//
// Code is written in the "folded" style of the WebAssembly text format: every instruction constructor
// takes its operand expressions first and returns them followed by its own opcode, e.g.
//
//   op.localSet(sum, op.f32Add(op.localGet(sum), op.f32Load(op.localGet(ptr))))
//
// emits `local.get sum; local.get ptr; f32.load; f32.add; local.set sum`. Code fragments are nested arrays
// of bytes (`Code`), flattened once when the module is assembled.
//
// Binary format reference: https://webassembly.github.io/spec/core/binary/ (MVP + SIMD), relaxed SIMD:
// https://github.com/WebAssembly/relaxed-simd/blob/main/proposals/relaxed-simd/Overview.md

/** A fragment of WebAssembly code: bytes, possibly nested (flattened when the module is built). */
export type Code = number | readonly Code[];

/** The value types the builder supports. */
export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';

const VAL_TYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

// ---------------------------------------------------------------------------------------------------------
// Encoding primitives
// ---------------------------------------------------------------------------------------------------------

/** Unsigned LEB128 encoding of a non-negative integer below 2^32. */
export function uleb128(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`uleb128: ${value} is not a u32`);
  }
  const out: number[] = [];
  let v = value;
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 encoding of an integer in the i32 range (values above 2^31 - 1 are taken as u32 bits). */
export function sleb128(value: number): number[] {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0xffffffff) {
    throw new RangeError(`sleb128: ${value} is not an i32`);
  }
  let v = value | 0;
  const out: number[] = [];
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** Little-endian IEEE-754 bytes of a float32. */
function f32Bytes(value: number): number[] {
  return [...new Uint8Array(new Float32Array([value]).buffer)];
}

/** UTF-8 name as a length-prefixed vector. */
function encodeName(name: string): number[] {
  const bytes = new TextEncoder().encode(name);
  return [...uleb128(bytes.length), ...bytes];
}

/** Flattens a nested code fragment into `out` (no spread into calls: bodies can be large). */
function flattenInto(code: Code, out: number[]): void {
  if (typeof code === 'number') out.push(code);
  else for (const c of code) flattenInto(c, out);
}

/** Flattens a nested code fragment into a plain byte array. */
export function flatten(code: Code): number[] {
  const out: number[] = [];
  flattenInto(code, out);
  return out;
}

/** A vector (count-prefixed sequence) of encoded items. */
function vector(items: readonly (readonly number[])[]): number[] {
  return [...uleb128(items.length), ...items.flat()];
}

/** A section: id, byte size, contents. */
function section(id: number, contents: readonly number[]): number[] {
  return [id, ...uleb128(contents.length), ...contents];
}

// ---------------------------------------------------------------------------------------------------------
// Instructions
// ---------------------------------------------------------------------------------------------------------

/** A memory argument: static byte offset added to the dynamic address, and alignment hint (log2 bytes). */
export interface MemArg {
  /** Constant byte offset added to the address operand (default 0). */
  offset?: number;
  /** log2 of the alignment the access promises (default: the natural alignment of the access). */
  align?: number;
}

function memarg(arg: MemArg | undefined, naturalAlign: number): number[] {
  return [...uleb128(arg?.align ?? naturalAlign), ...uleb128(arg?.offset ?? 0)];
}

/** A SIMD instruction: the 0xfd prefix followed by the opcode as a u32 LEB128. */
function simd(opcode: number): number[] {
  return [0xfd, ...uleb128(opcode)];
}

/** Block type of a block/loop/if without results. */
const EMPTY_BLOCK = 0x40;

/**
 * Instruction constructors in folded form: operands first, then the opcode. Each returns a `Code` fragment.
 * Only the instructions the kernels use are provided; add more here as needed (opcode tables are in the
 * spec's binary format chapter).
 */
export const op = {
  // --- control ---------------------------------------------------------------------------------------
  /** `block ... end`: `br n` to it jumps past its end. */
  block: (...body: Code[]): Code => [0x02, EMPTY_BLOCK, body, 0x0b],
  /** `loop ... end`: `br n` to it jumps back to its start. */
  loop: (...body: Code[]): Code => [0x03, EMPTY_BLOCK, body, 0x0b],
  /** `if (cond) then ... [else ...] end`. */
  if: (cond: Code, then: Code, otherwise?: Code): Code =>
    otherwise === undefined
      ? [cond, 0x04, EMPTY_BLOCK, then, 0x0b]
      : [cond, 0x04, EMPTY_BLOCK, then, 0x05, otherwise, 0x0b],
  /** `if (cond) (result type) then ... else ... end`: an expression yielding `then` or `otherwise`. */
  ifValue: (type: ValType, cond: Code, then: Code, otherwise: Code): Code => [
    cond,
    0x04,
    VAL_TYPE[type],
    then,
    0x05,
    otherwise,
    0x0b,
  ],
  /** Unconditional branch to the enclosing label `depth` levels out (0 = innermost). */
  br: (depth: number): Code => [0x0c, uleb128(depth)],
  /** Branch to label `depth` if `cond` is non-zero. */
  brIf: (depth: number, cond: Code): Code => [cond, 0x0d, uleb128(depth)],
  /** Return from the function (with the given result operands, if any). */
  return: (...results: Code[]): Code => [results, 0x0f],
  /** Call function `index` with `args`. */
  call: (index: number, ...args: Code[]): Code => [args, 0x10, uleb128(index)],
  /** Drop the value of `x`. */
  drop: (x: Code): Code => [x, 0x1a],
  /** `cond ? a : b` without branching (both evaluated). */
  select: (a: Code, b: Code, cond: Code): Code => [a, b, cond, 0x1b],

  // --- variables --------------------------------------------------------------------------------------
  localGet: (index: number): Code => [0x20, uleb128(index)],
  localSet: (index: number, value: Code): Code => [value, 0x21, uleb128(index)],
  localTee: (index: number, value: Code): Code => [value, 0x22, uleb128(index)],
  globalGet: (index: number): Code => [0x23, uleb128(index)],
  globalSet: (index: number, value: Code): Code => [value, 0x24, uleb128(index)],

  // --- memory (scalar) ---------------------------------------------------------------------------------
  i32Load: (addr: Code, arg?: MemArg): Code => [addr, 0x28, memarg(arg, 2)],
  f32Load: (addr: Code, arg?: MemArg): Code => [addr, 0x2a, memarg(arg, 2)],
  i32Store: (addr: Code, value: Code, arg?: MemArg): Code => [addr, value, 0x36, memarg(arg, 2)],
  f32Store: (addr: Code, value: Code, arg?: MemArg): Code => [addr, value, 0x38, memarg(arg, 2)],

  // --- i32 ---------------------------------------------------------------------------------------------
  i32Const: (value: number): Code => [0x41, sleb128(value)],
  i32Eqz: (a: Code): Code => [a, 0x45],
  i32Eq: (a: Code, b: Code): Code => [a, b, 0x46],
  i32Ne: (a: Code, b: Code): Code => [a, b, 0x47],
  i32LtS: (a: Code, b: Code): Code => [a, b, 0x48],
  i32LtU: (a: Code, b: Code): Code => [a, b, 0x49],
  i32GtS: (a: Code, b: Code): Code => [a, b, 0x4a],
  i32GtU: (a: Code, b: Code): Code => [a, b, 0x4b],
  i32LeS: (a: Code, b: Code): Code => [a, b, 0x4c],
  i32GeS: (a: Code, b: Code): Code => [a, b, 0x4e],
  i32Add: (a: Code, b: Code): Code => [a, b, 0x6a],
  i32Sub: (a: Code, b: Code): Code => [a, b, 0x6b],
  i32Mul: (a: Code, b: Code): Code => [a, b, 0x6c],
  i32DivU: (a: Code, b: Code): Code => [a, b, 0x6e],
  i32RemU: (a: Code, b: Code): Code => [a, b, 0x70],
  i32And: (a: Code, b: Code): Code => [a, b, 0x71],
  i32Or: (a: Code, b: Code): Code => [a, b, 0x72],
  i32Shl: (a: Code, b: Code): Code => [a, b, 0x74],
  i32ShrU: (a: Code, b: Code): Code => [a, b, 0x76],

  // --- f32 ---------------------------------------------------------------------------------------------
  f32Const: (value: number): Code => [0x43, f32Bytes(value)],
  f32Lt: (a: Code, b: Code): Code => [a, b, 0x5d],
  f32Ge: (a: Code, b: Code): Code => [a, b, 0x60],
  f32Abs: (a: Code): Code => [a, 0x8b],
  f32Neg: (a: Code): Code => [a, 0x8c],
  f32Add: (a: Code, b: Code): Code => [a, b, 0x92],
  f32Sub: (a: Code, b: Code): Code => [a, b, 0x93],
  f32Mul: (a: Code, b: Code): Code => [a, b, 0x94],
  f32Div: (a: Code, b: Code): Code => [a, b, 0x95],
  f32Min: (a: Code, b: Code): Code => [a, b, 0x96],
  f32Max: (a: Code, b: Code): Code => [a, b, 0x97],
  f32Copysign: (a: Code, b: Code): Code => [a, b, 0x98],
  f32Sqrt: (a: Code): Code => [a, 0x91],
  /** `f32.convert_i32_s`: a signed i32 as the nearest f32. */
  f32ConvertI32S: (a: Code): Code => [a, 0xb2],

  // --- v128 / f32x4 (SIMD prefix 0xfd) -------------------------------------------------------------------
  /** `v128.load`: 16 bytes; natural alignment hint is 2^4. */
  v128Load: (addr: Code, arg?: MemArg): Code => [addr, simd(0x00), memarg(arg, 4)],
  /** `v128.load32_splat`: one 32-bit value broadcast to all four lanes. */
  v128Load32Splat: (addr: Code, arg?: MemArg): Code => [addr, simd(0x09), memarg(arg, 2)],
  /** `v128.store`: 16 bytes. */
  v128Store: (addr: Code, value: Code, arg?: MemArg): Code => [addr, value, simd(0x0b), memarg(arg, 4)],
  /** `v128.const` with four f32 lanes. */
  v128ConstF32x4: (lanes: readonly [number, number, number, number]): Code => [
    simd(0x0c),
    lanes.map(f32Bytes),
  ],
  /** `v128.const` with four i32 lanes. */
  v128ConstI32x4: (lanes: readonly [number, number, number, number]): Code => [
    simd(0x0c),
    lanes.map((v) => [...new Uint8Array(new Int32Array([v]).buffer)]),
  ],
  /**
   * `i8x16.shuffle` written with 32-bit lanes: lane i of the result is lane `lanes[i]` of the concatenation
   * a:b (0-3 from a, 4-7 from b).
   */
  i32x4Shuffle: (a: Code, b: Code, lanes: readonly [number, number, number, number]): Code => [
    a,
    b,
    simd(0x0d),
    lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]),
  ],
  /** `i8x16.swizzle(table, indices)`: byte i of the result is byte indices[i] of table (0 if >= 16). */
  i8x16Swizzle: (table: Code, indices: Code): Code => [table, indices, simd(0x0e)],
  /** Relaxed SIMD `i8x16.relaxed_swizzle` (0x100): as `i8x16.swizzle` for indices below 16. */
  i8x16RelaxedSwizzle: (table: Code, indices: Code): Code => [table, indices, simd(0x100)],
  i32x4Add: (a: Code, b: Code): Code => [a, b, simd(0xae)],
  f32x4Splat: (x: Code): Code => [x, simd(0x13)],
  f32x4ExtractLane: (v: Code, lane: number): Code => [v, simd(0x1f), lane],
  f32x4Lt: (a: Code, b: Code): Code => [a, b, simd(0x43)],
  f32x4Gt: (a: Code, b: Code): Code => [a, b, simd(0x44)],
  f32x4Ge: (a: Code, b: Code): Code => [a, b, simd(0x46)],
  v128And: (a: Code, b: Code): Code => [a, b, simd(0x4e)],
  v128Or: (a: Code, b: Code): Code => [a, b, simd(0x50)],
  /** `v128.bitselect(a, b, mask)`: bits of `a` where `mask` is 1, else bits of `b`. */
  v128Bitselect: (a: Code, b: Code, mask: Code): Code => [a, b, mask, simd(0x52)],
  f32x4Abs: (a: Code): Code => [a, simd(0xe0)],
  f32x4Add: (a: Code, b: Code): Code => [a, b, simd(0xe4)],
  /** The two low f32 lanes widened to f64 (`f64x2.promote_low_f32x4`). */
  f64x2PromoteLowF32x4: (a: Code): Code => [a, simd(0x5f)],
  f64x2Add: (a: Code, b: Code): Code => [a, b, simd(0xf0)],
  f32x4Sub: (a: Code, b: Code): Code => [a, b, simd(0xe5)],
  f32x4Mul: (a: Code, b: Code): Code => [a, b, simd(0xe6)],
  f32x4Min: (a: Code, b: Code): Code => [a, b, simd(0xe8)],
  f32x4Max: (a: Code, b: Code): Code => [a, b, simd(0xe9)],
  f32x4Div: (a: Code, b: Code): Code => [a, b, simd(0xe7)],
  /** `f32x4.nearest`: round each lane to the nearest integer, ties to even. */
  f32x4Nearest: (a: Code): Code => [a, simd(0x6a)],
  /** `i32x4.trunc_sat_f32x4_s`: each f32 lane truncated to a signed i32 (saturating; NaN to 0). */
  i32x4TruncSatF32x4S: (a: Code): Code => [a, simd(0xf8)],
  /** `i32x4.shl(v, count)`: each i32 lane shifted left by the i32 `count` (mod 32). */
  i32x4Shl: (a: Code, count: Code): Code => [a, count, simd(0xab)],
  /**
   * Relaxed SIMD `f32x4.relaxed_madd(a, b, c)` = a * b + c, fused or not at the engine's choice (opcode
   * 0x105). Only valid where the runtime supports relaxed SIMD: see `relaxedSimdSupported`.
   */
  f32x4RelaxedMadd: (a: Code, b: Code, c: Code): Code => [a, b, c, simd(0x105)],
} as const;

/** A v128 constant with `value` (as float32) in all four lanes. */
export const splatF32 = (value: number): Code => op.v128ConstF32x4([value, value, value, value]);

// ---------------------------------------------------------------------------------------------------------
// Functions and modules
// ---------------------------------------------------------------------------------------------------------

/**
 * One function under construction: parameters are locals 0..params.length-1; `local(type)` declares more.
 * Append code with `emit`.
 */
export class FunctionBuilder {
  /** Local indices of the parameters, in order. */
  readonly params: readonly number[];
  private readonly extraLocals: ValType[] = [];
  private readonly body: Code[] = [];

  constructor(
    readonly paramTypes: readonly ValType[],
    readonly resultTypes: readonly ValType[],
  ) {
    this.params = paramTypes.map((_, i) => i);
  }

  /** Declares a new local of `type` (zero-initialised) and returns its index. */
  local(type: ValType): number {
    this.extraLocals.push(type);
    return this.paramTypes.length + this.extraLocals.length - 1;
  }

  /** Declares `count` locals of `type` and returns their indices. */
  locals(type: ValType, count: number): number[] {
    return Array.from({ length: count }, () => this.local(type));
  }

  /** Appends code to the body. */
  emit(...code: Code[]): this {
    this.body.push(...code);
    return this;
  }

  /** The encoded function body (locals + code + `end`), with its size prefix. */
  encodeBody(): number[] {
    // Consecutive locals of the same type are declared as one (count, type) group.
    const groups: number[][] = [];
    let i = 0;
    while (i < this.extraLocals.length) {
      const type = this.extraLocals[i];
      let j = i;
      while (j < this.extraLocals.length && this.extraLocals[j] === type) j++;
      groups.push([...uleb128(j - i), VAL_TYPE[type]]);
      i = j;
    }
    const bytes = [...vector(groups), ...flatten(this.body), 0x0b];
    return [...uleb128(bytes.length), ...bytes];
  }
}

/** An imported memory: its import name and limits (in 64 KiB pages). */
export interface MemoryImport {
  /** Import module name, e.g. `env`. */
  module: string;
  /** Import field name, e.g. `memory`. */
  name: string;
  /** Minimum size the memory must have. */
  initialPages: number;
  /** Maximum size the memory may declare (an upper bound: a smaller maximum also matches). */
  maximumPages: number;
  /** Whether the memory is shared (required to use it from several threads). */
  shared: boolean;
}

/**
 * A module under construction. Functions are numbered in the order they are added (there are no function
 * imports), so a function may call any function added before or after it by index.
 */
export class ModuleBuilder {
  private readonly types: number[][] = [];
  private readonly functions: { typeIndex: number; fn: FunctionBuilder }[] = [];
  private readonly globals: number[][] = [];
  private readonly exports: number[][] = [];
  private memory: MemoryImport | undefined;

  /** Imports a memory (only one is supported); instructions address it implicitly. */
  importMemory(memory: MemoryImport): this {
    this.memory = memory;
    return this;
  }

  /** Declares a mutable i32 global with an initial value; returns its index. */
  addMutableGlobalI32(initial: number): number {
    this.globals.push([VAL_TYPE.i32, 0x01, 0x41, ...sleb128(initial), 0x0b]);
    return this.globals.length - 1;
  }

  /** Adds a function, optionally exported as `exportName`; returns its index and builder. */
  addFunction(
    params: readonly ValType[],
    results: readonly ValType[],
    exportName?: string,
  ): { index: number; fn: FunctionBuilder } {
    const fn = new FunctionBuilder(params, results);
    const index = this.functions.length;
    this.functions.push({ typeIndex: this.typeIndex(params, results), fn });
    if (exportName !== undefined) this.exports.push([...encodeName(exportName), 0x00, ...uleb128(index)]);
    return { index, fn };
  }

  /** Exports global `index` under `name`. */
  exportGlobal(name: string, index: number): this {
    this.exports.push([...encodeName(name), 0x03, ...uleb128(index)]);
    return this;
  }

  /** Assembles the binary module. */
  build(): Uint8Array<ArrayBuffer> {
    const sections: number[][] = [section(1, vector(this.types))];
    if (this.memory) {
      const m = this.memory;
      const flags = m.shared ? 0x03 : 0x01; // 0x01: min and max present; 0x03: ... and shared
      const entry = [
        ...encodeName(m.module),
        ...encodeName(m.name),
        0x02, // import kind: memory
        flags,
        ...uleb128(m.initialPages),
        ...uleb128(m.maximumPages),
      ];
      sections.push(section(2, vector([entry])));
    }
    sections.push(section(3, vector(this.functions.map((f) => uleb128(f.typeIndex)))));
    if (this.globals.length > 0) sections.push(section(6, vector(this.globals)));
    sections.push(section(7, vector(this.exports)));
    sections.push(section(10, vector(this.functions.map((f) => f.fn.encodeBody()))));
    // Magic number and version, then the sections in order.
    return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...sections.flat()]);
  }

  private typeIndex(params: readonly ValType[], results: readonly ValType[]): number {
    const encoded = [
      0x60,
      ...uleb128(params.length),
      ...params.map((t) => VAL_TYPE[t]),
      ...uleb128(results.length),
      ...results.map((t) => VAL_TYPE[t]),
    ];
    const found = this.types.findIndex(
      (t) => t.length === encoded.length && t.every((b, i) => b === encoded[i]),
    );
    if (found >= 0) return found;
    this.types.push(encoded);
    return this.types.length - 1;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Feature detection
// ---------------------------------------------------------------------------------------------------------

/** A one-function module `(v128, v128, v128) -> v128` whose body is `body` (used for feature probes). */
function probeModule(body: Code): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder();
  m.addFunction(['v128', 'v128', 'v128'], ['v128'], 'probe').fn.emit(body);
  return m.build();
}

/** Whether the runtime supports fixed-width SIMD (`v128`, f32x4 arithmetic). */
export function simdSupported(): boolean {
  return WebAssembly.validate(probeModule(op.f32x4Add(op.localGet(0), op.localGet(1))));
}

/**
 * Whether the runtime validates relaxed SIMD's `f32x4.relaxed_madd`. Evaluated on each call (the answer can
 * change if V8 flags are changed at run time, see `tryEnableRelaxedSimd`).
 */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(
    probeModule(op.f32x4RelaxedMadd(op.localGet(0), op.localGet(1), op.localGet(2))),
  );
}

/**
 * Opt-in: turns on V8's relaxed-SIMD flag at run time in Node versions where it is off by default (Node 20 /
 * V8 11.3; equivalent to `node --experimental-wasm-relaxed-simd`), then reports `relaxedSimdSupported()`.
 * Changing V8 flags after start-up is not officially supported by Node, so this is never called by the
 * library itself; call it once at start-up, before creating gemm modules or thread pools (workers share the
 * process's flags). Outside Node it only reports support.
 */
export function tryEnableRelaxedSimd(): boolean {
  if (relaxedSimdSupported()) return true;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const v8 = proc?.getBuiltinModule?.('node:v8') as { setFlagsFromString(flags: string): void } | undefined;
  v8?.setFlagsFromString('--experimental-wasm-relaxed-simd');
  return relaxedSimdSupported();
}
