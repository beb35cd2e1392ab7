#!/usr/bin/env node
// The `wf` executable.
import { main } from './program.js';

main(process.argv).then((code) => {
  process.exitCode = code;
});
