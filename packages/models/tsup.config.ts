// Build config for @wf/models: ESM + CJS with type declarations; `node` holds the Node-only helpers
// (file loading, image decoding, the MNIST digits).
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', node: 'src/node.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  shims: true,
  target: 'es2022',
});
