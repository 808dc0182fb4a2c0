// Lowering of the pooling gradients in gather form: each input element sums
// the gradients of the (few) output windows that can contain it, so no
// scatter or atomics are needed and every element is written once.

#include "codegen/lower/context.h"
#include "codegen/schedules/schedule.h"

#include <strata/error.h>

namespace strata::codegen {

using namespace Halide;
using ir::Op;

namespace {

/// The output windows that may contain input position i along one dim:
/// o in [first(i), first(i) + count), where window o covers
/// [o*stride - pad, o*stride - pad + span).
struct Candidates {
    int64_t count;
    Expr first;
};

Candidates candidates(Expr i, int64_t stride, int64_t pad, int64_t span) {
    // o*stride - pad <= i  and  i < o*stride - pad + span
    //   =>  (i + pad - span) / stride < o <= (i + pad) / stride
    Expr first = (i + static_cast<int>(pad - span)) / static_cast<int>(stride) + 1;  // Euclidean division
    return {(span + stride - 1) / stride, first};
}

Func pool_grad(const ir::Node &node, LowerContext &ctx) {
    const bool is_max = node.op == Op::max_pool1d_grad || node.op == Op::max_pool2d_grad;
    const ir::Node *gout = node.inputs.back();
    const Shape &xs = node.shape(), &gs = gout->shape();
    const size_t s = xs.size() - 2;
    const PoolWindow window_attrs = pool_window(node, s);
    const ir::Ints &kernel = window_attrs.kernel, &stride = window_attrs.stride, &padding = window_attrs.padding,
                   &dilation = window_attrs.dilation;
    const Type t = halide_type(node.dtype());
    auto vars = make_vars(xs.size());
    const Index idx = as_index(vars);

    // For max pooling: the flat spatial position of each window's first maximum.
    Func argmax_pos(func_name(node, "_argmax"));
    bool argmax_is_tuple = false;
    if (is_max) {
        const ir::Node *in = node.input(0);
        Func xp = constant_outside_spatial(ctx.func(in), xs, lowest_value(t));
        auto ovars = make_vars(gs.size(), "o");
        const Index oidx = as_index(ovars);
        // The window's taps in order, the last spatial dim fastest.
        int64_t taps = 1;
        for (int64_t k : kernel) taps *= k;
        std::vector<Index> tap_index;
        std::vector<Expr> tap_flat;
        for (int64_t tap = 0; tap < taps; ++tap) {
            Index x_idx = {oidx[0], oidx[1]};
            Expr flat = 0;
            int64_t rest = tap, inner = taps;
            for (size_t i = 0; i < s; ++i) {
                inner /= kernel[i];
                const int64_t k = rest / inner;
                rest %= inner;
                Expr pos = oidx[2 + i] * static_cast<int>(stride[i]) -
                           static_cast<int>(padding[i] - k * dilation[i]);
                x_idx.push_back(pos);
                flat = flat * static_cast<int>(xs[2 + i]) + pos;
            }
            tap_index.push_back(x_idx);
            tap_flat.push_back(flat);
        }
        // A strictly greater value wins, so ties keep the first maximum in
        // window order, as PyTorch does. Small windows unroll into a chain of
        // selects (a pure Func that vectorises); larger ones reduce over an
        // RDom, as a scalar Tuple reduction (Halide 14 miscomputes vectorised
        // Tuple updates).
        constexpr int64_t kMaxUnrolledTaps = 16;
        const std::vector<Expr> args = to_halide_args(oidx);
        if (taps <= kMaxUnrolledTaps) {
            Expr best = call(xp, tap_index[0]), pos = tap_flat[0];
            for (int64_t tap = 1; tap < taps; ++tap) {
                Expr v = call(xp, tap_index[static_cast<size_t>(tap)]);
                Expr better = v > best;
                pos = select(better, tap_flat[static_cast<size_t>(tap)], pos);
                best = select(better, v, best);
            }
            argmax_pos(args) = pos;
            schedule_elementwise(argmax_pos, gs, node.dtype(), ctx);
        } else {
            Region region;
            for (size_t i = s; i-- > 0;) region.push_back(Range(0, static_cast<int>(kernel[i])));
            RDom r(region, "r");
            Index x_idx = {oidx[0], oidx[1]};
            Expr flat = 0;
            for (size_t i = 0; i < s; ++i) {
                Expr pos = oidx[2 + i] * static_cast<int>(stride[i]) - static_cast<int>(padding[i]) +
                           r[static_cast<int>(s - 1 - i)] * static_cast<int>(dilation[i]);
                x_idx.push_back(pos);
                flat = flat * static_cast<int>(xs[2 + i]) + pos;
            }
            // (position, value); the first tap always wins over the initial value.
            argmax_is_tuple = true;
            argmax_pos(args) = Tuple(cast<int32_t>(-1), lowest_value(t));
            Expr v = call(xp, x_idx);
            Expr better = v > argmax_pos(args)[1] || argmax_pos(args)[0] < 0;
            argmax_pos(args) =
                Tuple(select(better, flat, argmax_pos(args)[0]), select(better, v, argmax_pos(args)[1]));
            std::vector<RVar> window;
            for (int i = 0; i < r.dimensions(); ++i) window.push_back(r[i]);
            schedule_reduction(argmax_pos, gs, node.dtype(), window, 0, ctx);
        }
    }

    Region region;
    std::vector<Candidates> cands(s);
    for (size_t i = 0; i < s; ++i)
        cands[i] = candidates(idx[2 + i], stride[i], padding[i], dilation[i] * (kernel[i] - 1) + 1);
    for (size_t i = s; i-- > 0;) region.push_back(Range(0, static_cast<int>(cands[i].count)));
    RDom r(region, "c");

    Index o_idx = {idx[0], idx[1]};
    Expr valid = Internal::const_true();
    Expr flat = 0;
    Expr divisor = 1;
    for (size_t i = 0; i < s; ++i) {
        Expr o = cands[i].first + r[static_cast<int>(s - 1 - i)];
        valid = valid && o >= 0 && o < static_cast<int>(gs[2 + i]);
        const int64_t pad = padding[i], len = xs[2 + i];
        Expr start = o * static_cast<int>(stride[i]) - static_cast<int>(pad);
        if (!is_max) {
            // Dilation 1 here: i is inside window o iff start <= i < start + kernel.
            valid = valid && idx[2 + i] >= start && idx[2 + i] < start + static_cast<int>(kernel[i]);
            Expr end = min(start + static_cast<int>(kernel[i]), static_cast<int>(len + pad));
            Expr size = node.attrs.get_bool("count_include_pad") ? end - start
                                                                  : min(end, static_cast<int>(len)) - max(start, 0);
            divisor = divisor * size;
        } else {
            // The tap must land on i itself (dilation may skip it).
            valid = valid && (idx[2 + i] - start) % static_cast<int>(dilation[i]) == 0;
        }
        o_idx.push_back(clamp(o, 0, static_cast<int>(gs[2 + i] - 1)));
        flat = flat * static_cast<int>(len) + idx[2 + i];
    }
    auto argmax_at = [&](const Index &at) -> Expr {
        return argmax_is_tuple ? Expr(call(argmax_pos, at)[0]) : Expr(call(argmax_pos, at));
    };
    Expr g = call(ctx.func(gout), o_idx);
    Expr contribution = is_max ? select(valid && argmax_at(o_idx) == flat, g, constant(t, 0))
                               : select(valid, g / cast(t, max(divisor, 1)), constant(t, 0));
    Func acc(func_name(node, "_acc")), f(func_name(node));
    define(acc, vars, constant(t, 0));
    acc(to_halide_args(idx)) = call(acc, idx) + contribution;
    define(f, vars, call(acc, idx));
    std::vector<RVar> rvars;
    for (int i = 0; i < r.dimensions(); ++i) rvars.push_back(r[i]);
    schedule_reduction(acc, xs, node.dtype(), rvars, 1, ctx);
    return f;
}

Func adaptive_grad(const ir::Node &node, LowerContext &ctx) {
    const ir::Node *gout = node.input(0);
    const Shape &xs = node.shape(), &gs = gout->shape();
    const size_t s = xs.size() - 2;
    const Type t = halide_type(node.dtype());
    auto vars = make_vars(xs.size());
    const Index idx = as_index(vars);
    // Every output window is a candidate; output sizes are small.
    Region region;
    for (size_t i = s; i-- > 0;) region.push_back(Range(0, static_cast<int>(gs[2 + i])));
    RDom r(region, "o");
    Index o_idx = {idx[0], idx[1]};
    Expr inside = Internal::const_true();
    Expr count = 1;
    for (size_t i = 0; i < s; ++i) {
        Expr o = r[static_cast<int>(s - 1 - i)];
        const int len = static_cast<int>(xs[2 + i]), n = static_cast<int>(gs[2 + i]);
        Expr start = (o * len) / n, end = ((o + 1) * len + n - 1) / n;
        inside = inside && idx[2 + i] >= start && idx[2 + i] < end;
        count = count * (end - start);
        o_idx.push_back(o);
    }
    Func acc(func_name(node, "_acc")), f(func_name(node));
    define(acc, vars, constant(t, 0));
    acc(to_halide_args(idx)) =
        call(acc, idx) + select(inside, call(ctx.func(gout), o_idx) / cast(t, count), constant(t, 0));
    define(f, vars, call(acc, idx));
    std::vector<RVar> rvars;
    for (int i = 0; i < r.dimensions(); ++i) rvars.push_back(r[i]);
    schedule_reduction(acc, xs, node.dtype(), rvars, 1, ctx);
    return f;
}

}  // namespace

Func lower_pool_grad(const ir::Node &node, LowerContext &ctx) {
    if (node.op == Op::adaptive_avg_pool1d_grad || node.op == Op::adaptive_avg_pool2d_grad)
        return adaptive_grad(node, ctx);
    return pool_grad(node, ctx);
}

}  // namespace strata::codegen
