// Notification when a backend is disposed, for caches that hold compiled graphs per backend (a model's
// compile cache): they drop that backend's graphs instead of keeping them, and the backend, alive.
import type { AnyBackend } from './backend.js';

const listeners = new WeakMap<AnyBackend, Set<() => void>>();

/**
 * Calls `fn` once when `backend.dispose()` is first called (after the backend's own dispose ran). The backend
 * object is not changed beyond its `dispose` being wrapped once; a frozen backend gets no notification.
 *
 * @returns A function that removes the listener (idempotent).
 */
export function onBackendDispose(backend: AnyBackend, fn: () => void): () => void {
  let set = listeners.get(backend);
  if (!set) {
    if (Object.isFrozen(backend)) return () => {};
    const own = new Set<() => void>();
    set = own;
    listeners.set(backend, own);
    const original = backend.dispose;
    (backend as { dispose: () => void }).dispose = function dispose(this: AnyBackend) {
      try {
        original.call(this);
      } finally {
        const fns = [...own];
        own.clear();
        for (const f of fns) f();
      }
    };
  }
  const s = set;
  s.add(fn);
  return () => {
    s.delete(fn);
  };
}
