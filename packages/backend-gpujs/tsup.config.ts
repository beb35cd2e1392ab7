// Build config for @wf/backend-gpujs: ESM + CJS with type declarations. gpu.js (and the optional `webgpu`
// and `gl` addons it loads) stay external. No tsup shims: they would add `import path from "path"` to the
// ESM build and break browser bundles; the CJS build gets its own `import.meta.url` instead (used in Node
// only, to find the `webgpu` package next to gpu.js).
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  external: ['gpu.js', 'webgpu', 'gl'],
  esbuildOptions(options, context) {
    if (context.format === 'cjs') {
      options.define = { ...options.define, 'import.meta.url': '__wfImportMetaUrl' };
      options.inject = [...(options.inject ?? []), 'build/cjs-import-meta-url.js'];
    }
  },
});
