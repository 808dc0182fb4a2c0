#pragma once
/// \file
/// The VJP rules: for each differentiable op, the gradients of its inputs
/// given the gradient of its output. All rules live in vjp_rules.cpp.

#include "ir/autodiff/builder.h"

#include <vector>

namespace strata::ir {

/// Whether gradients flow through `node` at all: false for the ops ops.def
/// marks nondiff (argmax, comparisons, logical ops) or leaf (sources), for
/// non-float results and for casts from non-float types.
bool is_differentiable(const Node &node);

/// The gradient of each input of `node` given `grad_output` (the gradient of
/// the loss with respect to node's output), built with `b`. An entry may be
/// nullptr when the input gets no gradient (e.g. a where's condition).
std::vector<const Node *> vjp(Builder &b, const Node &node, const Node *grad_output);

}  // namespace strata::ir
