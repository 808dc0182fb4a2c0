#pragma once
/// \file
/// The shared core of IR passes: rebuild a program node by node into a fresh
/// Program, mapping each old node to its replacement. Nodes are hash-consed,
/// so rebuilding alone merges duplicates (CSE).

#include "ir/program.h"

#include <functional>
#include <vector>

namespace strata::ir {

/// Holds the program being built and the old-node -> new-node map.
class Rebuilder {
public:
    explicit Rebuilder(const Program &source);

    const Program &source() const { return source_; }
    Program &target() { return target_; }

    /// The new node that replaced `old` (which must have been visited and kept).
    const Node *mapped(const Node *old) const;
    /// `old`'s inputs, mapped.
    std::vector<const Node *> mapped_inputs(const Node &old) const;
    /// `old` with its inputs mapped; the type is re-inferred (sources keep theirs).
    const Node *copy(const Node &old);
    /// Shorthand for `target().make(op, inputs, attrs)`.
    const Node *make(Op op, const std::vector<const Node *> &inputs, Attrs attrs = {});

    /// Records `replacement` (nullptr when dropped) for `old`; used by `rebuild`.
    void set_mapping(const Node &old, const Node *replacement);
    /// Moves the built program out, with the source's outputs mapped.
    Program finish();

private:
    const Program &source_;
    Program target_;
    std::vector<const Node *> mapping_;  // by old node id
};

/// Returns the node of `rebuilder.target()` that replaces `old`, or nullptr to
/// drop `old` (it must then be unused by kept nodes and outputs).
using NodeRewrite = std::function<const Node *(Rebuilder &rebuilder, const Node &old)>;

/// Visits the nodes of `source` in order, maps each through `rewrite` and
/// returns the new program with the outputs mapped.
Program rebuild(const Program &source, const NodeRewrite &rewrite);

}  // namespace strata::ir
