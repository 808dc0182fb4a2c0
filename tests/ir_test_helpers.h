#pragma once
/// \file
/// The verifier and pass tests need programs that the API cannot build: a node
/// changed behind its program's back, as a buggy pass casting away const would
/// leave it. Program::nodes() is read-only; Program allocates its nodes as
/// non-const objects, so casting the constness away here is defined.

#include "ir/program.h"

namespace strata::ir::testing {

/// Node `id` of `program`, writable: only for building corrupt programs in tests.
inline Node &corrupt_node(const Program &program, size_t id) {
    return const_cast<Node &>(*program.nodes().at(id));
}

}  // namespace strata::ir::testing
