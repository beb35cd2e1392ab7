// The memory planner: from liveness, assigns every intermediate to a reusable storage slot so that peak
// memory stays near the largest live set. On backends with zero-copy views, view ops alias their input
// instead of taking a slot, with the strides of the op table's `viewStrides` rule (a reshape of a
// non-contiguous view still needs its own copy).
// Deferred ops (see `Backend.defers`): ops whose value is only a graph output (read by nobody, or only by
// views that are outputs read by nobody) may finish after they return, if the backend accepts them; their
// inputs then live until DEFERRED_OUTSTANDING more deferred ops have started (when the run settles them).
import { viewStridesOf } from '../ir/ops.js';
import { bytesOf, isDense, stridesOf } from '../ir/types.js';
import type { Graph, GraphNode } from './graph.js';

/**
 * Deferred ops a compiled run lets the backend have unfinished at once: before starting a deferred op it
 * settles all but the newest `DEFERRED_OUTSTANDING - 1`, so a deferred op is finished when the one
 * `DEFERRED_OUTSTANDING` places after it starts (or at the end of the run).
 */
export const DEFERRED_OUTSTANDING = 6;

/** Where a node's value lives. */
export type StorageKind = 'input' | 'const' | 'slot' | 'alias';

/** The plan: per node a storage kind, a slot or an alias root, plus slot sizes and statistics. */
export interface MemoryPlan {
  /** Storage kind per node id. */
  readonly kind: readonly StorageKind[];
  /** Slot index per node id (`-1` unless kind is 'slot'). */
  readonly slot: Int32Array;
  /** For 'alias' nodes the node whose storage they view (itself otherwise). */
  readonly root: Int32Array;
  /** Whether a node's value is dense row-major in its storage. */
  readonly contiguous: readonly boolean[];
  /** Bytes of each slot. */
  readonly slotBytes: readonly number[];
  /** Bytes of all slots together: the intermediate memory the graph needs with one block per slot. */
  readonly peakBytes: number;
  /**
   * The arena alternative, for backends that can place tensors inside one block: per node a byte offset
   * (`-1` unless kind is 'slot'), 64-byte aligned, with no two values alive at once overlapping.
   */
  readonly arenaOffset: Float64Array;
  /** Bytes of the arena: the intermediate memory the graph needs with sub-allocation. */
  readonly arenaBytes: number;
  /** Largest total size of intermediates alive at one step (a lower bound for any plan). */
  readonly maxLiveBytes: number;
  /**
   * Per storage root, the id of the last node that reads it (any alias included); `graph.nodes.length`
   * for graph outputs, the node's own id for values nobody reads. Values of other nodes are unspecified.
   */
  readonly lastUse: Int32Array;
  /**
   * Ids of the nodes whose op may finish late (see `planMemory`'s `defer`), in run order; their inputs'
   * `lastUse` reaches the deferred node `DEFERRED_OUTSTANDING` places later (or the end of the run).
   */
  readonly deferred: readonly number[];
}

/** Options of {@link planMemory}. */
export interface PlanOptions {
  /** View ops alias their input's storage (with the op table's strides) instead of taking a slot. */
  zeroCopyViews: boolean;
  /**
   * Which of the nodes that only produce graph outputs (no reader but views that are themselves unread
   * outputs) may finish late: the backend's `defers`. Absent: none.
   */
  defer?: (node: GraphNode) => boolean;
}

/** Plans storage for `graph`. With `zeroCopyViews`, view ops alias their input's storage. */
export function planMemory(graph: Graph, opts: PlanOptions): MemoryPlan {
  const n = graph.nodes.length;
  const kind: StorageKind[] = new Array(n);
  const root = new Int32Array(n);
  const contiguous: boolean[] = new Array(n);
  const strides: number[][] = new Array(n);
  for (const node of graph.nodes) {
    root[node.id] = node.id;
    contiguous[node.id] = true;
    strides[node.id] = stridesOf(node.type.shape);
    if (node.op === 'input' || node.op === 'const') {
      kind[node.id] = node.op;
      continue;
    }
    kind[node.id] = 'slot';
    if (!opts.zeroCopyViews) continue;
    const src = node.inputs[0];
    // the op table's stride rule; none for other ops, or for a view that must copy (a reshape of a strided view)
    const viewed = viewStridesOf(
      node.op,
      node.attrs as never,
      graph.nodes[src].type.shape,
      strides[src],
      node.type.shape,
    );
    if (!viewed) continue;
    strides[node.id] = viewed;
    contiguous[node.id] = isDense(node.type.shape, viewed);
    kind[node.id] = 'alias';
    root[node.id] = root[src];
  }

  // Liveness on storage roots: a root lives until the last use of any of its aliases.
  const lastUse = new Int32Array(n).fill(-1);
  for (const node of graph.nodes) {
    lastUse[node.id] = Math.max(lastUse[node.id], node.id);
    for (const i of node.inputs) lastUse[root[i]] = Math.max(lastUse[root[i]], node.id);
    if (kind[node.id] === 'alias') lastUse[root[node.id]] = Math.max(lastUse[root[node.id]], node.id);
  }
  for (const id of graph.outputs.values()) lastUse[root[id]] = n;
  const deferred = opts.defer
    ? deferrable(graph, kind, root).filter((id) => opts.defer!(graph.nodes[id]))
    : [];
  deferred.forEach((id, i) => {
    const settled = i + DEFERRED_OUTSTANDING < deferred.length ? deferred[i + DEFERRED_OUTSTANDING] : n;
    for (const input of graph.nodes[id].inputs)
      lastUse[root[input]] = Math.max(lastUse[root[input]], settled);
  });

  const slot = new Int32Array(n).fill(-1);
  const slotBytes: number[] = [];
  const free: number[] = [];
  const dying: number[][] = Array.from({ length: n + 1 }, () => []);
  let live = 0;
  let maxLive = 0;
  for (const node of graph.nodes) {
    if (kind[node.id] === 'slot') {
      const bytes = bytesOf(node.type);
      let pick = -1;
      for (const s of free)
        if (slotBytes[s] >= bytes && (pick < 0 || slotBytes[s] < slotBytes[pick])) pick = s;
      if (pick < 0 && free.length) {
        pick = free.reduce((a, s) => (slotBytes[s] > slotBytes[a] ? s : a), free[0]);
        slotBytes[pick] = bytes;
      }
      if (pick < 0) {
        pick = slotBytes.length;
        slotBytes.push(bytes);
      } else free.splice(free.indexOf(pick), 1);
      slot[node.id] = pick;
      dying[lastUse[node.id]].push(node.id);
      live += bytes;
      maxLive = Math.max(maxLive, live);
    }
    // Free after allocating, so an op never writes over its own inputs.
    for (const id of dying[node.id]) {
      free.push(slot[id]);
      live -= bytesOf(graph.nodes[id].type);
    }
  }
  // Two slot assignments, keep the smaller: the in-order one above (best on chains of equal sizes) and
  // greedy by size (best when sizes vary; Pisarchyk & Lee 2020, "shared objects").
  let peakBytes = slotBytes.reduce((a, b) => a + b, 0);
  const bySize = planSlotsBySize(graph, kind, lastUse);
  if (bySize.peakBytes < peakBytes) {
    slot.set(bySize.slot);
    slotBytes.splice(0, slotBytes.length, ...bySize.slotBytes);
    peakBytes = bySize.peakBytes;
  }
  const { offset: arenaOffset, bytes: arenaBytes } = planArena(graph, kind, lastUse);
  return {
    kind,
    slot,
    root,
    contiguous,
    slotBytes,
    peakBytes,
    arenaOffset,
    arenaBytes,
    maxLiveBytes: maxLive,
    lastUse,
    deferred,
  };
}

/**
 * Nodes in a slot of their own whose value is only a graph output: an output nobody reads, or read only by
 * views of it that are outputs nobody reads.
 */
function deferrable(graph: Graph, kind: readonly StorageKind[], root: Int32Array): number[] {
  const outputs = new Set(graph.outputs.values());
  const readers: number[][] = graph.nodes.map(() => []);
  for (const node of graph.nodes) for (const i of node.inputs) readers[i].push(node.id);
  const unreadOutput = (id: number) => outputs.has(id) && readers[id].length === 0;
  return graph.nodes
    .filter((node) => {
      if (kind[node.id] !== 'slot') return false;
      const r = readers[node.id];
      if (r.length === 0) return outputs.has(node.id);
      return r.every((v) => kind[v] === 'alias' && root[v] === node.id && unreadOutput(v));
    })
    .map((node) => node.id);
}

const ALIGN = 64;

/**
 * Greedy-by-size slot assignment: values largest first, each into the smallest existing slot none of whose
 * values is alive at the same time (lifetimes inclusive, so an op never shares a slot with its inputs),
 * else into a new slot of its own size. Slot sizes never grow, since larger values come first.
 */
function planSlotsBySize(
  graph: Graph,
  kind: readonly StorageKind[],
  lastUse: Int32Array,
): { slot: Int32Array; slotBytes: number[]; peakBytes: number } {
  const slot = new Int32Array(graph.nodes.length).fill(-1);
  const values = graph.nodes
    .filter((n) => kind[n.id] === 'slot')
    .map((n) => ({ id: n.id, start: n.id, end: lastUse[n.id], size: bytesOf(n.type) }))
    .sort((a, b) => b.size - a.size || a.start - b.start);
  const slotBytes: number[] = [];
  const lifetimes: { start: number; end: number }[][] = [];
  for (const v of values) {
    let pick = -1;
    for (let s = 0; s < slotBytes.length; s++) {
      if (pick >= 0 && slotBytes[s] >= slotBytes[pick]) continue;
      if (lifetimes[s].every((l) => l.end < v.start || v.end < l.start)) pick = s;
    }
    if (pick < 0) {
      pick = slotBytes.length;
      slotBytes.push(v.size);
      lifetimes.push([]);
    }
    lifetimes[pick].push({ start: v.start, end: v.end });
    slot[v.id] = pick;
  }
  return { slot, slotBytes, peakBytes: slotBytes.reduce((a, b) => a + b, 0) };
}

/**
 * Greedy-by-size arena placement: values are placed largest first, each at the lowest offset where it
 * overlaps (in address) no already-placed value whose lifetime overlaps its own (best-fit among gaps).
 */
function planArena(
  graph: Graph,
  kind: readonly StorageKind[],
  lastUse: Int32Array,
): { offset: Float64Array; bytes: number } {
  const offset = new Float64Array(graph.nodes.length).fill(-1);
  const values = graph.nodes
    .filter((n) => kind[n.id] === 'slot')
    .map((n) => ({
      id: n.id,
      start: n.id,
      end: lastUse[n.id],
      size: Math.ceil(Math.max(4, bytesOf(n.type)) / ALIGN) * ALIGN,
    }))
    .sort((a, b) => b.size - a.size || a.start - b.start);
  const placed: { start: number; end: number; lo: number; hi: number }[] = [];
  let total = 0;
  for (const v of values) {
    // Lifetimes are inclusive; an op's output must not share memory with its inputs (same step).
    const clash = placed.filter((p) => p.start <= v.end && v.start <= p.end).sort((a, b) => a.lo - b.lo);
    let best = -1;
    let bestGap = Number.POSITIVE_INFINITY;
    let at = 0;
    for (const p of clash) {
      const gap = p.lo - at;
      if (gap >= v.size && gap < bestGap) {
        best = at;
        bestGap = gap;
      }
      at = Math.max(at, p.hi);
    }
    if (best < 0) best = at;
    offset[v.id] = best;
    placed.push({ start: v.start, end: v.end, lo: best, hi: best + v.size });
    total = Math.max(total, best + v.size);
  }
  return { offset, bytes: total };
}
