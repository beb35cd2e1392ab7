// Types of parity-error.js: the error measure of the parity checks (browser-safe, no imports).
/** Options of {@link parityError}. */
export interface ParityErrorOptions {
  /** The bound relative to max |ref| (default 1e-4). */
  rel?: number;
  /** The bound is `rel` * max(`floor`, max |ref|) (default 0). */
  floor?: number;
}
/** max |got - ref| (infinite on a NaN) and the bound `rel` * max(`floor`, max |ref|). */
export declare function parityError(
  got: { readonly data: ArrayLike<number> },
  ref: { readonly data: ArrayLike<number> },
  options?: ParityErrorOptions,
): { err: number; bound: number };
