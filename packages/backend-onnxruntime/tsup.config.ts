// Build config for @wf/backend-onnxruntime: ESM + CJS with type declarations; the runtimes stay external.
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  external: ['onnxruntime-node', 'onnxruntime-web'],
});
