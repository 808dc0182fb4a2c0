#pragma once
/// \file
/// Reverse-mode automatic differentiation as an IR pass.
///
/// The gradient nodes are ordinary IR (real gradient ops such as
/// conv2d_grad_weight and max_pool2d_grad, and pointwise ops), so running the
/// pass on its own output gives higher derivatives.

#include "ir/program.h"

#include <string>
#include <vector>

namespace strata::ir {

/// Adds to `program` the gradient of the scalar `loss` with respect to each
/// node of `wrt` and returns them in the same order. Fan-out is accumulated.
/// A node the loss does not depend on gets a zero gradient; a loss that
/// depends on a node only through non-differentiable ops (argmax,
/// comparisons, integer casts) is an error naming that op.
std::vector<const Node *> gradients(Program &program, const Node *loss, const std::vector<const Node *> &wrt);

/// The pass form: a copy of `program` with one more output "grad:NAME" for
/// each input or parameter named in `wrt`, the gradient of output `loss`.
Program differentiate(const Program &program, const std::string &loss, const std::vector<std::string> &wrt);

}  // namespace strata::ir
