// Lowering of conv1d/conv2d and conv_transpose1d/2d (NCL / NCHW, groups,
// stride, dilation, zero padding). Other padding modes arrive as an explicit
// pad node before the conv.

#include "codegen/lower/context.h"
#include "codegen/schedules/schedule.h"

#include <algorithm>

namespace strata::codegen {

using namespace Halide;
using ir::Op;

Func stored_zero_padded(const Func &x, const Shape &shape, const std::string &name, LowerContext &ctx) {
    Func bounded = constant_outside_spatial(x, shape, constant(x.value().type(), 0));
    Func padded(name);
    padded(x.args()) = bounded(x.args());
    schedule_padded_input(padded, ctx);
    return padded;
}

PhaseSplitInput phase_split_input(const Func &x, const Shape &shape, int64_t stride, const std::string &name,
                                  LowerContext &ctx) {
    const Func bounded = constant_outside_spatial(x, shape, constant(x.value().type(), 0));
    auto vars = make_vars(shape.size() + 1);  // n, c, outer spatial..., b, q
    Index source(vars.begin(), vars.end() - 2);
    source.push_back(vars.back() * static_cast<int>(stride) + vars[vars.size() - 2]);
    Func xp(name);
    define(xp, vars, call(bounded, source));
    schedule_padded_input(xp, ctx);
    return {xp, stride};
}

Index PhaseSplitInput::at(Index outer, const Expr &o, const Expr &offset) const {
    // Halide's integer / and % round towards -infinity, so offset = S*(offset/S) + offset%S for any sign.
    const Expr s = static_cast<int>(stride);
    outer.push_back(offset % s);
    outer.push_back(o + offset / s);
    return outer;
}

Func lower_conv(const ir::Node &node, LowerContext &ctx) {
    if (conv_flat_rows_applies(node, ctx)) return lower_conv_flat_rows(node, ctx);
    const ir::Node *in = node.input(0), *w = node.input(1);
    const bool transposed = node.op == Op::conv_transpose1d || node.op == Op::conv_transpose2d;
    const Shape &xs = in->shape(), &ws = w->shape(), &os = node.shape();
    const size_t s = xs.size() - 2;
    const ir::Ints &stride = node.attrs.get_ints("stride"), &padding = node.attrs.get_ints("padding"),
                   &dilation = node.attrs.get_ints("dilation");
    const int64_t groups = node.attrs.get_int("groups");
    const int64_t cin_g = xs[1] / groups;
    const int64_t cout_g = os[1] / groups;
    const Type t = halide_type(node.dtype());

    // A transposed conv with a stride S along a spatial dim is computed by output
    // phase along it: output o = S*q + p takes input i where o + pad = S*i + k,
    // so only the taps k = (p + pad) % S + S*j reach it, from input
    // q + (p + pad) / S - j. phased(n, co, ..., p, q, ...) sums exactly those (no
    // masked taps, unit-stride input reads along q, q spans ceil(O/S) positions);
    // the node's output interleaves the phases back. Dilated dims are masked instead.
    std::vector<int64_t> phase_stride(s, 1);
    for (size_t i = 0; i < s; ++i)
        if (transposed && dilation[i] == 1) phase_stride[i] = stride[i];
    auto phased = [&](size_t i) { return phase_stride[i] > 1; };
    const bool by_phase = std::any_of(phase_stride.begin(), phase_stride.end(), [](int64_t v) { return v > 1; });
    auto taps_of = [&](size_t i) { return (ws[2 + i] + phase_stride[i] - 1) / phase_stride[i]; };

    // Vars in IR order: n, co, then per spatial dim its position o (or its phase p and q).
    std::vector<size_t> position_var(s), phase_var(s);
    size_t var_count = 2;
    for (size_t i = 0; i < s; ++i) {
        if (phased(i)) phase_var[i] = var_count++;
        position_var[i] = var_count++;
    }
    auto vars = make_vars(var_count);
    const Index out_idx = as_index(vars);
    Expr co = vars[1];
    Expr group = groups == 1 ? Expr(0) : co / static_cast<int>(cout_g);

    // Reduction over (input channel in group, kernel taps); RDom innermost first:
    // the last spatial tap varies fastest.
    Region region;
    for (size_t i = s; i-- > 0;) region.push_back(Range(0, static_cast<int>(taps_of(i))));
    region.push_back(Range(0, static_cast<int>(cin_g)));
    RDom r(region, "r");
    auto tap = [&](size_t i) { return r[static_cast<int>(s - 1 - i)]; };
    Expr ci = r[static_cast<int>(s)];
    Expr channel = groups == 1 ? ci : group * static_cast<int>(cin_g) + ci;

    bool padded = transposed;
    for (int64_t p : padding) padded = padded || p > 0;
    const bool phase_split = !transposed && stride.back() > 1;
    Func xp = phase_split ? Func()
              : padded    ? stored_zero_padded(ctx.func(in), xs, func_name(node, "_padded"), ctx)
                          : ctx.func(in);
    Index x_idx = {out_idx[0], channel};
    Index w_idx;
    Expr valid = Internal::const_true();
    bool masked = false;
    if (!transposed) {
        auto offset = [&](size_t i) {
            return tap(i) * static_cast<int>(dilation[i]) - static_cast<int>(padding[i]);
        };
        for (size_t i = 0; i + (phase_split ? 1 : 0) < s; ++i)
            x_idx.push_back(out_idx[position_var[i]] * static_cast<int>(stride[i]) + offset(i));
        if (phase_split) {
            const PhaseSplitInput split =
                phase_split_input(ctx.func(in), xs, stride.back(), func_name(node, "_phases"), ctx);
            xp = split.xp;
            x_idx = split.at(x_idx, out_idx.back(), offset(s - 1));
        }
        w_idx = {co, ci};
    } else {
        // Gather form: out[o] takes in[i] * w[k] where o = i*stride - pad + k*dil.
        for (size_t i = 0; i < s; ++i) {
            if (phased(i)) {
                const Expr first_input = (out_idx[phase_var[i]] + static_cast<int>(padding[i])) / static_cast<int>(stride[i]);
                x_idx.push_back(out_idx[position_var[i]] + first_input - tap(i));
                continue;
            }
            Expr num = out_idx[position_var[i]] + static_cast<int>(padding[i]) - tap(i) * static_cast<int>(dilation[i]);
            if (stride[i] > 1) {
                valid = valid && (num % static_cast<int>(stride[i]) == 0);
                masked = true;
                num = num / static_cast<int>(stride[i]);
            }
            x_idx.push_back(num);
        }
        w_idx = {channel, groups == 1 ? co : co - group * static_cast<int>(cout_g)};
    }
    Func weight = ctx.func(w);
    if (by_phase) {
        // Tap (p + pad) % S + S*j; past the kernel's end (K not a multiple of S) it is zero.
        Region bounds(ws.size());
        for (size_t i = 0; i < s; ++i) bounds[s - 1 - i] = Range(0, static_cast<int>(ws[2 + i]));
        weight = BoundaryConditions::constant_exterior(weight, constant(t, 0), bounds);
    }
    for (size_t i = 0; i < s; ++i)
        w_idx.push_back(phased(i) ? (out_idx[phase_var[i]] + static_cast<int>(padding[i])) % static_cast<int>(stride[i]) +
                                        tap(i) * static_cast<int>(stride[i])
                                  : tap(i));

    Func acc(func_name(node, by_phase ? "_phase_sum" : "_acc"));
    define(acc, vars, node.inputs.size() == 3 ? ctx.func(node.input(2))(co) : constant(t, 0));
    Expr product = call(weight, w_idx) * call(xp, x_idx);
    if (masked) product = select(valid, product, constant(t, 0));
    acc(to_halide_args(out_idx)) = call(acc, out_idx) + product;

    // Stored by the tiled schedule: the output itself, or (by phase) its phases.
    Func tiled(func_name(node, by_phase ? "_acc" : ""));
    define(tiled, vars, call(acc, out_idx));

    auto extent_of = [&](size_t v) -> int64_t {
        for (size_t i = 0; i < s; ++i) {
            if (v == position_var[i]) return phased(i) ? (os[2 + i] + phase_stride[i] - 1) / phase_stride[i] : os[2 + i];
            if (phased(i) && v == phase_var[i]) return phase_stride[i];
        }
        return os[v];  // n, co
    };
    TiledReduction tiles;
    tiles.out = tiled;
    tiles.acc = acc;
    tiles.x = {vars.back(), extent_of(vars.size() - 1)};
    tiles.c = {vars[1], os[1]};
    for (size_t v = vars.size() - 1; v-- > 2;) tiles.outer.push_back({vars[v], extent_of(v)});
    tiles.outer.push_back({vars[0], os[0]});
    for (int i = 0; i < r.dimensions(); ++i) tiles.rvars.push_back(r[i]);
    tiles.dtype = node.dtype();
    int64_t phases = 1;
    for (int64_t v : phase_stride) phases *= v;
    tiles.work_per_output = shape_numel(Shape(ws.begin() + 1, ws.end())) / phases;
    tiles.broadcast_operand = weight;  // the same for every output position
    if (padded || phase_split) tiles.staged_input = xp;
    // Fused into its epilogue: the tiles are computed in the epilogue's loops.
    const Fusion *epilogue = planned_epilogue(ctx, node.id);
    tiles.nested = epilogue != nullptr;
    const bool parallel = schedule_tiled_reduction(tiles, ctx);
    if (epilogue) ctx.nested_tiles[epilogue->producer].push_back({node.id, tiled, tiles.staged_input, parallel});
    if (!by_phase) return tiled;

    auto out_vars = make_vars(os.size());
    Index phase_idx = {out_vars[0], out_vars[1]};
    for (size_t i = 0; i < s; ++i) {
        const Expr o = out_vars[2 + i];
        if (!phased(i)) {
            phase_idx.push_back(o);
            continue;
        }
        phase_idx.push_back(o % static_cast<int>(phase_stride[i]));
        phase_idx.push_back(o / static_cast<int>(phase_stride[i]));
    }
    Func f(func_name(node));
    define(f, out_vars, call(tiled, phase_idx));
    return f;
}

}  // namespace strata::codegen
