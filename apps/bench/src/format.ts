// Number formatting shared by the markdown and HTML reports.

/** Milliseconds with 3 significant digits (at least one decimal below 100). */
export function fmtMs(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  return ms.toFixed(2);
}

/** Bytes as MiB with one decimal, or an em dash for null. */
export function fmtMiB(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? '—' : (bytes / 2 ** 20).toFixed(1);
}

/** FLOPs as GFLOP with 3 significant digits. */
export function fmtGflop(flops: number): string {
  const g = flops / 1e9;
  return g >= 100 ? g.toFixed(0) : g >= 10 ? g.toFixed(1) : g.toFixed(3);
}

/** A number with `digits` decimals, or an em dash when null. */
export function fmtNum(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);
}

/** A token count with thousands separators. */
export function fmtTokens(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : Math.round(n).toLocaleString('en-US');
}
