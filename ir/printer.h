#pragma once
/// \file
/// IR text form. One line per node, numbered in order, then the outputs:
///
///     %0 = input() {name="x"} : f32[2,1,28,28]
///     %1 = parameter() {name="conv1.weight"} : f32[6,1,5,5]
///     %2 = conv2d(%0, %1) {dilation=[1,1], groups=1, padding=[2,2], stride=[1,1]} : f32[2,6,28,28]
///     output "logits" = %2
///
/// Attributes print sorted by name; `parse(print(p))` prints identically.

#include "ir/program.h"

#include <string>

namespace strata::ir {

/// The whole program as text (ends with a newline).
std::string print(const Program &program);

/// One node's line without the trailing newline, with `%id` names.
std::string print_node(const Node &node);

}  // namespace strata::ir
