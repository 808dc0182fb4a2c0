// Lowering of the pooling gradients in gather form: each input element sums
// the gradients of the (few) output windows that can contain it, so no
// scatter or atomics are needed and every element is written once.

#include "codegen/lower/context.h"
#include "codegen/lower/pool_taps.h"
#include "codegen/schedules/forms.h"

#include <strata/error.h>

#include <limits>

namespace strata::codegen {

using namespace Halide;
using ir::Op;

namespace {

/// Small whole numbers as 32-bit index expressions.
std::vector<Expr> int_exprs(const std::vector<int64_t> &values) {
    std::vector<Expr> out;
    for (int64_t v : values) out.push_back(static_cast<int>(v));
    return out;
}

/// The narrowest signed type that holds every tap index of a window and -1:
/// the argmax is stored and read back per window, so 1 byte instead of 4
/// moves a quarter of the memory.
Type tap_index_type(int64_t taps) {
    if (taps <= 127) return Int(8);
    if (taps <= 32767) return Int(16);
    return Int(32);
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

    // For max pooling: the index of each window's first maximum among its taps.
    Func argmax_pos(func_name(node, "_argmax"));
    const Type tap_type = tap_index_type(window_attrs.taps());
    std::vector<int64_t> tap_strides(s, 1);  // taps are numbered row-major, the last dim fastest
    for (size_t i = s - 1; i-- > 0;) tap_strides[i] = tap_strides[i + 1] * kernel[i + 1];
    bool argmax_is_tuple = false;
    if (is_max) {
        const ir::Node *in = node.input(0);
        // Out-of-range taps read the lowest value, and no bounds tests when no window leaves x.
        const bool inside = window_attrs.windows_inside(xs, gs);
        Func xp = inside ? ctx.func(in) : constant_outside_spatial(ctx.func(in), xs, lowest_value(t));
        auto ovars = make_vars(gs.size());  // named as the forward pool's, so their loops can fuse
        const Index oidx = as_index(ovars);
        // The input element tap k (one offset per dim) of window oidx reads, and the tap's index.
        struct Tap {
            Index at;
            Expr index;
            TapRank rank;
        };
        auto window_tap = [&](const std::vector<Expr> &k) {
            Tap tap{{oidx[0], oidx[1]}, 0, {}};
            Expr in_x = Internal::const_true();
            for (size_t i = 0; i < s; ++i) {
                Expr pos = window_attrs.input_position(i, oidx[2 + i], k[i]);
                tap.at.push_back(pos);
                tap.index = tap.index + k[i] * static_cast<int>(tap_strides[i]);
                in_x = in_x && pos >= 0 && pos < static_cast<int>(xs[2 + i]);
            }
            tap.index = cast(tap_type, tap.index);
            tap.rank = rank_of(call(xp, tap.at));
            // A padding tap ranks just below -inf, so it never wins (PyTorch
            // considers only taps inside the input). Not the key type's
            // minimum: comparisons with it came out wrong in compiled code.
            if (!inside && t.is_float()) {
                tap.rank.key = select(in_x, tap.rank.key, -infinity_bits(t.bits()) - 1);
                tap.rank.nan = in_x && tap.rank.nan;
            }
            return tap;
        };
        // A strictly greater value or a NaN wins, as in PyTorch: ties keep
        // the first maximum in window order, NaNs the last NaN. Small windows
        // unroll into a chain of selects over the taps in window order (a pure
        // Func that vectorises); larger ones reduce over an RDom, as a scalar
        // Tuple reduction (Halide 14 miscomputes vectorised Tuple updates).
        const std::vector<Expr> args = to_halide_args(oidx);
        const int64_t taps = window_attrs.taps();
        if (taps <= kMaxUnrolledPoolTaps) {
            Expr best, pos;
            for (int64_t tap = 0; tap < taps; ++tap) {
                const Tap here = window_tap(int_exprs(unflatten(tap, kernel)));
                const TapRank &rank = here.rank;
                if (tap == 0) {
                    best = rank.key;
                    pos = here.index;
                    continue;
                }
                Expr better = takes_over(rank, best);
                pos = select(better, here.index, pos);
                best = select(better, rank.key, best);
            }
            argmax_pos(args) = pos;
            schedule_max_pool_argmax(node, {argmax_pos, gs, node.dtype()}, ctx);
        } else {
            Region region;
            for (size_t i = s; i-- > 0;) region.push_back(Range(0, static_cast<int>(kernel[i])));
            RDom r(region, "r");
            std::vector<Expr> k(s);
            for (size_t i = 0; i < s; ++i) k[i] = r[static_cast<int>(s - 1 - i)];
            const Tap tap = window_tap(k);
            // (position, rank key); the first tap always wins over the initial value.
            argmax_is_tuple = true;
            const Expr lowest_key = t.is_float() ? Int(t.bits()).min() : lowest_value(t);
            argmax_pos(args) = Tuple(cast(tap_type, -1), lowest_key);
            const TapRank &rank = tap.rank;
            Expr better = takes_over(rank, argmax_pos(args)[1]) || argmax_pos(args)[0] < 0;
            argmax_pos(args) =
                Tuple(select(better, tap.index, argmax_pos(args)[0]), select(better, rank.key, argmax_pos(args)[1]));
            std::vector<RVar> window;
            for (int i = 0; i < r.dimensions(); ++i) window.push_back(r[i]);
            schedule_reduction(argmax_pos, gs, node.dtype(), window, 0, ctx);
        }
    }

    std::vector<Candidates> cands(s);
    std::vector<int64_t> candidate_counts(s);
    int64_t candidates_total = 1;
    for (size_t i = 0; i < s; ++i) {
        cands[i] = candidates(idx[2 + i], stride[i], padding[i], window_attrs.span(i));
        candidate_counts[i] = cands[i].count;
        candidates_total *= cands[i].count;
    }
    auto argmax_at = [&](const Index &at) -> Expr {
        return argmax_is_tuple ? Expr(call(argmax_pos, at)[0]) : Expr(call(argmax_pos, at));
    };
    // What the candidate window `pick[i]` along each dim (first + pick) gives this element.
    auto contribution = [&](const std::vector<Expr> &pick) {
        Index o_idx = {idx[0], idx[1]};
        std::vector<Expr> window(s);
        Expr valid = Internal::const_true();
        Expr tap = 0;  // max pooling: the index of the tap of window o that lands on this element
        for (size_t i = 0; i < s; ++i) {
            Expr o = window[i] = cands[i].first + pick[i];
            valid = valid && o >= 0 && o < static_cast<int>(gs[2 + i]);
            Expr start = window_attrs.input_position(i, o, 0);
            if (!is_max) {
                // Dilation 1 here: i is inside window o iff start <= i < start + kernel.
                valid = valid && idx[2 + i] >= start && idx[2 + i] < start + static_cast<int>(kernel[i]);
            } else {
                // The tap must land on i itself: inside the window (the last
                // candidate may start past i), not skipped by the dilation.
                const int dil = static_cast<int>(dilation[i]);
                const Expr offset = idx[2 + i] - start;
                valid = valid && offset >= 0 && offset < static_cast<int>(window_attrs.span(i)) &&
                        offset % dil == 0;
                tap = tap + offset / dil * static_cast<int>(tap_strides[i]);
            }
            o_idx.push_back(clamp(o, 0, static_cast<int>(gs[2 + i] - 1)));
        }
        Expr g = call(ctx.func(gout), o_idx);
        if (is_max) return select(valid && cast<int>(argmax_at(o_idx)) == tap, g, constant(t, 0));
        const Expr divisor = window_attrs.avg_divisor(window, xs, node.attrs.get_bool("count_include_pad"), t);
        return select(valid, g / divisor, constant(t, 0));
    };

    Func f(func_name(node));
    if (candidates_total <= kMaxUnrolledPoolTaps) {
        // Few candidate windows (one, for windows that do not overlap): the
        // sum spelled out in one pure, vectorised expression.
        Expr total;
        for (int64_t c = 0; c < candidates_total; ++c) {
            Expr term = contribution(int_exprs(unflatten(c, candidate_counts)));
            total = total.defined() ? total + term : term;
        }
        define(f, vars, total);
        steer_rules_at(ctx, f);
        schedule_elementwise(f, xs, node.dtype(), ctx);
        return f;
    }
    Region region;
    for (size_t i = s; i-- > 0;) region.push_back(Range(0, static_cast<int>(cands[i].count)));
    RDom r(region, "c");
    std::vector<Expr> pick(s);
    for (size_t i = 0; i < s; ++i) pick[i] = r[static_cast<int>(s - 1 - i)];
    Func acc(func_name(node, "_acc"));
    define(acc, vars, constant(t, 0));
    acc(to_halide_args(idx)) = call(acc, idx) + contribution(pick);
    define(f, vars, call(acc, idx));
    std::vector<RVar> rvars;
    for (int i = 0; i < r.dimensions(); ++i) rvars.push_back(r[i]);
    steer_rules_at(ctx, acc);
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
    steer_rules_at(ctx, acc);
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
