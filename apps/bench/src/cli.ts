#!/usr/bin/env node
// The bench executable (`pnpm bench` runs `node --expose-gc dist/cli.js`). Exits explicitly: the peers'
// worker threads must not keep the process alive after the outputs are written.
import { main } from './program.js';

main(process.argv).then((code) => {
  process.exit(code);
});
