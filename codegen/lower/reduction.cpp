// Lowering of reductions: sum, mean, max, argmax over dims; softmax and
// log_softmax along one dim.

#include "codegen/lower/cascade_sum.h"
#include "codegen/lower/context.h"
#include "codegen/lower/math.h"
#include "codegen/schedules/schedule.h"

#include <strata/error.h>

#include <algorithm>

namespace strata::codegen {

using namespace Halide;
using ir::Op;

namespace {

/// The RDom over the reduced dims and the input index it addresses, given the
/// output vars (IR order of the output) and keepdim.
struct ReductionDomain {
    RDom r;
    std::vector<RVar> rvars;  // innermost first
    Index input_index;
    int64_t size = 1;
};

ReductionDomain reduction_domain(const Shape &in_shape, const ir::Ints &dims, bool keepdim,
                                 const std::vector<Var> &out_vars) {
    ReductionDomain rd;
    std::vector<std::pair<Expr, Expr>> ranges;  // innermost first for RDom
    for (auto it = dims.rbegin(); it != dims.rend(); ++it) {
        const int64_t e = in_shape[static_cast<size_t>(*it)];
        ranges.push_back({0, static_cast<int>(e)});
        rd.size *= e;
    }
    Region region;
    for (auto &[mn, ext] : ranges) region.push_back(Range(mn, ext));
    rd.r = RDom(region, "r");  // named: stage schedule lines refer to r$x, r$y, ...
    for (int i = 0; i < rd.r.dimensions(); ++i) rd.rvars.push_back(rd.r[i]);
    size_t out_pos = 0;
    for (size_t d = 0; d < in_shape.size(); ++d) {
        auto pos = std::find(dims.begin(), dims.end(), static_cast<int64_t>(d));
        if (pos != dims.end()) {
            // dims[k] is RDom dimension (ndims - 1 - k).
            rd.input_index.push_back(rd.r[static_cast<int>(dims.size() - 1) - static_cast<int>(pos - dims.begin())]);
            if (keepdim) ++out_pos;
        } else {
            rd.input_index.push_back(out_vars[out_pos++]);
        }
    }
    return rd;
}

int64_t rd_size(const Shape &shape, const ir::Ints &dims) {
    int64_t n = 1;
    for (int64_t d : dims) n *= shape[static_cast<size_t>(d)];
    return n;
}

Func lower_softmax(const ir::Node &node, LowerContext &ctx) {
    const Func &x = ctx.func(node.input(0));
    const Shape &shape = node.shape();
    const int64_t dim = node.attrs.get_int("dim");
    const Type t = halide_type(node.dtype());
    // Row statistics over `dim`, kept as a dim of extent 1.
    Shape row_shape = shape;
    row_shape[static_cast<size_t>(dim)] = 1;
    auto vars = make_vars(shape.size());
    ReductionDomain rd = reduction_domain(shape, {dim}, true, vars);

    Func row_max(func_name(node, "_max"));
    define(row_max, vars, lowest_value(t));
    row_max(to_halide_args(as_index(vars))) = nan_max(call(row_max, as_index(vars)), call(x, rd.input_index));
    const Index row_idx = as_index(vars);
    // The sum of exponentials adds as a cascade along `dim` (a plain loop for a short row).
    const Func row_sum = cascade_sum(func_name(node, "_sum"), vars, row_shape, {shape[static_cast<size_t>(dim)]},
                                     node.dtype(), [&](const Index &k) {
                                         Index at = row_idx;
                                         at[static_cast<size_t>(dim)] = k[0];
                                         return ieee_exp(call(x, at) - call(row_max, row_idx));
                                     }, ctx);

    Index stat_idx = as_index(vars);
    stat_idx[static_cast<size_t>(dim)] = 0;
    Func f(func_name(node));
    Expr shifted = call(x, as_index(vars)) - call(row_max, stat_idx);
    if (node.op == Op::softmax) define(f, vars, ieee_exp(shifted) / call(row_sum, stat_idx));
    else define(f, vars, shifted - ieee_log(call(row_sum, stat_idx)));

    schedule_reduction(row_max, row_shape, node.dtype(), rd.rvars, rd.size, ctx);
    return f;
}

/// The sum over `dims` of `x` (of shape `in_shape`) for the output vars `vars` (of shape
/// `out_shape`, with the reduced dims kept as extent 1 when `keepdim`), added as a cascade.
Func cascade_over_dims(const std::string &name, const Func &x, const Shape &in_shape, const ir::Ints &dims,
                       bool keepdim, const std::vector<Var> &vars, const Shape &out_shape, DType dtype,
                       LowerContext &ctx) {
    ir::Ints sorted = dims;
    std::sort(sorted.begin(), sorted.end());  // the flat order is the memory order
    Shape reduced;
    for (int64_t d : sorted) reduced.push_back(in_shape[static_cast<size_t>(d)]);
    auto value = [&, sorted](const Index &k) {
        Index idx;
        size_t out_pos = 0;
        for (size_t d = 0; d < in_shape.size(); ++d) {
            const auto pos = std::find(sorted.begin(), sorted.end(), static_cast<int64_t>(d));
            if (pos != sorted.end()) {
                idx.push_back(k[static_cast<size_t>(pos - sorted.begin())]);
                if (keepdim) ++out_pos;
            } else {
                idx.push_back(vars[out_pos++]);
            }
        }
        return Expr(call(x, idx));
    };
    return cascade_sum(name, vars, out_shape, reduced, dtype, value, ctx);
}

}  // namespace

Func lower_reduction(const ir::Node &node, LowerContext &ctx) {
    if (node.op == Op::softmax || node.op == Op::log_softmax) return lower_softmax(node, ctx);
    const ir::Node *in = node.input(0);
    const Func &x = ctx.func(in);
    const bool keepdim = node.attrs.get_bool("keepdim");
    const ir::Ints dims = node.op == Op::argmax ? ir::Ints{node.attrs.get_int("dim")} : node.attrs.get_ints("dims");
    auto vars = make_vars(node.shape().size());
    const Type t = halide_type(in->dtype());
    const Shape &in_shape = in->shape();
    const int64_t total = rd_size(in_shape, dims);

    // Float sums of more than a block are added as a cascade (the rounding grows with log n).
    if ((node.op == Op::sum || node.op == Op::mean) && t.is_float() && total > kCascadeBlock) {
        Func source = x;
        Shape source_shape = in_shape;
        // As below: the other dims first, the innermost kept contiguous, then that short row.
        if (dims.size() >= 2 && dims.back() == static_cast<int64_t>(in_shape.size()) - 1 && in_shape.back() >= 8 &&
            !ctx.simple()) {
            const ir::Ints outer(dims.begin(), dims.end() - 1);
            for (int64_t d : outer) source_shape[static_cast<size_t>(d)] = 1;
            source = cascade_over_dims(func_name(node, "_rows"), x, in_shape, outer, true,
                                       make_vars(source_shape.size(), "p"), source_shape, in->dtype(), ctx);
        }
        const Func acc = cascade_over_dims(func_name(node, "_acc"), source, source_shape, dims, keepdim, vars,
                                           node.shape(), in->dtype(), ctx);
        Func f(func_name(node));
        const Index out_idx = as_index(vars);
        if (node.op == Op::mean) define(f, vars, call(acc, out_idx) / constant(t, static_cast<double>(total)));
        else define(f, vars, call(acc, out_idx));
        return f;
    }

    // Reducing the innermost dim together with others (e.g. a bias gradient
    // over N, H, W): first sum the other dims with the innermost kept as a
    // contiguous, vectorisable dim, then sum that short row.
    Func source = x;
    Shape source_shape = in_shape;
    const bool two_stage = node.op != Op::argmax && dims.size() >= 2 &&
                           dims.back() == static_cast<int64_t>(in_shape.size()) - 1 && in_shape.back() >= 8 &&
                           ctx.two_stage_reductions();
    if (two_stage) {
        const ir::Ints outer(dims.begin(), dims.end() - 1);
        for (int64_t d : outer) source_shape[static_cast<size_t>(d)] = 1;
        auto pvars = make_vars(source_shape.size(), "p");
        ReductionDomain prd = reduction_domain(in_shape, outer, true, pvars);
        Func partial(func_name(node, "_rows"));
        const Index p_idx = as_index(pvars);
        const bool is_max = node.op == Op::max;
        define(partial, pvars, is_max ? lowest_value(t) : constant(t, 0));
        Expr v = call(x, prd.input_index);
        partial(to_halide_args(p_idx)) = is_max ? nan_max(call(partial, p_idx), v) : call(partial, p_idx) + v;
        schedule_reduction(partial, source_shape, in->dtype(), prd.rvars, prd.size, ctx);
        source = partial;
    }
    ReductionDomain rd = reduction_domain(source_shape, dims, keepdim, vars);
    rd.size = total;
    const Index out_idx = as_index(vars);
    const std::vector<Expr> args = to_halide_args(out_idx);
    Expr value = call(source, rd.input_index);

    Func acc(func_name(node, "_acc"));
    Func f(func_name(node));
    switch (node.op) {
    case Op::sum:
    case Op::mean:
        define(acc, vars, constant(t, 0));
        acc(args) = call(acc, out_idx) + value;
        if (node.op == Op::mean) define(f, vars, call(acc, out_idx) / constant(t, static_cast<double>(rd.size)));
        else define(f, vars, call(acc, out_idx));
        break;
    case Op::max:
        define(acc, vars, lowest_value(t));
        acc(args) = nan_max(call(acc, out_idx), value);
        define(f, vars, call(acc, out_idx));
        break;
    case Op::argmax: {
        // (best index, best value); a strictly greater value wins, so ties keep
        // the first maximum, as PyTorch does.
        Expr position = rd.input_index[static_cast<size_t>(dims[0])];
        acc(args) = Tuple(cast<int32_t>(0), lowest_value(t));
        FuncRef prev = acc(args);
        Expr better = value > Tuple(prev)[1];
        acc(args) = Tuple(select(better, cast<int32_t>(position), Tuple(prev)[0]), select(better, value, Tuple(prev)[1]));
        define(f, vars, Tuple(call(acc, out_idx))[0]);
        break;
    }
    default: STRATA_ASSERT(false, "not a reduction: {}", node.name());
    }
    steer_rules_at(ctx, acc);
    schedule_reduction(acc, node.shape(), in->dtype(), rd.rvars, rd.size, ctx);
    return f;
}

}  // namespace strata::codegen
