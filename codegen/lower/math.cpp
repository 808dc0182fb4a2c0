#include "codegen/lower/math.h"

#include "codegen/lower/context.h"

#include <cmath>
#include <limits>

namespace strata::codegen {

using namespace Halide;

Expr accurate_erf(const Expr &x_in) {
    const Type t = x_in.type();
    Expr x = abs(x_in);
    // |x| < 2.5: erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (2n+1)!!,
    // all terms positive (no cancellation); 40 terms reach 1e-17 at x = 2.5.
    Expr x2 = x * x;
    Expr series = constant(t, 1.0);
    for (int n = 40; n >= 1; --n) series = constant(t, 1.0) + (2 * x2 / constant(t, 2.0 * n + 1)) * series;
    Expr small = constant(t, 2.0 / std::sqrt(M_PI)) * exp(-x2) * x * series;
    // |x| >= 2.5: erfc(x) = exp(-x^2)/sqrt(pi) / K, K = x + (1/2)/(x + 1/(x + (3/2)/(x + ...))),
    // the continued fraction at a fixed depth as the ratio A/B of the forward
    // recurrences A_n = x A_n-1 + (n/2) A_n-2 (B alike): one division. Nested
    // divisions (bottom-up evaluation) made Halide's bounds queries exponential
    // in the depth, so sum(erf(x)) never finished compiling. x is clamped where
    // erf is already 1 so that A and B stay finite (f32 needs fewer terms).
    const bool f64 = t.bits() == 64;
    Expr xl = min(max(x, constant(t, 2.5)), constant(t, f64 ? 10.0 : 6.0));
    Expr a_prev = constant(t, 1.0), a = xl, b_prev = constant(t, 0.0), b = constant(t, 1.0);
    for (int n = 1; n <= (f64 ? 60 : 20); ++n) {
        Expr a_next = xl * a + constant(t, n / 2.0) * a_prev, b_next = xl * b + constant(t, n / 2.0) * b_prev;
        a_prev = a, b_prev = b, a = a_next, b = b_next;
    }
    Expr large = constant(t, 1.0) - exp(-xl * xl) * b / (constant(t, std::sqrt(M_PI)) * a);
    Expr magnitude = select(x < constant(t, 2.5), small, large);
    return select(x_in < 0, -magnitude, magnitude);
}

Expr ieee_exp(const Expr &x) {
    if (x.type() != Float(32)) return exp(x);
    // Above log(FLT_MAX) the true result overflows; NaN passes through.
    const Expr inf = Expr(std::numeric_limits<float>::infinity());
    return select(x > 88.75f, inf, is_nan(x), x, exp(x));
}

Expr ieee_log(const Expr &x) {
    if (x.type() != Float(32)) return log(x);
    // +inf and NaN are their own logarithm.
    return select(is_inf(x) && x > 0.0f, x, is_nan(x), x, log(x));
}

Expr log1p(const Expr &x) {
    // Near 0, 1 + x rounds away the low digits of x: use the Taylor series
    // there (8 terms, below 1e-16 relative for |x| < 0.01). Goldberg's rounding
    // trick does not survive fast-math, which folds (x + 1) - 1 into x: it gave
    // softplus(-40) = 0 instead of 4.2e-18.
    const Type t = x.type();
    Expr p = constant(t, 1.0 / 8);
    for (int n = 7; n >= 1; --n) p = constant(t, 1.0 / n) - x * p;
    return select(abs(x) < constant(t, 0.01), x * p, ieee_log(x + constant(t, 1.0)));
}

Expr expm1(const Expr &x) {
    // Kahan's trick: (u - 1) * x / log(u) with u = exp(x).
    Expr u = ieee_exp(x);
    Expr one = constant(x.type(), 1.0);
    return select(u == one, x, select(u - one == -one, -one, (u - one) * x / ieee_log(u)));
}

Expr nan_max(const Expr &a, const Expr &b) {
    if (!a.type().is_float()) return max(a, b);
    // strict: under fast-math LLVM assumes a max's result is never NaN and
    // would drop the test on the running value of a reduction.
    return strict_float(select(is_nan(a), a, is_nan(b), b, max(a, b)));
}

Expr nan_min(const Expr &a, const Expr &b) {
    if (!a.type().is_float()) return min(a, b);
    return strict_float(select(is_nan(a), a, is_nan(b), b, min(a, b)));
}

Expr saturating_i32(const Expr &x) {
    if (x.type() == Int(32)) return x;
    return cast<int32_t>(clamp(x, Int(32).min(), Int(32).max()));
}

Expr keep_nan(const Expr &x, const Expr &value) {
    if (!x.type().is_float()) return value;
    return select(is_nan(x), x, value);
}

}  // namespace strata::codegen
