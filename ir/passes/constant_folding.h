#pragma once
/// \file
/// Constant folding of `full` nodes.

#include "ir/program.h"

namespace strata::ir {

/// Rewrites
/// - a pointwise op whose inputs are all `full` nodes into one `full` of the
///   result type. The value is computed in double, then rounded to the result
///   dtype as the runtime would store it: f32 through a float cast, i32 by
///   truncation (C++ static_cast; a result outside i32's range is not folded),
///   bool to 0 or 1. Comparisons give bool. `dropout` is never folded (it is random);
/// - reshape / expand / permute of a `full` into a `full` of the new shape.
/// Other ops are left alone. The replaced nodes stay until dead code elimination.
Program constant_folding(const Program &program);

}  // namespace strata::ir
