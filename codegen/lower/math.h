#pragma once
// Internal to codegen: math functions Halide 14 lacks, accurate to the last
// few ulps in both f32 and f64 (the f64 gradient checks need it).

#include <Halide.h>

namespace strata::codegen {

/// exp and log with IEEE special values in f32 as well: Halide's f32
/// polynomials return 0 for exp(+inf), exp(NaN) and exp(x > ~1e9), and finite
/// values for log(+inf) and log(NaN). f64 goes to libm and is unchanged.
Halide::Expr ieee_exp(const Halide::Expr &x);
Halide::Expr ieee_log(const Halide::Expr &x);
/// The error function in f32 and f64 (Halide's own erf is f32 only).
Halide::Expr accurate_erf(const Halide::Expr &x);
/// log(1 + x), accurate for small x.
Halide::Expr log1p(const Halide::Expr &x);
/// exp(x) - 1, accurate for small x.
Halide::Expr expm1(const Halide::Expr &x);

/// max / min that return NaN when either side is NaN (PyTorch's semantics;
/// Halide's fast-math max drops NaNs). Integers use the plain form.
Halide::Expr nan_max(const Halide::Expr &a, const Halide::Expr &b);
Halide::Expr nan_min(const Halide::Expr &a, const Halide::Expr &b);
/// `value`, or x itself where x is NaN (so an activation passes NaN through).
Halide::Expr keep_nan(const Halide::Expr &x, const Halide::Expr &value);

/// An integer (a class target, a pooling index) as the i32 that Halide indexes with: i32 as it
/// is; i64 clamped to the i32 range first, so every value inside it is exact and one beyond it
/// stays beyond any bound an i32 check tests (it never wraps onto a valid index).
Halide::Expr saturating_i32(const Halide::Expr &x);

}  // namespace strata::codegen
