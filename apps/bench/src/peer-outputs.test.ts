// Tests of the peers' output check: a peer giving the stored outputs passes, one off by more than the
// bound fails the bench, and onnxruntime-node on the real exports matches the stored outputs.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors } from '@wf/core';
import { IN_CI, sharedDir, sharedPath } from '@wf/test-fixtures';
import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from './engines/ort-node.js';
import type { Engine } from './engines/types.js';
import { checkPeerOutputs, PEER_IO_FILE } from './peer-outputs.js';

const present = IN_CI || existsSync(join(sharedDir, PEER_IO_FILE));

/** A peer whose output is the stored one, changed by `change`. */
function fakePeer(change: (ref: Float32Array, model: string) => Float32Array): Engine {
  const io = parseSafetensors(new Uint8Array(readFileSync(sharedPath(PEER_IO_FILE) as string)));
  return {
    name: 'fake-peer',
    kind: 'peer',
    threads: 1,
    unsupported: () => null,
    async prepare(spec) {
      return {
        planPeakBytes: null,
        async run() {},
        async dispose() {},
        async output(input) {
          const want = io.tensor('input').data as Float32Array;
          const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
          expect(bytes(input).equals(bytes(want))).toBe(true);
          return change(io.tensor(`${spec.model}.output`).data.slice() as Float32Array, spec.model);
        },
      };
    },
    async close() {},
  };
}

describe.skipIf(!present)(`peer output check (${PEER_IO_FILE})`, () => {
  it('passes a peer that gives the stored outputs, fails one that is off by 1e-3', async () => {
    const lines: string[] = [];
    const ok = await checkPeerOutputs([fakePeer((y) => y)], sharedDir, (l) => lines.push(l));
    expect(ok.map((c) => [c.model, c.maxAbsErr, c.pass])).toEqual([
      ['wfm-tiny', 0, true],
      ['deit-tiny', 0, true],
    ]);
    expect(lines).toHaveLength(2);
    const off = fakePeer((y, model) => {
      if (model === 'deit-tiny') y[7] += 1e-3 * Math.max(1, Math.abs(y[7]));
      return y;
    });
    await expect(checkPeerOutputs([off], sharedDir, () => {})).rejects.toThrow(
      /fake-peer does not compute deit-tiny as recorded/,
    );
  });

  it('onnxruntime-node on the real exports matches the stored outputs', async () => {
    const lines: string[] = [];
    const checks = await checkPeerOutputs([await ortNodeEngine(sharedDir, 1)], sharedDir, (l) =>
      lines.push(l),
    );
    console.log(lines.join('\n'));
    expect(checks.map((c) => c.model)).toEqual(['wfm-tiny', 'deit-tiny']);
    for (const c of checks) expect(c.maxAbsErr).toBeLessThanOrEqual(c.bound);
  }, 120_000);
});
