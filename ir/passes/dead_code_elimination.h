#pragma once
/// \file
/// Dead code elimination.

#include "ir/program.h"

namespace strata::ir {

/// Drops every node that no output depends on. Input and parameter nodes are
/// kept even when unused: they are the program's signature.
Program dead_code_elimination(const Program &program);

}  // namespace strata::ir
