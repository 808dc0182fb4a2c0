#include "codegen/lower/math.h"

#include "codegen/lower/context.h"

#include <cmath>

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
    // |x| >= 2.5: erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))),
    // the continued fraction evaluated bottom-up at a fixed depth.
    Expr xl = max(x, constant(t, 2.5));
    Expr k = xl;
    for (int n = 60; n >= 1; --n) k = xl + constant(t, n / 2.0) / k;
    Expr large = constant(t, 1.0) - exp(-xl * xl) / (constant(t, std::sqrt(M_PI)) * k);
    Expr magnitude = select(x < constant(t, 2.5), small, large);
    return select(x_in < 0, -magnitude, magnitude);
}

Expr log1p(const Expr &x) {
    // Goldberg's trick: the rounding error of 1 + x cancels in log(u) * x / (u - 1).
    Expr u = x + constant(x.type(), 1.0);
    return select(u == constant(x.type(), 1.0), x, log(u) * x / (u - constant(x.type(), 1.0)));
}

Expr expm1(const Expr &x) {
    // Kahan's trick: (u - 1) * x / log(u) with u = exp(x).
    Expr u = exp(x);
    Expr one = constant(x.type(), 1.0);
    return select(u == one, x, select(u - one == -one, -one, (u - one) * x / log(u)));
}

}  // namespace strata::codegen
