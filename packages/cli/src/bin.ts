#!/usr/bin/env node
// The `wf` executable. Turns on WebAssembly relaxed SIMD (fused multiply-add in the cpu backend's matrix
// products) where the runtime has it behind a flag (Node 20), unless WF_NO_RELAXED_SIMD is set.
import { tryEnableRelaxedSimd } from '@wf/backend-cpu';
import { main } from './program.js';

if (!process.env.WF_NO_RELAXED_SIMD) tryEnableRelaxedSimd();

main(process.argv).then((code) => {
  process.exitCode = code;
});
