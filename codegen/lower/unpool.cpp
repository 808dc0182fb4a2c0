// Lowering of max pooling's indices (PyTorch's return_indices) and of
// max_unpool and its gradient, for 1-d and 2-d inputs. An index is a position
// in its (n, c) plane: l, or h * W + w. Unpooling is a gather, as the pool
// gradients are: each output element looks for itself among the indices of
// the few windows that can contain it, so nothing is scattered.

#include "codegen/lower/context.h"
#include "codegen/lower/math.h"
#include "codegen/lower/pool_taps.h"
#include "codegen/schedules/schedule.h"

#include <fmt/format.h>

namespace strata::codegen {

using namespace Halide;

namespace {

/// Row-major strides of a plane of spatial extents `extents`.
std::vector<int64_t> plane_strides(const Shape &extents) {
    std::vector<int64_t> strides(extents.size(), 1);
    for (size_t i = extents.size() - 1; i-- > 0;) strides[i] = strides[i + 1] * extents[i + 1];
    return strides;
}

/// The indices of an unpool node, checked when it runs: index i of input window o must lie
/// in that window of kernel_size/stride/padding and inside the output plane, else the run
/// fails naming the value, its position and what was expected. Computed on the host.
Func checked_indices(const ir::Node &node, const ir::Node *indices, LowerContext &ctx) {
    const Shape &is = indices->shape();
    const size_t s = is.size() - 2;
    const PoolWindow window = pool_window(node, s);
    const ir::Ints &size = node.attrs.get_ints("output_size");
    const std::vector<int64_t> strides = plane_strides(Shape(size.begin(), size.end()));
    auto vars = make_vars(is.size(), "i");
    const Index at = as_index(vars);
    // i64 indices (PyTorch's) are checked in 64 bits, then index the plane as i32 like i32 ones.
    const Expr stored = call(ctx.func(indices), at);
    const Expr index = saturating_i32(stored);
    Expr ok = stored >= 0 && stored < static_cast<int>(strides[0] * size[0]);
    for (size_t d = 0; d < s; ++d) {
        Expr pos = (index / static_cast<int>(strides[d])) % static_cast<int>(size[d]);
        Expr start = window.input_position(d, at[2 + d], 0);
        ok = ok && pos >= start && pos < start + static_cast<int>(window.kernel[d]);
    }
    // Halide prints the values after "Requirement Failed: (condition)", separated by spaces.
    std::vector<Expr> message = {stored, Expr("is not a max_unpool index of its window at position [")};
    for (size_t d = 0; d < at.size(); ++d) {
        message.push_back(at[d]);
        if (d + 1 < at.size()) message.push_back(Expr(","));
    }
    message.push_back(Expr(fmt::format("] (expected a position in the output plane [{}] inside the window of "
                                       "kernel_size [{}], stride [{}], padding [{}], as max_pool with these gives)",
                                       fmt::join(size, ","), fmt::join(window.kernel, ","),
                                       fmt::join(window.stride, ","), fmt::join(window.padding, ","))));
    Func checked(func_name(node, "_indices"));
    define(checked, vars, saturating_i32(require(ok, message)));
    store_on_host(checked, ctx);
    return checked;
}

}  // namespace

Func lower_pool_indices(const ir::Node &node, LowerContext &ctx) {
    const ir::Node *in = node.input(0);
    const Shape &xs = in->shape(), &os = node.shape();
    const size_t s = xs.size() - 2;
    const PoolWindow window = pool_window(node, s);
    const Type t = halide_type(in->dtype());
    const std::vector<int64_t> strides = plane_strides(Shape(xs.begin() + 2, xs.end()));
    auto vars = make_vars(os.size());
    const Index out_idx = as_index(vars);
    const std::vector<Expr> args = to_halide_args(out_idx);
    Func xp = window.windows_inside(xs, os) ? ctx.func(in) : constant_outside_spatial(ctx.func(in), xs, lowest_value(t));

    Region region;
    for (size_t i = s; i-- > 0;) region.push_back(Range(0, static_cast<int>(window.kernel[i])));
    RDom r(region, "r");
    Index at = {out_idx[0], out_idx[1]};
    Expr inside = Internal::const_true(), position = 0;
    for (size_t i = 0; i < s; ++i) {
        Expr pos = window.input_position(i, out_idx[2 + i], r[static_cast<int>(s - 1 - i)]);
        at.push_back(pos);
        inside = inside && pos >= 0 && pos < static_cast<int>(xs[2 + i]);
        position = position + pos * static_cast<int>(strides[i]);
    }
    // (index, rank key) over the taps in window order, as max_poolNd_grad picks its tap: a strictly
    // greater value or a NaN takes over; taps in the padding never do (PyTorch looks only inside).
    const TapRank rank = rank_of(call(xp, at));
    const Expr lowest_key = t.is_float() ? Int(t.bits()).min() : lowest_value(t);
    Func best(func_name(node, "_best"));
    best(args) = Tuple(Expr(-1), lowest_key);
    Expr better = inside && (best(args)[0] < 0 || takes_over(rank, best(args)[1]));
    best(args) = Tuple(select(better, position, best(args)[0]), select(better, rank.key, best(args)[1]));
    std::vector<RVar> rvars;
    for (int i = 0; i < r.dimensions(); ++i) rvars.push_back(r[i]);
    schedule_reduction(best, os, in->dtype(), rvars, 0, ctx);
    Func f(func_name(node));
    define(f, vars, best(args)[0]);
    steer_rules_at(ctx, f);
    schedule_elementwise(f, os, node.dtype(), ctx);
    return f;
}

Func lower_unpool(const ir::Node &node, LowerContext &ctx) {
    const ir::Node *in = node.input(0);
    const Shape &xs = in->shape(), &os = node.shape();
    const size_t s = xs.size() - 2;
    const PoolWindow window = pool_window(node, s);
    const Type t = halide_type(node.dtype());
    const std::vector<int64_t> strides = plane_strides(Shape(os.begin() + 2, os.end()));
    const Func indices = checked_indices(node, node.input(1), ctx);
    auto vars = make_vars(os.size());
    const Index idx = as_index(vars);
    Expr position = 0;
    std::vector<Candidates> cands(s);
    std::vector<int64_t> counts(s);
    for (size_t i = 0; i < s; ++i) {
        position = position + idx[2 + i] * static_cast<int>(strides[i]);
        cands[i] = candidates(idx[2 + i], window.stride[i], window.padding[i], window.kernel[i]);
        counts[i] = cands[i].count;
    }
    // The windows that contain this element, in input order; the last whose index is this
    // element wins, as PyTorch's scatter in input order leaves it (overlapping max-pool windows
    // that share a maximum carry the same value anyway).
    Expr value = constant(t, 0);
    int64_t total = 1;
    for (int64_t c : counts) total *= c;
    for (int64_t c = 0; c < total; ++c) {
        const std::vector<int64_t> pick = unflatten(c, counts);
        Index o_idx = {idx[0], idx[1]};
        Expr valid = Internal::const_true();
        for (size_t i = 0; i < s; ++i) {
            Expr o = cands[i].first + static_cast<int>(pick[i]);
            valid = valid && o >= 0 && o < static_cast<int>(xs[2 + i]);
            o_idx.push_back(clamp(o, 0, static_cast<int>(xs[2 + i] - 1)));
        }
        value = select(valid && call(indices, o_idx) == position, call(ctx.func(in), o_idx), value);
    }
    Func f(func_name(node));
    define(f, vars, value);
    steer_rules_at(ctx, f);
    schedule_elementwise(f, os, node.dtype(), ctx);
    return f;
}

Func lower_unpool_grad(const ir::Node &node, LowerContext &ctx) {
    const ir::Node *grad = node.input(0);
    const Shape &gs = grad->shape(), &xs = node.shape();
    const size_t s = xs.size() - 2;
    const std::vector<int64_t> strides = plane_strides(Shape(gs.begin() + 2, gs.end()));
    const Func indices = checked_indices(node, node.input(1), ctx);
    auto vars = make_vars(xs.size());
    const Index idx = as_index(vars);
    Expr index = call(indices, idx);
    Index at = {idx[0], idx[1]};
    for (size_t i = 0; i < s; ++i)
        at.push_back(clamp((index / static_cast<int>(strides[i])) % static_cast<int>(gs[2 + i]), 0,
                           static_cast<int>(gs[2 + i] - 1)));
    Func f(func_name(node));
    define(f, vars, call(ctx.func(grad), at));
    steer_rules_at(ctx, f);
    schedule_elementwise(f, xs, node.dtype(), ctx);
    return f;
}

}  // namespace strata::codegen
