// Ambient types of the site's client code: Vue single-file components and the build-time backend module.
declare module '*.vue' {
  import type { DefineComponent } from 'vue';

  const component: DefineComponent<object, object, unknown>;
  export default component;
}

declare module 'virtual:wf-backends' {
  import type { AnyBackend } from '@wf/core';

  /** The part of @wf/backend-gpujs the playground uses. */
  export interface GpujsModule {
    createGpujsBackend(options: { mode: string }): Promise<AnyBackend & { readonly name: string }>;
  }
  /** Dynamic import of @wf/backend-gpujs, or null when the build did not find the package. */
  export const loadGpujs: null | (() => Promise<GpujsModule>);
}
