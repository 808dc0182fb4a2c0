#pragma once
// Compositions Strata's ONNX export writes for ops ONNX lacks (frontend/onnx/onnx_export.cpp),
// recognised on import so that an exported model comes back as the same Strata ops and computes
// the same bits. Each rule matches the exporter's spelling exactly (ops, operand order, constants
// as the exporter rounds them); anything else is left to the node's plain translation.
// Internal to strata_onnx.

#include "frontend/graph.h"

#include <string>
#include <vector>

namespace strata::onnx {

/// The Strata op that ONNX node `op_type` on `inputs` (already translated) completes, or an
/// undefined SymTensor when the node is not the last of such a composition:
///   Div(1, Sqrt(x))                                         rsqrt(x)
///   Not(Equal(a, b))                                        ne(a, b)
///   Mul(Mul(0.5, x), Add(1, Erf(Mul(x, 1/sqrt 2))))          gelu(x)
///   Mul(Mul(0.5, x), Add(1, Tanh(Mul(sqrt(2/pi), Add(x, Mul(Mul(Mul(0.044715, x), x), x))))))
///                                                           gelu(x, "tanh")
///   Where(Greater(Mul(x, b), t), x, Div(Softplus(Mul(x, b)), b))   softplus(x, b, t)
///   Where(Greater(x, 0), x, Mul(x, s))                      leaky_relu(x, s) (f64 slopes)
///   MatMul(x, Transpose(W)) (x not 2-D; W a 2-D initializer)  linear(x, W)
///   Add(linear(x, W), b) (b a 1-D initializer of W's rows)  linear(x, W, b)
SymTensor exported_composition(const std::string &op_type, const std::vector<SymTensor> &inputs);

}  // namespace strata::onnx
