// The CPU form of linear for a few input rows (batch-1 inference): dot
// products along the contiguous input features, without the [in][out] weight
// copy the batched form makes. That copy touches every weight on every call
// and cost more than the multiply-adds at batch 1 (LeNet-5's first linear
// layer transposed 48k weights to do 48k multiply-adds).
//
//   part(l, o, rows...) = sum over chunks c of x[rows..., c*L + l] * w[o, c*L + l]
//   y[rows..., o]       = bias[o] + sum over l of part + the tail features
//
// L is one vector: part is a register tile of a few output features, each a
// vector of partial sums, so one x vector serves every feature of the tile
// (schedules/linear_few_rows.cpp).

#include "codegen/lower/context.h"
#include "codegen/schedules/forms.h"

namespace strata::codegen {

using namespace Halide;

namespace {

/// At most this many rows (batch elements) take the dot-product form.
constexpr int64_t kMaxRows = 4;

int64_t rows_of(const Shape &out_shape) {
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < out_shape.size(); ++i) rows *= out_shape[i];
    return rows;
}

}  // namespace

bool linear_few_rows_applies(const ir::Node &node, const LowerContext &ctx) {
    if (!ctx.cpu_tuned_forms()) return false;
    const int64_t in_features = node.input(0)->shape().back();
    return node.shape().size() <= 2 && rows_of(node.shape()) <= kMaxRows &&
           in_features >= ctx.vector_width(node.dtype());
}

Func lower_linear_few_rows(const ir::Node &node, LowerContext &ctx) {
    const ir::Node *x_node = node.input(0), *w_node = node.input(1);
    const Shape &out_shape = node.shape();
    const Type t = halide_type(node.dtype());
    const int lanes = ctx.vector_width(node.dtype());
    const int64_t in_features = x_node->shape().back(), out_features = out_shape.back();
    const int64_t chunks = in_features / lanes, tail = in_features % lanes;
    const bool batched = out_shape.size() == 2;

    const Func x = ctx.func(x_node), w = ctx.func(w_node);  // Halide order: x(k, row), w(k, o)
    Var l("l"), o("o"), row("row");
    auto x_at = [&](const Expr &k) { return batched ? x(k, row) : x(k); };

    RDom rc(0, static_cast<int>(chunks), "chunk");
    Func part(func_name(node, "_part"));
    part(l, o, row) = constant(t, 0);
    part(l, o, row) += x_at(rc * lanes + l) * w(rc * lanes + l, o);

    Func acc(func_name(node, "_acc"));
    acc(o, row) = node.inputs.size() == 3 ? Expr(ctx.func(node.input(2))(o)) : constant(t, 0);
    RDom rl(0, lanes, "lane");
    acc(o, row) += part(rl, o, row);
    if (tail > 0) {
        RDom rt(static_cast<int>(chunks * lanes), static_cast<int>(tail), "tail");
        acc(o, row) += x_at(rt) * w(rt, o);
    }
    Func f(func_name(node));
    if (batched) f(o, row) = acc(o, row);
    else f(o) = acc(o, 0);

    schedule_linear_few_rows_cpu({f, acc, part, l, o, row, rc, rows_of(out_shape), in_features, out_features}, ctx);
    return f;
}

}  // namespace strata::codegen
