#pragma once
// Internal to codegen: per (image, channel) sums of an [N, C, spatial...] tensor in one sweep
// over each plane (batch norm's statistics and backward sums).

#include "codegen/lower/context.h"

#include <functional>
#include <string>

namespace strata::codegen {

/// The sums over the positions of each (image, channel) plane, vectorised along the innermost
/// dim: lanes(l, k, c, n) sums position p of the plane's rows where p % V == l, for each row k
/// (unrolled, so every row of a block is summed while it is in registers), and
/// sums(k, c, n) = sum over the lanes (Halide order).
struct PlaneSums {
    Halide::Func sums, lanes;
    Halide::Var k, c, n;
};

/// Whether plane_sums applies: the CPU default schedule, a 1-d signal [N, C, L] with rows of
/// many vectors.
bool plane_sums_apply(const Shape &shape, DType dtype, const LowerContext &ctx);

/// `rows` sums of value(index, k) over the planes of a tensor of `shape` (index in IR order:
/// n, c, spatial...; k the row, an Expr). The last vector of each row reaches past its end:
/// value is read there (its Funcs must be defined there, e.g. bounded) and masked out.
PlaneSums plane_sums(const std::string &name, const Shape &shape, DType dtype, int rows,
                     const std::function<Halide::Expr(const Index &, const Halide::Expr &)> &value,
                     const LowerContext &ctx);

/// `f(k, c, n)` (Halide order, `rows` rows), a pure Func of per-plane values, computed at root
/// with one task per plane (parallel when the tensor of `shape` is big enough). Returns the task loop.
Halide::Var schedule_per_plane(Halide::Func f, const Halide::Var &k, const Halide::Var &c, const Halide::Var &n,
                               int rows, const Shape &shape, const LowerContext &ctx);
/// The plane sums computed per plane inside loop `at` of `consumer` (see schedule_per_plane):
/// whatever else that task reads of the plane is then still in cache.
void compute_plane_sums_at(const PlaneSums &p, const Halide::Func &consumer, const Halide::Var &at);

}  // namespace strata::codegen
