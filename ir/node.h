#pragma once
/// \file
/// `Node`: one immutable SSA value of a Program.

#include "ir/attrs.h"
#include "ir/op.h"
#include "ir/type.h"

#include <cstdint>
#include <vector>

namespace strata::ir {

/// A node is created only through `Program::make`, which infers its type and
/// hash-conses it: the same (op, inputs, attrs) gives the same node.
struct Node {
    Op op;
    std::vector<const Node *> inputs;
    Attrs attrs;
    Type type;
    /// Position in the program (nodes are stored in a topological order).
    int id = 0;

    const OpInfo &info() const { return op_info(op); }
    const char *name() const { return op_name(op); }
    const Node *input(size_t i) const { return inputs.at(i); }
    const Shape &shape() const { return type.shape; }
    DType dtype() const { return type.dtype; }
    /// "%5 (conv2d)", for messages.
    std::string label() const;
};

}  // namespace strata::ir
