// The peers must compute what the ONNX exports compute: before anything is timed, each ONNX Runtime peer
// runs the full models on the input stored in `<shared>/peers/onnx/tiny-224.io.safetensors`, and its
// outputs are compared with the ONNX Runtime outputs stored beside it (onnxruntime 1.30, CPU), within the
// project's parity bound. A peer timing a wrong graph, or fed the wrong layout, fails the bench here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors } from '@wf/core';
import { maxAbsDiff, toleranceBound } from '@wf/core/testing/runner';
import type { Engine } from './engines/types.js';
import type { ModelId } from './schema.js';

/** The stored input and outputs, relative to the shared folder. */
export const PEER_IO_FILE = 'peers/onnx/tiny-224.io.safetensors';
/** Relative bound of the comparison: `max|y - ref| <= REL * max(1, max|ref|)` (the parity bound). */
export const PEER_OUTPUT_REL = 1e-4;
/** Tokens of the stored input (224 px, 14 x 14 patches). */
const TOKENS = 196;

/** One comparison of a peer's output with the stored one. */
export interface PeerOutputCheck {
  engine: string;
  model: ModelId;
  maxAbsErr: number;
  bound: number;
  pass: boolean;
}

/**
 * Runs every peer engine of `engines` (those of kind `peer` whose runner has `output`) on the stored input
 * for WFM-T and DeiT-T and compares with the stored outputs; `log` gets one line per comparison. Returns
 * the comparisons; throws when one is outside the bound, naming the peer, the model and the error.
 * Nothing to compare (no shared folder, no stored file) gives an empty list.
 */
export async function checkPeerOutputs(
  engines: readonly Engine[],
  sharedDir: string | null,
  log: (line: string) => void,
): Promise<PeerOutputCheck[]> {
  if (!sharedDir) return [];
  const peers = engines.filter((e) => e.kind === 'peer');
  if (peers.length === 0) return [];
  const io = parseSafetensors(new Uint8Array(readFileSync(join(sharedDir, PEER_IO_FILE))));
  const input = io.tensor('input').data as Float32Array;
  const out: PeerOutputCheck[] = [];
  for (const engine of peers) {
    for (const model of ['wfm-tiny', 'deit-tiny'] as const) {
      if (engine.unsupported(model, TOKENS, 1)) continue;
      const ref = io.tensor(`${model}.output`);
      const runner = await engine.prepare({
        model,
        tokens: TOKENS,
        batch: 1,
        graph: () => {
          throw new Error('a peer needs no graph');
        },
      });
      try {
        if (!runner.output) continue;
        const y = await runner.output(input);
        const maxAbsErr = maxAbsDiff({ shape: ref.shape, data: y }, ref);
        const bound = toleranceBound(ref, PEER_OUTPUT_REL);
        const check = { engine: engine.name, model, maxAbsErr, bound, pass: maxAbsErr <= bound };
        out.push(check);
        log(
          `peer output ${engine.name} ${model}: max |y - ref| = ${maxAbsErr.toExponential(2)} ` +
            `(bound ${bound.toExponential(2)}, ${PEER_IO_FILE})`,
        );
        if (!check.pass) {
          throw new Error(
            `${engine.name} does not compute ${model} as recorded in ${PEER_IO_FILE}: max |y - ref| = ` +
              `${maxAbsErr.toExponential(3)} > ${bound.toExponential(3)}; its timings would be of something else`,
          );
        }
      } finally {
        await runner.dispose();
      }
    }
  }
  return out;
}
