// Lowering of batch_norm_train, its statistics and its gradients. Per channel c over the M
// elements of every other dim: mean, biased variance, invstd = 1/sqrt(var+eps),
// x_hat = (x - mean) * invstd, y = x_hat * w + b, and
//   dx = w * invstd / M * (M * g - sum(g) - x_hat * sum(g * x_hat)).
// A training step computes the statistics once (batch_norm_stats) and the two
// gradient sums once (batch_norm_grad_sums); the other ops read them.

#include "codegen/lower/cascade_sum.h"
#include "codegen/lower/context.h"
#include "codegen/schedules/forms.h"
#include "codegen/schedules/plane_sums.h"

namespace strata::codegen {

using namespace Halide;

namespace {

/// Per-channel reductions of `value` over every dim but 1.
struct ChannelSum {
    const Shape &shape;
    DType dtype;
    LowerContext &ctx;

    /// A Func [C] of the sums of `value(index)`.
    template <typename F> Func operator()(const std::string &name, F value) const {
        return sums(name, 0, [&](const Index &i, const Expr &) { return value(i); });
    }

    /// Added as a cascade over N and the spatial dims (the statistics of a large batch stay accurate
    /// in f32). With a long innermost dim, first per (channel, innermost position) over the other
    /// dims, so each load is a contiguous vector along that dim, then along it.
    /// rows = 0: a Func [C] of the sums of `value(index, k)` (k undefined); rows > 0: a Func
    /// [rows, C] (Halide order (c, k)) whose row k sums `value(index, k)`. Each row adds its
    /// values in the same order as alone, but all rows of a block of the data are summed while
    /// that block is in cache: one sweep over memory for several sums.
    template <typename F> Func sums(const std::string &name, int64_t rows, F value) const {
        const Var c("c"), k("k");
        std::vector<Var> lead;
        Shape lead_shape;
        if (rows > 0) {
            lead = {k};
            lead_shape = {rows};
        }
        auto with_lead = [&](std::vector<Var> vars, Shape extents) {
            vars.insert(vars.begin(), lead.begin(), lead.end());
            extents.insert(extents.begin(), lead_shape.begin(), lead_shape.end());
            return std::make_pair(vars, extents);
        };
        const Expr row = rows > 0 ? Expr(k) : Expr();
        const size_t rank = shape.size();
        if (rank >= 3 && shape.back() >= 8) {
            const Var w("w");
            Shape outer = {shape[0]};  // N and the spatial dims but the last
            outer.insert(outer.end(), shape.begin() + 2, shape.end() - 1);
            const auto [row_vars, row_shape] = with_lead({c, w}, Shape{shape[1], shape.back()});
            const Func per_position = cascade_sum(name + "_rows", row_vars, row_shape, outer, dtype,
                                                  [&](const Index &i) {
                                                      Index idx = {i[0], c};
                                                      idx.insert(idx.end(), i.begin() + 1, i.end());
                                                      idx.push_back(w);
                                                      return Expr(value(idx, row));
                                                  },
                                                  ctx);
            const auto [out_vars, out_shape] = with_lead({c}, Shape{shape[1]});
            return cascade_sum(name, out_vars, out_shape, Shape{shape.back()}, dtype, [&](const Index &i) {
                return Expr(rows > 0 ? per_position(i[0], c, k) : per_position(i[0], c));
            }, ctx);
        }
        Shape reduced = {shape[0]};
        reduced.insert(reduced.end(), shape.begin() + 2, shape.end());
        const auto [out_vars, out_shape] = with_lead({c}, Shape{shape[1]});
        return cascade_sum(name, out_vars, out_shape, reduced, dtype, [&](const Index &i) {
            Index idx = {i[0], c};
            idx.insert(idx.end(), i.begin() + 1, i.end());
            return Expr(value(idx, row));
        }, ctx);
    }
};

/// Per channel c: the mean and 1/sqrt(var + eps) as Funcs of c, and the count M.
struct Statistics {
    Func mean, invstd;
    double count;
};

/// The mean and biased variance per channel from planes (CPU default, see plane_sums.h), in one
/// sweep over x: per plane its sum, then its square deviations from its own mean while the plane
/// is in cache; the planes then combine exactly (Chan et al.; never E[x^2] - E[x]^2):
///   var = (sum of the planes' square deviations + P * sum of (plane mean - mean)^2) / M.
std::pair<Func, Func> channel_moments_by_plane(const ir::Node &node, const Func &x, const Shape &xs,
                                               LowerContext &ctx) {
    const Type t = halide_type(node.dtype());
    const Func xb = constant_outside_spatial(x, xs, constant(t, 0));  // the last vector reaches past a row
    const PlaneSums total = plane_sums(func_name(node, "_plane_sum"), xs, node.dtype(), 1,
                                       [&](const Index &i, const Expr &) { return Expr(call(xb, i)); }, ctx);
    const Expr plane = constant(t, static_cast<double>(total.images * xs[2]));
    const double count = static_cast<double>(shape_numel(xs) / xs[1]);
    const PlaneSums deviation =
        plane_sums(func_name(node, "_plane_dev"), xs, node.dtype(), 1, [&](const Index &i, const Expr &) {
            const Expr d = call(xb, i) - total.sums(0, i[1], i[0] / static_cast<int>(total.images)) / plane;
            return d * d;
        }, ctx);
    const Var k("k"), c("c"), p("p");
    Func moments(func_name(node, "_plane_moments"));  // (row, c, plane): row 0 the plane's sum, 1 its deviations
    moments(k, c, p) = select(k == 0, total.sums(0, c, p), deviation.sums(0, c, p));
    const Var task = schedule_per_plane(moments, k, c, p, 2, xs, ctx);
    compute_plane_sums_at(total, moments, task);
    compute_plane_sums_at(deviation, moments, task);

    const Var ch("c");
    const Shape planes = {total.planes};
    Func sum = cascade_sum(func_name(node, "_sum"), {ch}, Shape{xs[1]}, planes, node.dtype(),
                           [&](const Index &i) { return Expr(moments(0, ch, i[0])); }, ctx);
    Func mean(func_name(node, "_mean"));
    mean(ch) = sum(ch) / constant(t, count);
    store_whole(mean, ctx);
    Func sq = cascade_sum(func_name(node, "_sq"), {ch}, Shape{xs[1]}, planes, node.dtype(), [&](const Index &i) {
        const Expr d = moments(0, ch, i[0]) / plane - mean(ch);
        return moments(1, ch, i[0]) + plane * d * d;
    }, ctx);
    Func var(func_name(node, "_var"));
    var(ch) = sq(ch) / constant(t, count);
    return {mean, var};
}

/// The mean and biased variance of x per channel: the variance as the mean square deviation from
/// the mean (two cascades, never E[x^2] - E[x]^2, which cancels in f32).
std::pair<Func, Func> channel_moments(const ir::Node &node, const Func &x, const Shape &xs, LowerContext &ctx) {
    if (plane_sums_apply(xs, node.dtype(), ctx)) return channel_moments_by_plane(node, x, xs, ctx);
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

/// sum(g) and sum(g * x_hat) per channel, where x_hat = (x - mean) * invstd: a Func [2, C]
/// (Halide order (c, row)) summed in one sweep over g and x.
Func gradient_sums(const ir::Node &node, const Func &x, const Func &g, const Statistics &s, LowerContext &ctx) {
    const Shape &xs = node.input(0)->shape();
    if (plane_sums_apply(xs, node.dtype(), ctx)) {
        // Per plane, both sums in one sweep over g and x: sum(g) and sum(g * (x - mean)), then the
        // planes' sums added per channel and row 1 scaled by invstd.
        const Type t = halide_type(node.dtype());
        const Func xb = constant_outside_spatial(x, xs, constant(t, 0));
        const Func gb = constant_outside_spatial(g, xs, constant(t, 0));
        const PlaneSums planes = plane_sums(func_name(node, "_plane_sums"), xs, node.dtype(), 2,
                                            [&](const Index &i, const Expr &row) {
                                                const Expr gi = call(gb, i);
                                                return select(row == 0, gi, gi * (call(xb, i) - s.mean(i[1])));
                                            }, ctx);
        const Var k("k"), c("c"), p("p");
        Func per_plane(func_name(node, "_per_plane"));
        per_plane(k, c, p) = planes.sums(k, c, p);
        const Var task = schedule_per_plane(per_plane, k, c, p, 2, xs, ctx);
        compute_plane_sums_at(planes, per_plane, task);
        const Var row("row"), ch("c");
        Func total = cascade_sum(func_name(node, "_plane_total"), {row, ch}, Shape{2, xs[1]}, Shape{planes.planes},
                                 node.dtype(), [&](const Index &i) { return Expr(per_plane(row, ch, i[0])); }, ctx);
        Func sums(func_name(node, "_sums"));  // Halide order (c, row)
        sums(ch, row) = select(row == 0, total(ch, row), total(ch, row) * s.invstd(ch));
        return sums;
    }
    const ChannelSum channel_sum{node.input(0)->shape(), node.dtype(), ctx};
    return channel_sum.sums(func_name(node, "_sums"), 2, [&](const Index &i, const Expr &row) {
        const Expr gi = call(g, i);
        return select(row == 0, gi, gi * ((call(x, i) - s.mean(i[1])) * s.invstd(i[1])));
    });
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
    const Func sums = gradient_sums(node, ctx.func(node.input(0)), ctx.func(node.input(1)), s, ctx);
    auto vars = make_vars(2);  // IR order: row, c
    Func f(func_name(node));
    define(f, vars, sums(vars[1], vars[0]));
    return f;
}

Func lower_batch_norm_train_grad(const ir::Node &node, LowerContext &ctx) {
    const Shape &xs = node.shape();
    const Type t = halide_type(node.dtype());
    const Func &x = ctx.func(node.input(0)), &w = ctx.func(node.input(1)), &g = ctx.func(node.input(2));
    const Statistics s = channel_statistics(node, ctx);
    // [2, C], Halide order (c, row): row 0 sum(g), row 1 sum(g * x_hat).
    const Func sums = node.inputs.size() > 4 ? ctx.func(node.input(4)) : gradient_sums(node, x, g, s, ctx);
    const Var ch("c");
    Func sum_g(func_name(node, "_sumg")), sum_gx(func_name(node, "_sumgx"));
    sum_g(ch) = sums(ch, 0);
    sum_gx(ch) = sums(ch, 1);
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
