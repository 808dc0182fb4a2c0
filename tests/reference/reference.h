#pragma once
// Naive references: plain loops computed in double, the trusted oracle that
// every compiled op is checked against. Each takes and returns runtime
// Tensors (any float dtype in, f64 out).

#include "runtime/tensor.h"

#include <string>
#include <vector>

namespace strata::reference {

using Ints = std::vector<int64_t>;

/// The largest |a - b| over all elements (shapes must match).
double max_abs_diff(const Tensor &a, const Tensor &b);

}  // namespace strata::reference
