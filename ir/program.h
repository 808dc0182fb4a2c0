#pragma once
/// \file
/// `Program`: a DAG of hash-consed nodes with named inputs, parameters and outputs.

#include "ir/node.h"

#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace strata::ir {

struct Output {
    std::string name;
    const Node *node;
};

class Program {
public:
    Program() = default;
    Program(const Program &) = delete;
    Program &operator=(const Program &) = delete;
    Program(Program &&) = default;
    Program &operator=(Program &&) = default;

    /// Creates (or finds) the node op(inputs){attrs}. Infers its type with the
    /// op's shape rule, which throws strata::Error on a user mistake.
    /// Source ops (input, parameter, full, iota) take their type from `type`.
    const Node *make(Op op, const std::vector<const Node *> &inputs, Attrs attrs = {},
                     const Type *type = nullptr);

    /// Shorthands for sources.
    const Node *input(const std::string &name, const Type &type);
    const Node *parameter(const std::string &name, const Type &type);
    const Node *full(double value, const Type &type);

    /// Marks a node as a named output (names are unique).
    void add_output(const std::string &name, const Node *node);

    /// Every node in topological order; read-only, as nodes are shared (hash-consed).
    const std::vector<std::unique_ptr<const Node>> &nodes() const { return nodes_; }
    const std::vector<Output> &outputs() const { return outputs_; }
    /// Input / parameter nodes in creation order.
    std::vector<const Node *> inputs() const { return sources(Op::input); }
    std::vector<const Node *> parameters() const { return sources(Op::parameter); }
    /// The output node with this name, or nullptr.
    const Node *find_output(const std::string &name) const;
    /// The input or parameter node with this name, or nullptr.
    const Node *find_source(const std::string &name) const;
    /// True when `node` belongs to this program.
    bool owns(const Node *node) const;

    /// A stable 64-bit hash of the program's text form (the compile-cache key).
    uint64_t fingerprint() const;

private:
    std::vector<std::unique_ptr<const Node>> nodes_;
    std::unordered_multimap<size_t, const Node *> interned_;
    std::vector<Output> outputs_;
    std::vector<const Node *> sources(Op op) const;
};

/// A copy of a program (same nodes, same order, same outputs).
Program clone(const Program &program);

/// Infers the result type of op(inputs){attrs}; throws strata::Error naming the
/// op, the shapes involved and what was expected. Defined in shape_inference.cpp.
Type infer_type(Op op, const std::vector<const Node *> &inputs, const Attrs &attrs);

}  // namespace strata::ir
