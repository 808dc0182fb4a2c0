#pragma once
// Internal to the frontend: helpers shared by the functional op files.

#include "frontend/functional.h"

namespace strata::detail {

/// Builds op(inputs){attrs} in the graph of the first input.
SymTensor make(ir::Op op, const std::vector<SymTensor> &inputs, ir::Attrs attrs = {});

/// A scalar constant of x's dtype, in x's graph.
SymTensor scalar_like(const SymTensor &x, double value);

/// A dim in [-rank, rank) made non-negative; throws naming `op` otherwise.
int64_t normalize_dim(const char *op, int64_t dim, int64_t rank);

/// Sorted, unique, non-negative dims; empty means all dims.
Ints normalize_dims(const char *op, const Ints &dims, int64_t rank);

/// A per-dim list from a list of 1 or n values (PyTorch's _pair / _single).
Ints expand_list(const char *op, const char *what, const Ints &values, size_t n);

}  // namespace strata::detail
