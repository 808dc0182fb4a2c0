// Lowering of matmul (batched, broadcast batch dims) and linear.

#include "codegen/lower/context.h"
#include "codegen/schedules/schedule.h"

namespace strata::codegen {

using namespace Halide;
using ir::Op;

namespace {

/// Builds the TiledReduction for an output whose innermost dim is vectorised
/// and next-innermost unrolled.
TiledReduction tiles_for(const Func &out, const Func &acc, const std::vector<Var> &vars, const Shape &shape,
                         const RDom &r, DType dtype, int64_t work) {
    TiledReduction t;
    t.out = out;
    t.acc = acc;
    const size_t rank = shape.size();
    t.x = {vars[rank - 1], shape[rank - 1]};
    t.c = {vars[rank - 2], shape[rank - 2]};
    for (size_t i = rank - 2; i-- > 0;) t.outer.push_back({vars[i], shape[i]});
    for (int i = 0; i < r.dimensions(); ++i) t.rvars.push_back(r[i]);
    t.dtype = dtype;
    t.work_per_output = work;
    return t;
}

}  // namespace

Func lower_matmul(const ir::Node &node, LowerContext &ctx) {
    const ir::Node *a = node.input(0), *b = node.input(1);
    const Shape &out_shape = node.shape();
    const Type t = halide_type(node.dtype());
    Func f(func_name(node)), acc(func_name(node, "_acc"));

    if (node.op == Op::linear) {
        if (linear_few_rows_applies(node, ctx)) return lower_linear_few_rows(node, ctx);
        // out[..., o] = sum_k x[..., k] * w[o, k] + bias[o]. A [k][o] copy of
        // the weight makes the vectorised o loop read contiguous memory.
        const int64_t in_features = a->shape().back();
        Shape shape2 = out_shape;
        if (shape2.size() == 1) shape2.insert(shape2.begin(), 1);  // a 1-d input is one row
        auto vars = make_vars(shape2.size());
        Var o("o"), k("k");
        Func wt(func_name(node, "_wt"));
        wt(o, k) = ctx.func(b)(k, o);
        store_whole(wt, ctx);
        RDom r(0, static_cast<int>(in_features), "k");
        Index x_idx(vars.begin() + (out_shape.size() == 1 ? 1 : 0), vars.end() - 1);
        x_idx.push_back(r);
        define(acc, vars, node.inputs.size() == 3 ? ctx.func(node.input(2))(vars.back()) : constant(t, 0));
        acc(to_halide_args(as_index(vars))) = call(acc, as_index(vars)) + call(ctx.func(a), x_idx) * wt(vars.back(), r);
        // Batched, the 2-d result is the node's output (and the stage schedule rules steer).
        Func out2(out_shape.size() == 1 ? func_name(node, "_2d") : func_name(node));
        define(out2, vars, call(acc, as_index(vars)));
        TiledReduction tiles = tiles_for(out2, acc, vars, shape2, r, node.dtype(), in_features);
        tiles.broadcast_operand = ctx.func(a);  // one input row serves every output feature
        tiles.steered = out_shape.size() != 1;  // 1-d: rules steer the 1-d result, f
        schedule_tiled_reduction(tiles, ctx);
        if (out_shape.size() == 1) {
            f(vars.back()) = out2(vars.back(), 0);
            return f;
        }
        return out2;
    }

    // matmul: out[..., m, n] = sum_k a[..., m, k] * b[..., k, n]
    auto vars = make_vars(out_shape.size());
    const int64_t k_extent = a->shape().back();
    RDom r(0, static_cast<int>(k_extent), "k");
    const Index out_idx = as_index(vars);
    Index a_idx = broadcast_index(a->shape(), out_idx, out_shape);
    Index b_idx = broadcast_index(b->shape(), out_idx, out_shape);
    a_idx.back() = r;
    b_idx[b_idx.size() - 2] = r;
    // broadcast_index maps a's last two dims from the output's (m, n); fix them.
    a_idx[a_idx.size() - 2] = out_idx[out_idx.size() - 2];
    b_idx.back() = out_idx.back();
    define(acc, vars, constant(t, 0));
    acc(to_halide_args(out_idx)) = call(acc, out_idx) + call(ctx.func(a), a_idx) * call(ctx.func(b), b_idx);
    define(f, vars, call(acc, out_idx));
    TiledReduction tiles = tiles_for(f, acc, vars, out_shape, r, node.dtype(), k_extent);
    tiles.broadcast_operand = ctx.func(a);  // one row of a serves every column of the output
    schedule_tiled_reduction(tiles, ctx);
    return f;
}

}  // namespace strata::codegen
