#pragma once
// Internal to codegen: sums whose rounding error grows with log(n), not n.

#include "codegen/lower/context.h"

#include <functional>
#include <string>

namespace strata::codegen {

/// Elements added one after another before their sum joins the next level.
inline constexpr int64_t kCascadeBlock = 16;

/// The sum of `value(k)` over every index k of `reduced` (extents, IR order), for each index of
/// `out_vars` (IR order; `out_shape` their extents). Added as PyTorch's cascade sum does: blocks
/// of kCascadeBlock consecutive elements in order, then those block sums in blocks, and so on, so
/// a float sum of n values is off by O(log n) roundings rather than O(n). A sum of at most
/// kCascadeBlock values is one plain loop. Every stage is scheduled as a reduction; the result,
/// named `name`, is computed at root.
Halide::Func cascade_sum(const std::string &name, const std::vector<Halide::Var> &out_vars, const Shape &out_shape,
                         const Shape &reduced, DType dtype, const std::function<Halide::Expr(const Index &)> &value,
                         LowerContext &ctx);

}  // namespace strata::codegen
