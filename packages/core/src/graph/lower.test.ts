// Lowering and the backend's conditional fused kernels: a composite stays whole only where the backend
// registers a kernel for it and its optional `fuses` hook accepts that application (attributes and input
// types); everything else lowers to primitives, with the same numbers.
import { describe, expect, it } from 'vitest';
import type { AnyBackend } from '../backend.js';
import * as F from '../ops/functional.js';
import { randomTensor, rng } from '../testing/compare.js';
import { evaluateF64 } from '../testing/reference-kernels.js';
import { trace } from './graph.js';
import { fusedKernelFilter, lowerGraph } from './lower.js';

/** Just what lowering reads of a backend: its kernels and its `fuses` hook. */
function fakeBackend(fuses?: AnyBackend['fuses']): AnyBackend {
  return { kernels: { gelu: () => undefined }, fuses } as unknown as AnyBackend;
}

const graph = trace((g) => {
  const x = g.input('x', [2, 5]);
  return { a: F.gelu(x, 'tanh'), b: F.gelu(F.reshape(x, [5, 2])) };
});
const geluNodes = (keep: Parameters<typeof lowerGraph>[1]) =>
  lowerGraph(graph, keep)
    .nodes.filter((n) => n.op === 'gelu')
    .map((n) => n.attrs);

describe('fusedKernelFilter', () => {
  it('keeps every application of a registered composite when the backend has no fuses hook', () => {
    expect(geluNodes(fusedKernelFilter(fakeBackend()))).toEqual([
      { approximate: 'tanh' },
      { approximate: 'none' },
    ]);
  });

  it('lowers the applications the hook declines, and passes it the attributes and input types', () => {
    const seen: string[] = [];
    const backend = fakeBackend((op, attrs, types) => {
      seen.push(`${op} ${JSON.stringify(attrs)} [${types[0].shape}]`);
      return (attrs as { approximate: string }).approximate === 'tanh';
    });
    expect(geluNodes(fusedKernelFilter(backend))).toEqual([{ approximate: 'tanh' }]);
    expect(seen).toEqual(['gelu {"approximate":"tanh"} [2,5]', 'gelu {"approximate":"none"} [5,2]']);
  });

  it('keeps nothing with fuse off, or for a composite the backend has no kernel for', () => {
    expect(geluNodes(fusedKernelFilter(fakeBackend(), false))).toEqual([]);
    const none = { kernels: {} } as unknown as AnyBackend;
    expect(geluNodes(fusedKernelFilter(none))).toEqual([]);
  });

  it('a partly lowered graph computes the same numbers as the whole one', () => {
    const x = randomTensor([2, 5], rng(3));
    const partly = lowerGraph(
      graph,
      fusedKernelFilter(
        fakeBackend((_op, attrs) => (attrs as { approximate: string }).approximate === 'tanh'),
      ),
    );
    const want = evaluateF64(graph, { x });
    const got = evaluateF64(partly, { x });
    for (const k of ['a', 'b']) expect(Array.from(got[k].data)).toEqual(Array.from(want[k].data));
  });
});
