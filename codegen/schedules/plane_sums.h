#pragma once
// Internal to codegen: how the plane sums of lower/plane_sums.cpp (batch norm's statistics and
// backward sums on 1-d signals, a CPU-tuned form) run.

#include "codegen/lower/plane_sums.h"

namespace strata::codegen {

/// Every row's accumulator vector updated per position, the rows unrolled: one sweep over the
/// plane. Called by plane_sums once its Funcs are defined.
void schedule_plane_sums_cpu(const PlaneSums &p);

/// `f(k, c, p)` (Halide order, `rows` rows), a pure Func of per-plane values, computed at root
/// with one task per plane (parallel when the tensor of `shape` is big enough). Returns the task loop.
Halide::Var schedule_per_plane(Halide::Func f, const Halide::Var &k, const Halide::Var &c, const Halide::Var &p,
                               int rows, const Shape &shape, const LowerContext &ctx);
/// The plane sums computed per plane inside loop `at` of `consumer` (see schedule_per_plane):
/// whatever else that task reads of the plane is then still in cache.
void compute_plane_sums_at(const PlaneSums &p, const Halide::Func &consumer, const Halide::Var &at);

}  // namespace strata::codegen
