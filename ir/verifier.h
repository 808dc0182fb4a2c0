#pragma once
/// \file
/// The IR verifier: checks a Program's invariants. Run after every pass
/// (MLIR style), so a buggy pass is caught at the pass, not at codegen.

#include "ir/program.h"

namespace strata::ir {

/// Checks that
/// - nodes are numbered by position and in topological order (every input has
///   a smaller id and belongs to this program);
/// - each node has an input count and attributes that match its op's schema;
/// - each non-source node's type equals `infer_type` of its inputs, and source
///   types are valid (non-negative extents, iota's dim in range);
/// - input / parameter names are unique; output names are non-empty and unique,
///   and outputs refer to nodes of this program.
/// Throws strata::Error naming the offending node (`%5 (conv2d)`) or output.
void verify(const Program &program);

}  // namespace strata::ir
