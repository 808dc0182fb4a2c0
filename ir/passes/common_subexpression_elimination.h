#pragma once
/// \file
/// Common subexpression elimination.

#include "ir/program.h"

namespace strata::ir {

/// Merges nodes with the same op, inputs and attributes (and, for sources, the
/// same type). Rebuilding is enough: `Program::make` hash-conses every node.
/// Matters after passes that rewrote inputs so that two nodes became equal.
Program common_subexpression_elimination(const Program &program);

}  // namespace strata::ir
