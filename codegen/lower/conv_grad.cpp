// Lowering of convNd_grad_weight(input, grad_output):
//   dW[co, ci, k...] = sum over n and output positions o of
//                      grad_output[n, co, o] * input[n, g*cig + ci, o*stride - pad + k*dil]
// The sum is split in two: a partial sum that keeps the innermost output
// position as a pure (vectorisable, contiguous) dim, then a short sum over it.

#include "codegen/lower/context.h"
#include "codegen/schedules/conv1d_forms.h"
#include "codegen/schedules/schedule.h"

namespace strata::codegen {

using namespace Halide;

Func lower_conv_grad_weight(const ir::Node &node, LowerContext &ctx) {
    if (conv1d_grad_weight_lanes_applies(node, ctx)) return lower_conv1d_grad_weight_lanes(node, ctx);
    if (blocked_conv_grad_weight_applies(node, ctx)) return lower_conv_grad_weight_blocked(node, ctx);
    const ir::Node *in = node.input(0), *gout = node.input(1);
    const Shape &xs = in->shape(), &gs = gout->shape(), &ws = node.shape();
    const size_t s = xs.size() - 2;
    const ir::Ints &stride = node.attrs.get_ints("stride"), &padding = node.attrs.get_ints("padding"),
                   &dilation = node.attrs.get_ints("dilation");
    const int64_t groups = node.attrs.get_int("groups");
    const int64_t cin_g = xs[1] / groups, cout_g = gs[1] / groups;
    const Type t = halide_type(node.dtype());

    bool padded = false;
    for (int64_t p : padding) padded = padded || p > 0;
    // With a stride along the vectorised output positions, read the input by phase (see PhaseSplitInput).
    const bool phase_split = stride.back() > 1;
    PhaseSplitInput split;
    if (phase_split) split = phase_split_input(ctx.func(in), xs, stride.back(), func_name(node, "_phases"), ctx);
    const Func xp = phase_split ? split.xp
                    : padded    ? stored_zero_padded(ctx.func(in), xs, func_name(node, "_padded"), ctx)
                                : ctx.func(in);

    // CPU default: the partial sums' output positions are rounded up to whole
    // vectors, reading zeros past the end (grad_output staged with zero
    // columns; the stored padded or phase-split input is zero there), so no
    // load is predicated: predicated loads kept LLVM from holding the
    // accumulators in registers (every tap loaded and stored its partial sum
    // per position).
    Func gsrc = ctx.func(gout), staged_grad;
    if (ctx.cpu_tuned_forms() && (padded || phase_split)) {
        const Func bounded = constant_outside_spatial(ctx.func(gout), gs, constant(t, 0));
        staged_grad = Func(func_name(node, "_gy"));
        auto gvars = make_vars(gs.size(), "g");
        define(staged_grad, gvars, call(bounded, as_index(gvars)));
        gsrc = staged_grad;
    }

    // partial(co, ci, k..., ox) = sum over (n, outer output positions).
    auto wvars = make_vars(ws.size(), "w");  // co, ci, k...
    Var ox("ox");
    std::vector<Var> pvars = wvars;
    pvars.push_back(ox);
    Region region;  // innermost first: outer spatial output dims (all but the last), then n
    for (size_t i = s - 1; i-- > 0;) region.push_back(Range(0, static_cast<int>(gs[2 + i])));
    region.push_back(Range(0, static_cast<int>(gs[0])));
    RDom r(region, "r");
    Expr n = r[static_cast<int>(s - 1)];
    Index out_pos(s);
    for (size_t i = 0; i + 1 < s; ++i) out_pos[i] = r[static_cast<int>(s - 2 - i)];
    out_pos[s - 1] = ox;

    Expr co = wvars[0], ci = wvars[1];
    Expr group = groups == 1 ? Expr(0) : co / static_cast<int>(cout_g);
    Index g_idx = {n, co};
    Index x_idx = {n, groups == 1 ? ci : group * static_cast<int>(cin_g) + ci};
    auto offset = [&](size_t i) {
        return wvars[2 + i] * static_cast<int>(dilation[i]) - static_cast<int>(padding[i]);
    };
    for (size_t i = 0; i < s; ++i) {
        g_idx.push_back(out_pos[i]);
        if (i + 1 < s || !phase_split) x_idx.push_back(out_pos[i] * static_cast<int>(stride[i]) + offset(i));
    }
    if (phase_split) x_idx = split.at(x_idx, out_pos[s - 1], offset(s - 1));
    Func partial(func_name(node, "_partial"));
    define(partial, pvars, constant(t, 0));
    partial(to_halide_args(as_index(pvars))) =
        call(partial, as_index(pvars)) + call(gsrc, g_idx) * call(xp, x_idx);

    RDom rx(0, static_cast<int>(gs.back()), "rx");
    Index p_idx = as_index(wvars);
    p_idx.push_back(rx);
    Func acc(func_name(node, "_acc")), f(func_name(node));
    define(acc, wvars, constant(t, 0));
    acc(to_halide_args(as_index(wvars))) = call(acc, as_index(wvars)) + call(partial, p_idx);
    define(f, wvars, call(acc, as_index(wvars)));

    ConvGradWeightStages stages{f, acc, partial, ox, gs.back(), wvars, ws, {}, staged_grad};
    for (int i = 0; i < r.dimensions(); ++i) stages.rvars.push_back(r[i]);
    schedule_conv_grad_weight(stages, node.dtype(), ctx);
    return f;
}

}  // namespace strata::codegen
