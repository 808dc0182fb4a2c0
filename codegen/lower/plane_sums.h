#pragma once
// Internal to codegen: per (image, channel) sums of an [N, C, spatial...] tensor in one sweep
// over each plane (batch norm's statistics and backward sums).

#include "codegen/lower/context.h"

#include <functional>
#include <string>

namespace strata::codegen {

/// The sums over each plane of a channel: the rows of `images` consecutive images (enough
/// images that a plane holds a few thousand elements: the per-plane set-up then costs little),
/// vectorised along the rows: lanes(l, k, c, p) sums position i of plane p's rows where
/// i % V == l, for each row k (unrolled, so every row of a block is summed while it is in
/// registers), and sums(k, c, p) = sum over the lanes (Halide order).
struct PlaneSums {
    Halide::Func sums, lanes;
    Halide::Var k, c, p;
    int64_t images;  ///< images per plane (a divisor of N)
    int64_t planes;  ///< planes per channel: N / images
    // For the schedule (schedules/plane_sums.cpp): block(l, k, c, p, b, outer..., image) sums a
    // block of vectors of one row over `vectors`; lanes adds the blocks up over `blocks`.
    Halide::Func block;
    Halide::Var l;
    Halide::RDom blocks, vectors;
    int rows;
};

/// Whether plane_sums applies: the CPU default schedule, a 1-d signal [N, C, L] with rows of
/// many vectors.
bool plane_sums_apply(const Shape &shape, DType dtype, const LowerContext &ctx);

/// `rows` sums of value(index, k) over the planes of a tensor of `shape` (index in IR order:
/// n, c, spatial...; k the row, an Expr; image n lies in plane n / images). The last vector of each row reaches past its end:
/// value is read there (its Funcs must be defined there, e.g. bounded) and masked out.
PlaneSums plane_sums(const std::string &name, const Shape &shape, DType dtype, int rows,
                     const std::function<Halide::Expr(const Index &, const Halide::Expr &)> &value,
                     const LowerContext &ctx);

}  // namespace strata::codegen
