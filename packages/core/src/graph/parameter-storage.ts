// Where parameters live on a backend: one storage block per parameter per backend, shared by every graph
// compiled for that backend that refers to the parameter (reference-counted: freed when the last such
// graph is disposed, or with the backend). A resident copy records the parameter version it holds;
// `sync` rewrites it when the parameter has moved on, and kernels get that version to key their caches
// of derived data (packed matrices) by.
import type { AnyBackend } from '../backend.js';
import { onBackendDispose } from '../backend-dispose.js';
import type { Parameter } from '../ir/parameter.js';
import { bytesOf } from '../ir/types.js';

/** A parameter's copy on one backend. */
export interface ResidentParameter {
  /** The parameter. */
  readonly param: Parameter;
  /** The backend tensor holding it (dense, at the start of its own storage block). */
  readonly tensor: unknown;
  /** The parameter version the tensor holds. */
  readonly version: number;
  /** Bytes of its storage. */
  readonly bytes: number;
}

interface Entry extends ResidentParameter {
  version: number;
  storage: unknown;
  refs: number;
}

/** The parameters resident on one backend. */
class ParameterStorage {
  private readonly backend: AnyBackend;
  private readonly entries = new Map<Parameter, Entry>();

  constructor(backend: AnyBackend) {
    this.backend = backend;
  }

  acquire(p: Parameter): ResidentParameter {
    let e = this.entries.get(p);
    if (!e) {
      const type = p.type;
      const bytes = Math.max(bytesOf(type), 4);
      const storage = this.backend.allocate(bytes);
      const tensor = this.backend.wrap(storage, type);
      this.backend.write(tensor, p.value);
      e = { param: p, tensor, storage, version: p.version, bytes, refs: 0 };
      this.entries.set(p, e);
    }
    e.refs++;
    return e;
  }

  release(r: ResidentParameter): void {
    const e = this.entries.get(r.param);
    if (!e || e !== r) return;
    if (--e.refs > 0) return;
    this.entries.delete(r.param);
    this.backend.release(e.storage);
  }

  sync(r: ResidentParameter): void {
    const e = r as Entry;
    if (e.version === e.param.version) return;
    this.backend.write(e.tensor, e.param.value);
    e.version = e.param.version;
  }

  stats(): { count: number; bytes: number } {
    let bytes = 0;
    for (const e of this.entries.values()) bytes += e.bytes;
    return { count: this.entries.size, bytes };
  }

  forget(): void {
    this.entries.clear();
  }
}

const stores = new WeakMap<AnyBackend, ParameterStorage>();

/** The parameter storage of `backend` (made on first use; emptied when the backend is disposed). @internal */
export function parameterStorage(backend: AnyBackend): {
  acquire(p: Parameter): ResidentParameter;
  release(r: ResidentParameter): void;
  sync(r: ResidentParameter): void;
} {
  let s = stores.get(backend);
  if (!s) {
    const made = new ParameterStorage(backend);
    s = made;
    stores.set(backend, made);
    // The backend frees its storage itself; later releases of these blocks are no-ops.
    onBackendDispose(backend, () => {
      made.forget();
      stores.delete(backend);
    });
  }
  return s;
}

/**
 * Parameters a backend holds for compiled graphs now: how many and their bytes (each once, however many
 * graphs read it). Zero for a backend that compiles whole graphs itself (`compileGraph`).
 */
export function residentParameters(backend: AnyBackend): { count: number; bytes: number } {
  return stores.get(backend)?.stats() ?? { count: 0, bytes: 0 };
}
