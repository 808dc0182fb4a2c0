#pragma once
// Internal to codegen: the class targets of a loss, checked when the pipeline runs.

#include "codegen/lower/context.h"

#include <string>

namespace strata::codegen {

/// The i32 or i64 class targets `targets` (of shape `shape`), unchanged, as a Func computed whole on
/// the host before the loss: a value outside [0, classes) that is not `ignore_index` makes the
/// run fail with a message naming the value and its position (PyTorch: "Target 7 is out of
/// bounds"), e.g. "7 is out of bounds as the class target at position [ 1 , 0 ] (expected a
/// class in [0, 4) or the ignore_index -100)".
Halide::Func checked_class_targets(const std::string &name, const Halide::Func &targets, const Shape &shape,
                                   int64_t classes, int64_t ignore_index, LowerContext &ctx);

}  // namespace strata::codegen
