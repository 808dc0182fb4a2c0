#pragma once
/// \file
/// A module kept as a plain member but never passed to `register_module` still works in
/// `forward`, yet its parameters are left out of `named_parameters`: silently never trained
/// and never saved. A training or evaluation graph is checked for such tensors when it is built.

#include "frontend/graph.h"
#include "frontend/nn/module.h"

namespace strata {

/// Fails when `graph` reads a parameter or buffer that is not one of `model`'s, naming the tensor
/// (its path in the unregistered module), its shape and how to fix it; `where` starts the message.
void check_modules_registered(const nn::Module &model, const Graph &graph, const std::string &where);

}  // namespace strata
