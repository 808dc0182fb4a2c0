// Lowering of max_pool, avg_pool (ceil_mode, count_include_pad, PyTorch's
// divisor rules and divisor_override) and adaptive_avg_pool, for 1-d and 2-d inputs.

#include "codegen/lower/context.h"
#include "codegen/lower/math.h"
#include "codegen/schedules/schedule.h"

namespace strata::codegen {

using namespace Halide;
using ir::Op;

namespace {

/// Schedules `acc` at tiles of `f` over (x = last spatial dim, c = the dim before it).
void schedule_pool(const Func &f, const Func &acc, const std::vector<Var> &vars, const Shape &os, const RDom &r,
                   DType dtype, int64_t window, const LowerContext &ctx) {
    TiledReduction tiles;
    tiles.out = f;
    tiles.acc = acc;
    const size_t rank = os.size();
    tiles.x = {vars[rank - 1], os[rank - 1]};
    tiles.c = {vars[rank - 2], os[rank - 2]};
    for (size_t i = rank - 2; i-- > 0;) tiles.outer.push_back({vars[i], os[i]});
    for (int i = 0; i < r.dimensions(); ++i) tiles.rvars.push_back(r[i]);
    tiles.dtype = dtype;
    tiles.work_per_output = window;
    schedule_tiled_reduction(tiles, ctx);
}

Func lower_adaptive(const ir::Node &node, LowerContext &ctx) {
    const ir::Node *in = node.input(0);
    const Shape &xs = in->shape(), &os = node.shape();
    const size_t s = xs.size() - 2;
    const Type t = halide_type(node.dtype());
    auto vars = make_vars(os.size());
    const Index out_idx = as_index(vars);
    // Window i of n over length L is [floor(i L / n), ceil((i + 1) L / n)).
    std::vector<Expr> start(s), count(s);
    Region region;
    for (size_t i = s; i-- > 0;) {
        const int64_t len = xs[2 + i], n = os[2 + i];
        int64_t widest = 0;
        for (int64_t o = 0; o < n; ++o) widest = std::max(widest, ((o + 1) * len + n - 1) / n - (o * len) / n);
        region.push_back(Range(0, static_cast<int>(widest)));
        Expr o = vars[2 + i];
        start[i] = (o * static_cast<int>(len)) / static_cast<int>(n);
        count[i] = ((o + 1) * static_cast<int>(len) + static_cast<int>(n - 1)) / static_cast<int>(n) - start[i];
    }
    RDom r(region, "r");
    Index x_idx = {out_idx[0], out_idx[1]};
    Expr inside = Internal::const_true();
    Expr divisor = constant(t, 1);
    for (size_t i = 0; i < s; ++i) {
        Expr tap = r[static_cast<int>(s - 1 - i)];
        x_idx.push_back(clamp(start[i] + tap, 0, static_cast<int>(xs[2 + i] - 1)));
        inside = inside && tap < count[i];
        divisor = divisor * cast(t, count[i]);
    }
    Func acc(func_name(node, "_acc")), f(func_name(node));
    define(acc, vars, constant(t, 0));
    acc(to_halide_args(out_idx)) = call(acc, out_idx) + select(inside, call(ctx.func(in), x_idx), constant(t, 0));
    define(f, vars, call(acc, out_idx) / divisor);
    schedule_pool(f, acc, vars, os, r, node.dtype(), 1, ctx);
    return f;
}

}  // namespace

Func lower_pool(const ir::Node &node, LowerContext &ctx) {
    if (node.op == Op::adaptive_avg_pool1d || node.op == Op::adaptive_avg_pool2d) return lower_adaptive(node, ctx);
    const ir::Node *in = node.input(0);
    const Shape &xs = in->shape(), &os = node.shape();
    const size_t s = xs.size() - 2;
    const bool is_max = node.op == Op::max_pool1d || node.op == Op::max_pool2d;
    const PoolWindow window_attrs = pool_window(node, s);
    const ir::Ints &kernel = window_attrs.kernel;
    const Type t = halide_type(node.dtype());

    auto vars = make_vars(os.size());
    const Index out_idx = as_index(vars);
    Region region;
    for (size_t i = s; i-- > 0;) region.push_back(Range(0, static_cast<int>(kernel[i])));
    RDom r(region, "r");
    const int64_t window = window_attrs.taps();

    // Out-of-range taps read the reduction's identity (-inf for max, 0 for avg);
    // when no window leaves the input, they read it directly (no bounds tests).
    Func xp = window_attrs.windows_inside(xs, os) ? ctx.func(in)
                             : constant_outside_spatial(ctx.func(in), xs, is_max ? lowest_value(t) : constant(t, 0));

    Index x_idx = {out_idx[0], out_idx[1]};
    for (size_t i = 0; i < s; ++i) x_idx.push_back(window_attrs.input_position(i, out_idx[2 + i], r[static_cast<int>(s - 1 - i)]));
    const Expr divisor = is_max ? Expr() : window_attrs.avg_divisor(Index(out_idx.begin() + 2, out_idx.end()), xs,
                                                                    node.attrs.get_bool("count_include_pad"), t);

    Func acc(func_name(node, "_acc")), f(func_name(node));
    if (window <= kMaxUnrolledPoolTaps && ctx.cpu_tuned_forms()) {
        // Small windows on CPUs: every tap spelled out in one pure, vectorised
        // expression; pooling is memory-bound, and a register-tiled
        // reduction only recomputed overlapping tile edges. (The reduction
        // stays the reference the "simple" schedule checks against.)
        Expr value;
        for (int64_t tap = 0; tap < window; ++tap) {
            const std::vector<int64_t> k = unflatten(tap, kernel);
            Index at = {out_idx[0], out_idx[1]};
            for (size_t i = 0; i < s; ++i)
                at.push_back(window_attrs.input_position(i, out_idx[2 + i], static_cast<int>(k[i])));
            Expr v = call(xp, at);
            value = !value.defined() ? v : is_max ? nan_max(value, v) : value + v;
        }
        define(f, vars, is_max ? value : value / divisor);
        steer_rules_at(ctx, f);
        schedule_elementwise(f, os, node.dtype(), ctx);
        return f;
    }
    if (is_max) {
        define(acc, vars, lowest_value(t));
        acc(to_halide_args(out_idx)) = nan_max(call(acc, out_idx), call(xp, x_idx));  // NaN propagates, as in PyTorch
        define(f, vars, call(acc, out_idx));
    } else {
        define(acc, vars, constant(t, 0));
        acc(to_halide_args(out_idx)) = call(acc, out_idx) + call(xp, x_idx);
        define(f, vars, call(acc, out_idx) / divisor);
    }
    schedule_pool(f, acc, vars, os, r, node.dtype(), window, ctx);
    return f;
}

}  // namespace strata::codegen
