// Lowering of layout ops: reshape, permute, expand, slice, concat, pad.

#include "codegen/lower/context.h"

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
