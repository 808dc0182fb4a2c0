// Lowering of layout ops: reshape, permute, expand, slice, concat, pad.

#include "codegen/lower/context.h"
#include "codegen/schedules/schedule.h"

#include <strata/error.h>

namespace strata::codegen {

using namespace Halide;
using ir::Op;

namespace {

Index reshape_index(const Shape &in_shape, const Shape &out_shape, const Index &out_idx) {
    // Row-major flat position of the output element, then the input's index.
    Expr flat = 0;
    for (size_t i = 0; i < out_shape.size(); ++i) flat = flat * static_cast<int>(out_shape[i]) + out_idx[i];
    Index idx(in_shape.size());
    for (size_t i = in_shape.size(); i-- > 0;) {
        const int e = static_cast<int>(in_shape[i]);
        idx[i] = i == 0 ? flat : flat % e;
        flat = flat / e;
    }
    return idx;
}

/// The source index along one padded dim for out position o.
Expr pad_source(const std::string &mode, Expr o, int lo, int len) {
    Expr i = o - lo;
    if (mode == "reflect") {
        i = select(i < 0, -i, i);
        i = select(i >= len, 2 * (len - 1) - i, i);
        return clamp(i, 0, len - 1);
    }
    if (mode == "circular") return clamp(i % len, 0, len - 1);  // Halide's % is Euclidean
    return clamp(i, 0, len - 1);                                 // replicate, and constant after masking
}

}  // namespace

Func lower_layout(const ir::Node &node, LowerContext &ctx) {
    const ir::Node *in = node.input(0);
    const Shape &xs = in->shape(), &os = node.shape();
    auto vars = make_vars(os.size());
    const Index out_idx = as_index(vars);
    const Func &x = ctx.func(in);
    Func f(func_name(node));
    switch (node.op) {
    case Op::reshape: define(f, vars, call(x, reshape_index(xs, os, out_idx))); break;
    case Op::permute: {
        const ir::Ints &dims = node.attrs.get_ints("dims");
        Index idx(xs.size());
        for (size_t k = 0; k < dims.size(); ++k) idx[static_cast<size_t>(dims[k])] = out_idx[k];
        define(f, vars, call(x, idx));
        break;
    }
    case Op::expand: define(f, vars, call(x, broadcast_index(xs, out_idx, os))); break;
    case Op::slice: {
        Index idx = out_idx;
        const size_t d = static_cast<size_t>(node.attrs.get_int("dim"));
        idx[d] = static_cast<int>(node.attrs.get_int("start")) + idx[d] * static_cast<int>(node.attrs.get_int("step"));
        define(f, vars, call(x, idx));
        break;
    }
    case Op::concat: {
        const size_t d = static_cast<size_t>(node.attrs.get_int("dim"));
        // Walk the inputs from the last; each earlier one wins below its end.
        Expr value;
        int64_t end = os[d];
        for (size_t k = node.inputs.size(); k-- > 0;) {
            const ir::Node *part = node.input(k);
            const int64_t len = part->shape()[d];
            const int64_t start = end - len;
            Index idx = out_idx;
            idx[d] = clamp(out_idx[d] - static_cast<int>(start), 0, static_cast<int>(std::max<int64_t>(len - 1, 0)));
            if (len == 0) {
                end = start;
                continue;
            }
            Expr v = call(ctx.func(part), idx);
            value = value.defined() ? select(out_idx[d] < static_cast<int>(end), v, value) : v;
            end = start;
        }
        define(f, vars, value);
        break;
    }
    case Op::pad: {
        const ir::Ints &pad = node.attrs.get_ints("pad");
        const std::string &mode = node.attrs.get_str("mode");
        Index idx = out_idx;
        Expr inside = Internal::const_true();
        for (size_t i = 0; i < pad.size() / 2; ++i) {
            const size_t d = xs.size() - 1 - i;
            const int lo = static_cast<int>(pad[2 * i]), len = static_cast<int>(xs[d]);
            idx[d] = pad_source(mode, out_idx[d], lo, len);
            if (mode == "constant") inside = inside && out_idx[d] - lo >= 0 && out_idx[d] - lo < len;
        }
        Expr v = call(x, idx);
        if (mode == "constant") v = select(inside, v, constant(v.type(), node.attrs.get_float("value")));
        define(f, vars, v);
        break;
    }
    default: STRATA_ASSERT(false, "not a layout op: {}", node.name());
    }
    return f;
}

}  // namespace strata::codegen

namespace strata::codegen {

// pad_grad: each input element sums the gradients of every output element
// that copies it. Per padded dim the copies are few: the element itself, its
// mirror images (reflect), its wrapped copies (circular), or for the edge
// elements the whole replicated border (replicate).
Halide::Func lower_pad_grad(const ir::Node &node, LowerContext &ctx) {
    using namespace Halide;
    const ir::Node *gout = node.input(0);
    const Shape &xs = node.shape(), &gs = gout->shape();
    const ir::Ints &pad = node.attrs.get_ints("pad");
    const std::string &mode = node.attrs.get_str("mode");
    const Type t = halide_type(node.dtype());
    auto vars = make_vars(xs.size());
    const Index idx = as_index(vars);
    const size_t padded_dims = pad.size() / 2;
    // Candidate count per padded dim (IR dims from the last).
    std::vector<int64_t> count(padded_dims);
    for (size_t k = 0; k < padded_dims; ++k) {
        const int64_t lo = pad[2 * k], hi = pad[2 * k + 1];
        const int64_t len = xs[xs.size() - 1 - k];
        count[k] = mode == "constant" ? 1 : mode != "replicate" ? 3 : len == 1 ? gs[xs.size() - 1 - k] : 1 + std::max(lo, hi);
    }
    Region region;
    for (size_t k = 0; k < padded_dims; ++k) region.push_back(Range(0, static_cast<int>(count[k])));
    RDom r(region, "c");
    Index o_idx = idx;
    Expr valid = Internal::const_true();
    for (size_t k = 0; k < padded_dims; ++k) {
        const size_t d = xs.size() - 1 - k;
        const int lo = static_cast<int>(pad[2 * k]), len = static_cast<int>(xs[d]), out_len = static_cast<int>(gs[d]);
        Expr i = idx[d], c = r[static_cast<int>(k)];
        Expr o;
        if (mode == "constant") {
            // c is always 0, but the update must use it: Halide drops an RDom the
            // definition does not mention, and the schedule reorders its loop.
            o = i + lo + c;
        } else if (mode == "circular") {
            o = i + lo + (c - 1) * len;  // copies one period left, itself, one right
        } else if (mode == "reflect") {
            // itself; mirrored about the first element; mirrored about the last.
            o = select(c == 0, i + lo, select(c == 1, lo - i, lo + 2 * (len - 1) - i));
            valid = valid && (c == 0 || (c == 1 && i > 0) || (c == 2 && i < len - 1));
        } else if (len == 1) {  // replicate of a single element: every output is a copy
            o = c;
        } else {  // replicate: the first/last element also receives the border copies
            o = select(c == 0, i + lo, select(i == 0, c - 1, lo + len + c - 1));
            valid = valid && (c == 0 || (i == 0 && c - 1 < lo) || (i == len - 1 && c - 1 < out_len - lo - len));
        }
        valid = valid && o >= 0 && o < out_len;
        o_idx[d] = clamp(o, 0, out_len - 1);
    }
    Func acc(func_name(node, "_acc")), f(func_name(node));
    define(acc, vars, constant(t, 0));
    acc(to_halide_args(idx)) = call(acc, idx) + select(valid, call(ctx.func(gout), o_idx), constant(t, 0));
    define(f, vars, call(acc, idx));
    std::vector<RVar> rvars;
    for (int i = 0; i < r.dimensions(); ++i) rvars.push_back(r[i]);
    steer_rules_at(ctx, acc);
    schedule_reduction(acc, xs, node.dtype(), rvars, 1, ctx);
    return f;
}

}  // namespace strata::codegen
