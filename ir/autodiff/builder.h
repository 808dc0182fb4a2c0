#pragma once
/// \file
/// A small IR builder for the VJP rules: one-line helpers that create nodes
/// in a Program (so the rules read like the math they implement).

#include "ir/program.h"

namespace strata::ir {

class Builder {
public:
    explicit Builder(Program &program) : p_(program) {}
    Program &program() { return p_; }

    using N = const Node *;
    N op(Op op, std::vector<N> inputs, Attrs attrs = {}) { return p_.make(op, inputs, std::move(attrs)); }
    /// A scalar constant of `like`'s dtype (broadcasts in pointwise ops).
    N scalar(double value, N like) { return p_.full(value, Type{like->dtype(), {}}); }
    N zeros(const Type &type) { return p_.full(0.0, type); }

    N add(N a, N b) { return op(Op::add, {a, b}); }
    N sub(N a, N b) { return op(Op::sub, {a, b}); }
    N mul(N a, N b) { return op(Op::mul, {a, b}); }
    N div(N a, N b) { return op(Op::div, {a, b}); }
    N neg(N a) { return op(Op::neg, {a}); }
    N mul(N a, double b) { return mul(a, scalar(b, a)); }
    N where(N c, N a, N b) { return op(Op::where, {c, a, b}); }
    N gt(N a, N b) { return op(Op::gt, {a, b}); }
    N lt(N a, N b) { return op(Op::lt, {a, b}); }
    N eq(N a, N b) { return op(Op::eq, {a, b}); }
    N cast(N a, DType t) { return a->dtype() == t ? a : op(Op::cast, {a}, {{"dtype", t}}); }
    N reshape(N a, const Shape &shape) { return a->shape() == shape ? a : op(Op::reshape, {a}, {{"shape", shape}}); }
    N expand(N a, const Shape &shape) { return a->shape() == shape ? a : op(Op::expand, {a}, {{"shape", shape}}); }
    N permute(N a, const Ints &dims);
    /// Swaps the last two dims.
    N transpose_last(N a);
    N sum(N a, const Ints &dims, bool keepdim);
    /// Sums a broadcast gradient back to `shape` (NumPy broadcasting undone).
    N sum_to(N g, const Shape &shape);

private:
    Program &p_;
};

}  // namespace strata::ir
