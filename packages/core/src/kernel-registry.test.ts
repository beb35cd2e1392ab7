// The typed kernel registry: what must not compile is marked `@ts-expect-error`, so `tsc --noEmit` (the
// package's typecheck) fails if any of it starts compiling; the runtime assertions check the helpers.
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  defineKernels,
  type FusedKernels,
  type Kernel,
  type KernelArgs,
  type KernelRegistry,
  type KernelTable,
  kernelOf,
  opsOf,
  opTable,
  wrapKernels,
} from './backend.js';
import { OPS, type OpAttrs, type OpName, type PrimitiveOp } from './ir/ops.js';

type H = { readonly id: string };

const primitives = (Object.keys(OPS) as OpName[]).filter(
  (op) => OPS[op].kind !== 'composite',
) as PrimitiveOp[];

/** A kernel for every op of `K` that returns its output. */
const echo =
  <K extends OpName>(_op: K): Kernel<H, K> =>
  (args) =>
    args.out!;

describe('KernelRegistry: types', () => {
  it('types each entry by its key', () => {
    expectTypeOf<Parameters<KernelRegistry<H>['conv2d']>[0]['attrs']['groups']>().toEqualTypeOf<number>();
    expectTypeOf<Parameters<NonNullable<KernelRegistry<H>['layer_norm']>>[0]['attrs']>().toEqualTypeOf<{
      eps: number;
    }>();
    expectTypeOf<KernelRegistry<H>['matmul']>().toEqualTypeOf<Kernel<H, 'matmul'>>();
    expectTypeOf<KernelRegistry<H>['softmax']>().toEqualTypeOf<Kernel<H, 'softmax'> | undefined>();
    expectTypeOf<KernelRegistry<H>['dyn_linear']>().toEqualTypeOf<Kernel<H, 'dyn_linear'> | undefined>();
    expectTypeOf<FusedKernels<H>>().toMatchTypeOf<Partial<KernelRegistry<H>>>();
  });

  it('requires every primitive', () => {
    const full = opTable(primitives, echo);
    const ok: KernelRegistry<H> = full;
    expect(Object.keys(ok)).toHaveLength(primitives.length);

    const { conv2d: _dropped, ...lacking } = full;
    // @ts-expect-error a registry without the conv2d primitive does not compile
    const bad: KernelRegistry<H> = lacking;
    expect(bad.conv2d).toBeUndefined();

    const noMatmul = defineKernels<H>()({ conv2d: echo('conv2d') });
    // @ts-expect-error pieces that leave out primitives do not make a registry
    const pieces: KernelRegistry<H> = { ...noMatmul };
    expect(pieces.matmul).toBeUndefined();

    // composites are optional: fused kernels
    const fused: KernelRegistry<H> = { ...full, ...defineKernels<H>()({ gelu: echo('gelu') }) };
    expect(fused.gelu).toBeTypeOf('function');
  });

  it("types args.attrs from the entry's key", () => {
    const piece = defineKernels<H>()({
      layer_norm: (args) => {
        expectTypeOf(args.attrs).toEqualTypeOf<{ eps: number }>();
        expectTypeOf(args).toEqualTypeOf<KernelArgs<H, 'layer_norm'>>();
        return args.out!;
      },
      conv2d: (args) => {
        expectTypeOf(args.attrs.groups).toBeNumber();
        // @ts-expect-error conv2d has no eps attribute
        args.attrs.eps;
        return args.out!;
      },
      softmax: (args) => {
        // @ts-expect-error softmax's axis is a number, not a string
        const axis: string = args.attrs.axis;
        return axis ? args.out! : args.out!;
      },
    });
    expect(opsOf(piece)).toEqual(['layer_norm', 'conv2d', 'softmax']);

    // a kernel for another op does not fit a key
    const layerNorm: Kernel<H, 'layer_norm'> = (args) => args.out!;
    // @ts-expect-error a layer_norm kernel is not a softmax kernel
    defineKernels<H>()({ softmax: layerNorm });
    // @ts-expect-error a key that is not an op
    defineKernels<H>()({ layer_nrom: layerNorm });
  });

  it('opTable keys a family of kernels by op', () => {
    const reductions = opTable(['sum', 'mean'] as const, (op) => {
      const k: Kernel<H, 'sum' | 'mean'> = (args) => {
        expectTypeOf(args.attrs).toEqualTypeOf<OpAttrs<'sum'>>();
        return args.out!;
      };
      expect(op === 'sum' || op === 'mean').toBe(true);
      return k;
    });
    expectTypeOf(reductions).toMatchTypeOf<KernelTable<H, 'sum' | 'mean'>>();
    expect(Object.keys(reductions)).toEqual(['sum', 'mean']);
  });
});

describe('kernelOf', () => {
  it("looks up a kernel typed by a generic op's key", () => {
    const registry: KernelRegistry<H> = opTable(primitives, echo);
    const lookup = <K extends OpName>(op: K) => kernelOf(registry, op);
    expectTypeOf(lookup('matmul')).toEqualTypeOf<Kernel<H, 'matmul'> | undefined>();
    expect(lookup('matmul')).toBe(registry.matmul);
    expect(lookup('matmul')).toBeTypeOf('function');
    expect(lookup('gelu')).toBeUndefined();
  });
});

describe('wrapKernels', () => {
  it('wraps every kernel under its own key', async () => {
    const registry: KernelRegistry<H> = { ...opTable(primitives, echo), gelu: echo('gelu') };
    const seen: string[] = [];
    const wrapped = wrapKernels(
      registry,
      <K extends OpName>(op: K, kernel: Kernel<H, K>): Kernel<H, K> =>
        (args) => {
          seen.push(op);
          return kernel(args);
        },
    );
    expect(opsOf(wrapped).sort()).toEqual(opsOf(registry).sort());
    const out = { id: 'y' };
    const args = { inputs: [], inputTypes: [], type: { shape: [], dtype: 'float32' }, out } as const;
    expect(await wrapped.conv2d({ ...args, attrs: { stride: [1, 1], padding: [0, 0], groups: 1 } })).toBe(
      out,
    );
    expect(await wrapped.gelu?.({ ...args, attrs: { approximate: 'none' } })).toBe(out);
    expect(seen).toEqual(['conv2d', 'gelu']);
  });
});
