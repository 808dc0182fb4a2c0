#pragma once
// Internal to codegen: math functions Halide 14 lacks, accurate to the last
// few ulps in both f32 and f64 (the f64 gradient checks need it).

#include <Halide.h>

namespace strata::codegen {

/// The error function in f32 and f64 (Halide's own erf is f32 only).
Halide::Expr accurate_erf(const Halide::Expr &x);
/// log(1 + x), accurate for small x.
Halide::Expr log1p(const Halide::Expr &x);
/// exp(x) - 1, accurate for small x.
Halide::Expr expm1(const Halide::Expr &x);

}  // namespace strata::codegen
