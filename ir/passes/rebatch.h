#pragma once
/// \file
/// Changes the batch size of a program: the leading dim of every input, and
/// the attributes that spell out the batch (reshape/expand target shapes,
/// input_shape/weight_shape are batch-free). Used by `strata emit --batch`.

#include "ir/program.h"

namespace strata::ir {

/// A copy of `program` whose inputs have leading extent `batch` instead of
/// their common current one. Throws when inputs disagree on the batch or a
/// reshape cannot be told apart from the batch (names the node).
Program rebatch(const Program &program, int64_t batch);

}  // namespace strata::ir
