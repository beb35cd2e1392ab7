// The memory planner: views alias on zero-copy backends, a reshape of a strided view copies, no op writes
// over a live value, and the peak stays within 1.2x of the largest live set.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../ir/tensor.js';
import { bytesOf } from '../ir/types.js';
import * as F from '../ops/functional.js';
import { type Graph, trace } from './graph.js';
import { lowerGraph } from './lower.js';
import { type MemoryPlan, planMemory } from './plan.js';

/** Checks that no two values sharing a slot are alive at the same time, and slots are large enough. */
function checkNoOverlap(g: Graph, plan: MemoryPlan): void {
  const last = new Map<number, number>();
  g.nodes.forEach((n) => {
    for (const i of n.inputs) last.set(plan.root[i], n.id);
  });
  for (const id of g.outputs.values()) last.set(plan.root[id], g.nodes.length);
  const owner = new Map<number, number>();
  for (const n of g.nodes) {
    const s = plan.slot[n.id];
    if (s < 0) continue;
    expect(plan.slotBytes[s]).toBeGreaterThanOrEqual(bytesOf(n.type));
    const prev = owner.get(s);
    if (prev !== undefined) expect(last.get(prev) ?? prev).toBeLessThan(n.id);
    owner.set(s, n.id);
  }
}

/** Checks that arena placements of values alive at the same step never overlap in address. */
function checkArena(g: Graph, plan: MemoryPlan): void {
  const last = new Map<number, number>();
  g.nodes.forEach((n) => {
    for (const i of n.inputs) last.set(plan.root[i], n.id);
  });
  for (const id of g.outputs.values()) last.set(plan.root[id], g.nodes.length);
  const vals = g.nodes
    .filter((n) => plan.kind[n.id] === 'slot')
    .map((n) => ({
      s: n.id,
      e: last.get(n.id) ?? n.id,
      lo: plan.arenaOffset[n.id],
      hi: plan.arenaOffset[n.id] + bytesOf(n.type),
    }));
  for (const v of vals) {
    expect(v.lo % 64).toBe(0);
    expect(v.hi).toBeLessThanOrEqual(plan.arenaBytes);
  }
  for (let i = 0; i < vals.length; i++)
    for (let j = i + 1; j < vals.length; j++) {
      const [a, b] = [vals[i], vals[j]];
      if (a.s <= b.e && b.s <= a.e && a.lo < b.hi && b.lo < a.hi)
        throw new Error(`values %${a.s} and %${b.s} overlap in the arena`);
    }
}

describe('planMemory', () => {
  const g = lowerGraph(
    trace((b) => {
      const x = b.input('x', [2, 3, 4]);
      const p = F.permute(F.exp(x), [0, 2, 1]); // strided view
      const r = F.reshape(p, [2, 12]); // reshape of a strided view: must copy
      const s = F.reshape(F.exp(r), [24]); // reshape of a dense value: alias
      return F.neg(s);
    }),
  );

  it('aliases views on zero-copy backends and copies a reshape of a strided view', () => {
    const plan = planMemory(g, { zeroCopyViews: true });
    const kinds = g.nodes.map((n) => `${n.op}:${plan.kind[n.id]}`);
    expect(kinds).toEqual([
      'input:input',
      'exp:slot',
      'permute:alias',
      'reshape:slot',
      'exp:slot',
      'reshape:alias',
      'neg:slot',
    ]);
    expect(plan.contiguous[2]).toBe(false);
    expect(plan.root[5]).toBe(4);
    checkNoOverlap(g, plan);
  });

  it('gives every op a slot when views cannot alias', () => {
    const plan = planMemory(g, { zeroCopyViews: false });
    expect(g.nodes.slice(1).every((n) => plan.kind[n.id] === 'slot')).toBe(true);
    checkNoOverlap(g, plan);
  });

  it('reuses memory: a long chain needs two slots, peak <= 1.2x the live set', () => {
    const chain = trace((b) => {
      let x: Tensor = b.input('x', [64, 64]);
      for (let i = 0; i < 20; i++) x = F.tanh(F.mul(x, 1.01));
      return x;
    });
    const plan = planMemory(chain, { zeroCopyViews: true });
    expect(plan.slotBytes.length).toBe(2);
    expect(plan.peakBytes).toBeLessThanOrEqual(1.2 * plan.maxLiveBytes);
    expect(plan.arenaBytes).toBeLessThanOrEqual(1.2 * plan.maxLiveBytes);
    checkArena(chain, plan);
  });

  it('defers only what the backend accepts of the values that are graph outputs and nothing else', () => {
    const g = trace((b) => {
      const x = b.input('x', [4, 6]);
      const read = F.matmul(x, x, { transB: true }); // read by exp: never deferred
      const viewed = F.matmul(x, x, { transA: true }); // read only by a view that is an unread output
      const plain = F.matmul(x, x, { transB: true }); // an unread output
      const shown = F.exp(x); // an output, declined by the backend below
      return { a: F.exp(read), b: F.reshape(viewed, [36]), c: plain, d: shown };
    });
    const ops = (plan: MemoryPlan) => plan.deferred.map((id) => g.nodes[id].op);
    const defer = (n: { op: string }) => n.op === 'matmul';
    const views = planMemory(g, { zeroCopyViews: true, defer });
    expect(ops(views)).toEqual(['matmul', 'matmul']);
    // in run order: `viewed`, then `plain`
    expect(views.deferred.map((id) => g.nodes[id].attrs)).toMatchObject([{ transA: true }, { transB: true }]);
    // a copying reshape reads the product: only the plain output is left
    expect(ops(planMemory(g, { zeroCopyViews: false, defer }))).toEqual(['matmul']);
    expect(planMemory(g, { zeroCopyViews: true }).deferred).toEqual([]);
    // fewer than DEFERRED_OUTSTANDING deferred ops: their inputs live to the end of the run
    expect(views.lastUse[0]).toBe(g.nodes.length);
    checkNoOverlap(g, views);
    checkArena(g, views);
  });

  it('never overlaps live values on random DAGs (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 3 })), {
          minLength: 1,
          maxLength: 30,
        }),
        (spec) => {
          const dag = trace((b) => {
            const vals: Tensor[] = [b.input('x', [4, 6])];
            for (const [i, j, kind] of spec) {
              const a = vals[i % vals.length];
              const c = vals[j % vals.length];
              const v =
                kind === 0
                  ? F.add(a, c)
                  : kind === 1
                    ? F.exp(a)
                    : kind === 2
                      ? F.reshape(F.transpose(F.reshape(a, [6, 4])), [4, 6])
                      : F.sliceAxis(F.mul(a, c), 0, 0, 4);
              vals.push(v);
            }
            return { out: vals[vals.length - 1], mid: vals[Math.floor(vals.length / 2)] };
          });
          for (const zeroCopyViews of [true, false]) {
            const plan = planMemory(dag, { zeroCopyViews });
            checkNoOverlap(dag, plan);
            checkArena(dag, plan);
          }
        },
      ),
      { seed: 7, numRuns: 150 },
    );
  });
});
