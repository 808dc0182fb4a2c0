// Lowering of batch_norm_train, its statistics and its gradients. Per channel c over the M
// elements of every other dim: mean, biased variance, invstd = 1/sqrt(var+eps),
// x_hat = (x - mean) * invstd, y = x_hat * w + b, and
//   dx = w * invstd / M * (M * g - sum(g) - x_hat * sum(g * x_hat)).
// A training step computes the statistics once (batch_norm_stats) and the two
// gradient sums once (batch_norm_grad_sums); the other ops read them.

#include "codegen/lower/cascade_sum.h"
#include "codegen/lower/context.h"
#include "codegen/schedules/forms.h"

namespace strata::codegen {

using namespace Halide;

namespace {

/// A per-channel reduction Func [C] of `value(index)` over every dim but 1.
struct ChannelSum {
    const Shape &shape;
    DType dtype;
    LowerContext &ctx;

    /// Added as a cascade over N and the spatial dims (the statistics of a large batch stay accurate
    /// in f32). With a long innermost dim, first per (channel, innermost position) over the other
    /// dims, so each load is a contiguous vector along that dim, then along it.
    template <typename F> Func operator()(const std::string &name, F value) const {
        const Var c("c");
        const size_t rank = shape.size();
        if (rank >= 3 && shape.back() >= 8) {
            const Var w("w");
            Shape outer = {shape[0]};  // N and the spatial dims but the last
            outer.insert(outer.end(), shape.begin() + 2, shape.end() - 1);
            const Func rows = cascade_sum(name + "_rows", {c, w}, Shape{shape[1], shape.back()}, outer, dtype,
                                          [&](const Index &k) {
                                              Index idx = {k[0], c};
                                              idx.insert(idx.end(), k.begin() + 1, k.end());
                                              idx.push_back(w);
                                              return Expr(value(idx));
                                          },
                                          ctx);
            return cascade_sum(name, {c}, Shape{shape[1]}, Shape{shape.back()}, dtype,
                               [&](const Index &k) { return Expr(rows(k[0], c)); }, ctx);
        }
        Shape reduced = {shape[0]};
        reduced.insert(reduced.end(), shape.begin() + 2, shape.end());
        return cascade_sum(name, {c}, Shape{shape[1]}, reduced, dtype, [&](const Index &k) {
            Index idx = {k[0], c};
            idx.insert(idx.end(), k.begin() + 1, k.end());
            return Expr(value(idx));
        }, ctx);
    }
};

/// Per channel c: the mean and 1/sqrt(var + eps) as Funcs of c, and the count M.
struct Statistics {
    Func mean, invstd;
    double count;
};

/// The mean and biased variance of x per channel: the variance as the mean square deviation from
/// the mean (two cascades, never E[x^2] - E[x]^2, which cancels in f32).
std::pair<Func, Func> channel_moments(const ir::Node &node, const Func &x, const Shape &xs, LowerContext &ctx) {
    const Type t = halide_type(node.dtype());
    const ChannelSum channel_sum{xs, node.dtype(), ctx};
    const double count = static_cast<double>(shape_numel(xs) / xs[1]);
    Func sum = channel_sum(func_name(node, "_sum"), [&](const Index &i) { return call(x, i); });
    Func mean(func_name(node, "_mean"));
    Var c("c");
    mean(c) = sum(c) / constant(t, count);
    store_whole(mean, ctx);
    Func sq = channel_sum(func_name(node, "_sq"), [&](const Index &i) {
        Expr d = call(x, i) - mean(i[1]);
        return d * d;
    });
    Func var(func_name(node, "_var"));
    var(c) = sq(c) / constant(t, count);
    return {mean, var};
}

/// The statistics of input 0 of a batch_norm_train(_grad) node: read from its stats input (input
/// 3, [2, C]: mean, variance) when it has one, else computed here.
Statistics channel_statistics(const ir::Node &node, LowerContext &ctx) {
    const Type t = halide_type(node.dtype());
    const Shape &xs = node.input(0)->shape();
    const Var c("c");
    Func mean(func_name(node, "_mean")), var(func_name(node, "_var"));
    if (node.inputs.size() > 3) {
        const Func &stats = ctx.func(node.input(3));
        mean(c) = stats(c, 0);  // Halide order: (c, row)
        var(c) = stats(c, 1);
    } else {
        std::tie(mean, var) = channel_moments(node, ctx.func(node.input(0)), xs, ctx);
    }
    Func invstd(func_name(node, "_invstd"));
    invstd(c) = constant(t, 1.0) / sqrt(var(c) + constant(t, node.attrs.get_float("eps")));
    store_whole(invstd, ctx);
    return {mean, invstd, static_cast<double>(shape_numel(xs) / xs[1])};
}

/// A [2, C] Func: row 0 `first`, row 1 `second` (Funcs of c).
Func channel_pair(const ir::Node &node, const Func &first, const Func &second) {
    auto vars = make_vars(2);  // IR order: row, c
    Func f(func_name(node));
    define(f, vars, select(vars[0] == 0, first(vars[1]), second(vars[1])));
    return f;
}

/// sum(g) and sum(g * x_hat) per channel, where x_hat = (x - mean) * invstd.
std::pair<Func, Func> gradient_sums(const ir::Node &node, const Func &x, const Func &g, const Statistics &s,
                                    LowerContext &ctx) {
    const ChannelSum channel_sum{node.input(0)->shape(), node.dtype(), ctx};
    Func sum_g = channel_sum(func_name(node, "_sumg"), [&](const Index &i) { return call(g, i); });
    Func sum_gx = channel_sum(func_name(node, "_sumgx"), [&](const Index &i) {
        return call(g, i) * ((call(x, i) - s.mean(i[1])) * s.invstd(i[1]));
    });
    return {sum_g, sum_gx};
}

}  // namespace

Func lower_batch_norm_stats(const ir::Node &node, LowerContext &ctx) {
    const auto [mean, var] = channel_moments(node, ctx.func(node.input(0)), node.input(0)->shape(), ctx);
    return channel_pair(node, mean, var);
}

Func lower_batch_norm_train(const ir::Node &node, LowerContext &ctx) {
    const Shape &xs = node.shape();
    const Func &x = ctx.func(node.input(0)), &w = ctx.func(node.input(1)), &b = ctx.func(node.input(2));
    const Statistics s = channel_statistics(node, ctx);
    auto vars = make_vars(xs.size());
    const Index idx = as_index(vars);
    Func f(func_name(node));
    define(f, vars, (call(x, idx) - s.mean(vars[1])) * s.invstd(vars[1]) * w(vars[1]) + b(vars[1]));
    return f;
}

Func lower_batch_norm_grad_sums(const ir::Node &node, LowerContext &ctx) {
    const Statistics s = channel_statistics(node, ctx);
    const auto [sum_g, sum_gx] = gradient_sums(node, ctx.func(node.input(0)), ctx.func(node.input(1)), s, ctx);
    return channel_pair(node, sum_g, sum_gx);
}

Func lower_batch_norm_train_grad(const ir::Node &node, LowerContext &ctx) {
    const Shape &xs = node.shape();
    const Type t = halide_type(node.dtype());
    const Func &x = ctx.func(node.input(0)), &w = ctx.func(node.input(1)), &g = ctx.func(node.input(2));
    const Statistics s = channel_statistics(node, ctx);
    Func sum_g, sum_gx;
    if (node.inputs.size() > 4) {
        const Func &sums = ctx.func(node.input(4));
        const Var c("c");
        sum_g = Func(func_name(node, "_sumg"));
        sum_gx = Func(func_name(node, "_sumgx"));
        sum_g(c) = sums(c, 0);  // Halide order: (c, row)
        sum_gx(c) = sums(c, 1);
    } else {
        std::tie(sum_g, sum_gx) = gradient_sums(node, x, g, s, ctx);
    }
    auto x_hat = [&](const Index &i) { return (call(x, i) - s.mean(i[1])) * s.invstd(i[1]); };
    auto vars = make_vars(xs.size());
    const Index idx = as_index(vars);
    const Expr c = vars[1];
    const Expr m = constant(t, s.count);
    Func f(func_name(node));
    define(f, vars, w(c) * s.invstd(c) / m * (m * call(g, idx) - sum_g(c) - x_hat(idx) * sum_gx(c)));
    return f;
}

}  // namespace strata::codegen
