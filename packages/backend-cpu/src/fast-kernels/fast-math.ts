// Scalar exp and erf for the fast kernels: V8's Math.exp costs tens of nanoseconds, enough to dominate the
// softmax, sigmoid and GELU-gradient passes of a training step. These agree with float64 to within float32
// resolution (exp: relative error below 1e-8; erf: absolute error below 1.2e-7).

/** 2^k for k in [-127, 128], by k + 127. */
const POW2 = Float64Array.from({ length: 256 }, (_, i) => 2 ** (i - 127));

/**
 * e^x in double precision to a relative error below 1e-8 (2^(x log2 e) split into 2^n from a table and
 * 2^f, |f| <= 1/2, by its degree-7 Taylor polynomial). Underflows to 0 below -87.34 and overflows to
 * Infinity above 88.72 (the float32 range); NaN stays NaN.
 */
export function fastExp(x: number): number {
  if (!(x > -87.33654)) return Number.isNaN(x) ? x : 0;
  if (x > 88.72283) return Number.POSITIVE_INFINITY;
  const y = x * Math.LOG2E;
  const n = Math.floor(y + 0.5);
  const f = y - n;
  const p =
    1 +
    f *
      (Math.LN2 +
        f *
          (0.2402265069591007 +
            f *
              (0.05550410866482158 +
                f *
                  (0.009618129107628477 +
                    f * (0.0013333558146428443 + f * (0.00015403530393381606 + f * 1.525273380405984e-5))))));
  return p * POW2[n + 127];
}

/**
 * erf from the Numerical Recipes erfc approximation (one exp and a degree-9 polynomial; absolute error
 * below 1.2e-7, under float32 resolution of values near 1): the hot erf of lowered GELUs and their gradients.
 */
export function fastErf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    fastExp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc : erfc - 1;
}

/** tanh(x) through {@link fastExp} (odd-symmetric; exact ±1 beyond |x| = 20). */
export function fastTanh(x: number): number {
  if (Number.isNaN(x)) return x;
  const a = Math.abs(x);
  if (a > 20) return x > 0 ? 1 : -1;
  if (a < 1e-4) return x; // tanh x = x - x^3/3 + ...: below float32 resolution here
  const e = fastExp(-2 * a);
  const t = (1 - e) / (1 + e);
  return x > 0 ? t : -t;
}
