// Typed errors of @wf/core: every failure a user can cause surfaces as one of these, with a message
// that names the problem (and, for shapes, the op and the shapes involved).

/** Base class of every error thrown by WeightFormer.js. `code` is stable and machine-readable. */
export class WfError extends Error {
  /** A stable identifier of the kind of failure, e.g. `E_SHAPE`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An op was given inputs whose shapes, ranks or dtypes it cannot accept. */
export class ShapeError extends WfError {
  /** The op that rejected its inputs. */
  readonly op: string;
  constructor(op: string, message: string) {
    super('E_SHAPE', `${op}: ${message}`);
    this.op = op;
  }
}

/** Invalid attributes or arguments given to an op or an API function. */
export class ArgumentError extends WfError {
  constructor(message: string) {
    super('E_ARGUMENT', message);
  }
}

/** A graph is malformed, or run with missing, extra or mis-shaped inputs. */
export class GraphError extends WfError {
  constructor(message: string) {
    super('E_GRAPH', message);
  }
}

/** A backend cannot run something (missing kernel, disposed, unsupported dtype). */
export class BackendError extends WfError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_BACKEND', message, options);
  }
}

/** A safetensors file is malformed, truncated or inconsistent. */
export class SafetensorsError extends WfError {
  constructor(message: string) {
    super('E_SAFETENSORS', message);
  }
}

/** Formats a shape for error messages: `[2,3,4]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
