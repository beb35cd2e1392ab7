// Build config for @wf/backend-cpu: ESM + CJS with type declarations; `demo` is the IR demo entry.
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', demo: 'src/demo.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
