// Lowering of upsample_nearest1d/2d, upsample_linear1d, upsample_bilinear2d (F.interpolate,
// nn.Upsample) and their gradients. Shapes are static, so PyTorch's coordinate rules run here,
// on the host, once per spatial axis, in PyTorch's own arithmetic (the tensor's type for the
// scale, double where aten accumulates in double, floorf for nearest): a table of the source
// index and weight of each output position, embedded in the pipeline as constant data. The
// pipeline only gathers with it, so the numbers cannot drift from aten's through Halide's
// float rewriting. A gradient gathers too: each input position sums the outputs it feeds
// (a table per axis lists them, in output order as aten's backward adds them).

#include "codegen/lower/context.h"
#include "codegen/schedules/schedule.h"

#include <strata/error.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace strata::codegen {

using namespace Halide;
using ir::Op;

namespace {

/// One spatial axis of a resampling: output position o reads input positions index0[o] and
/// index1[o] with weights weight0[o] and weight1[o] (nearest: index0 alone, weight 1).
struct Axis {
    int64_t in = 0, out = 0;
    bool linear = false;
    std::vector<int32_t> index0, index1;
    std::vector<double> weight0, weight1;  ///< values of the tensor's type, held exactly
};

/// aten's compute_scales_value<T>: 1 / the user's scale factor, else input / output size.
template <typename T>
T scales_value(double scale, int64_t in, int64_t out) {
    return scale > 0.0 ? static_cast<T>(1.0 / scale) : static_cast<T>(in) / static_cast<T>(out);
}

/// upsample_nearest's rule (aten's CPU kernel, HelperInterpNearest): source floor(o * scale) in T,
/// floored as a float, clamped to the last input.
template <typename T>
Axis nearest_axis(int64_t in, int64_t out, double scale) {
    Axis a{in, out, false, {}, {}, {}, {}};
    const T s = scales_value<T>(scale, in, out);
    for (int64_t o = 0; o < out; ++o) {
        const T real = s * static_cast<T>(o);
        const int64_t i = std::min(static_cast<int64_t>(std::floor(static_cast<float>(real))), in - 1);
        a.index0.push_back(static_cast<int32_t>(i));
        a.weight0.push_back(1.0);
    }
    return a;
}

/// upsample_linear's rule (aten's area_pixel_compute_scale and compute_source_index_and_lambda):
/// the ratio in T, the source position in double, the half-pixel one clamped at 0; equal sizes copy.
/// The source is also clamped to the input (aten's later guard), which matters only when an IR
/// node's scale disagrees with its output_size.
template <typename T>
Axis linear_axis(int64_t in, int64_t out, bool align_corners, double scale) {
    Axis a{in, out, true, {}, {}, {}, {}};
    T ratio;
    if (align_corners) ratio = out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : static_cast<T>(0);
    else ratio = scales_value<T>(scale, in, out);
    for (int64_t o = 0; o < out; ++o) {
        int64_t i0 = o, i1 = o;
        T lambda0 = 1, lambda1 = 0;
        if (in != out) {
            const double r = static_cast<double>(ratio);
            double real = align_corners ? r * static_cast<double>(o) : r * (static_cast<double>(o) + 0.5) - 0.5;
            if (real < 0) real = 0;
            i0 = std::min(static_cast<int64_t>(real), in - 1);
            i1 = i0 + (i0 < in - 1 ? 1 : 0);
            lambda1 = static_cast<T>(std::min(std::max(real - static_cast<double>(i0), 0.0), 1.0));
            lambda0 = static_cast<T>(1) - lambda1;
        }
        a.index0.push_back(static_cast<int32_t>(i0));
        a.index1.push_back(static_cast<int32_t>(i1));
        a.weight0.push_back(static_cast<double>(lambda0));
        a.weight1.push_back(static_cast<double>(lambda1));
    }
    return a;
}

/// The axes of an upsample node or its gradient, outermost first, from its attributes, the
/// input's spatial shape and the type it computes in.
std::vector<Axis> resample_axes(const ir::Node &node, const Shape &in_shape) {
    const size_t s = static_cast<size_t>(node.info().spatial_rank);
    const ir::Ints &size = node.attrs.get_ints("output_size");
    const std::vector<std::string> scale_names =
        s == 1 ? std::vector<std::string>{"scales"} : std::vector<std::string>{"scales_h", "scales_w"};
    const bool linear = node.attrs.has("align_corners");
    const bool f32 = node.dtype() == DType::f32;
    std::vector<Axis> axes;
    for (size_t d = 0; d < s; ++d) {
        const int64_t in = in_shape[2 + d], out = size[d];
        const double scale = node.attrs.get_float(scale_names[d]);
        if (linear) {
            const bool align = node.attrs.get_bool("align_corners");
            axes.push_back(f32 ? linear_axis<float>(in, out, align, scale) : linear_axis<double>(in, out, align, scale));
        } else {
            axes.push_back(f32 ? nearest_axis<float>(in, out, scale) : nearest_axis<double>(in, out, scale));
        }
    }
    return axes;
}

/// A 1-d table as constant data in the pipeline.
Buffer<> index_table(const std::vector<int32_t> &values, const std::string &name) {
    Buffer<int32_t> b(std::vector<int>{static_cast<int>(values.size())}, name);
    std::copy(values.begin(), values.end(), b.data());
    return b;
}

Buffer<> weight_table(const std::vector<double> &values, const Type &t, const std::string &name) {
    Buffer<> b(t, {static_cast<int>(values.size())}, name);
    for (size_t i = 0; i < values.size(); ++i) {
        if (t == Float(32)) static_cast<float *>(b.data())[i] = static_cast<float>(values[i]);
        else static_cast<double *>(b.data())[i] = values[i];
    }
    return b;
}

/// Axis `d`'s tables as Halide buffers, named after the node.
struct AxisTables {
    Buffer<> index0, index1, weight0, weight1;
};

AxisTables tables(const Axis &a, const Type &t, const ir::Node &node, size_t d) {
    const std::string tag = "_axis" + std::to_string(d);
    AxisTables out;
    out.index0 = index_table(a.index0, func_name(node, (tag + "_index0").c_str()));
    if (a.linear) {
        out.weight0 = weight_table(a.weight0, t, func_name(node, (tag + "_weight0").c_str()));
        out.index1 = index_table(a.index1, func_name(node, (tag + "_index1").c_str()));
        out.weight1 = weight_table(a.weight1, t, func_name(node, (tag + "_weight1").c_str()));
    }
    return out;
}

/// table(at...), the position clamped into the table: a vectorised loop may round its extent up, and
/// Halide checks an embedded buffer's reads against its size even where it predicates them away.
Expr lookup(const Buffer<> &table, std::vector<Expr> at) {
    for (size_t i = 0; i < at.size(); ++i) at[i] = clamp(at[i], 0, table.dim(static_cast<int>(i)).extent() - 1);
    return table(at);
}

/// The source position in the table at output `position`, clamped into [0, extent): the table
/// holds such, and the clamp tells Halide's bounds inference so (it cannot see into the data).
Expr source(const Buffer<> &table, const Expr &position, int64_t extent) {
    return clamp(lookup(table, {position}), 0, static_cast<int>(extent - 1));
}

/// The adjoint of one axis: input position i sums count[i] terms weight(r, i) * g(output(r, i)),
/// r < count[i], in the order aten's backward adds them (by output, index0's term first).
struct AxisAdjoint {
    int64_t terms = 0;  ///< the most terms any input position has
    Buffer<> count, output, weight;
};

AxisAdjoint adjoint(const Axis &a, const Type &t, const ir::Node &node, size_t d) {
    std::vector<std::vector<std::pair<int32_t, double>>> feeds(static_cast<size_t>(a.in));
    for (int64_t o = 0; o < a.out; ++o) {
        const size_t k = static_cast<size_t>(o);
        feeds[static_cast<size_t>(a.index0[k])].push_back({static_cast<int32_t>(o), a.weight0[k]});
        if (a.linear) feeds[static_cast<size_t>(a.index1[k])].push_back({static_cast<int32_t>(o), a.weight1[k]});
    }
    AxisAdjoint adj;
    for (const auto &f : feeds) adj.terms = std::max<int64_t>(adj.terms, static_cast<int64_t>(f.size()));
    adj.terms = std::max<int64_t>(adj.terms, 1);
    const int in = static_cast<int>(a.in), terms = static_cast<int>(adj.terms);
    const std::string tag = "_axis" + std::to_string(d);
    Buffer<int32_t> count(std::vector<int>{in}, func_name(node, (tag + "_count").c_str()));
    Buffer<int32_t> output(std::vector<int>{terms, in}, func_name(node, (tag + "_output").c_str()));
    Buffer<> weight(t, {terms, in}, func_name(node, (tag + "_weight").c_str()));
    output.fill(0);
    for (int i = 0; i < in; ++i) {
        const auto &f = feeds[static_cast<size_t>(i)];
        count(i) = static_cast<int32_t>(f.size());
        for (int r = 0; r < terms; ++r) {
            const double w = r < static_cast<int>(f.size()) ? f[static_cast<size_t>(r)].second : 0.0;
            if (r < static_cast<int>(f.size())) output(r, i) = f[static_cast<size_t>(r)].first;
            if (t == Float(32)) static_cast<float *>(weight.data())[r + terms * i] = static_cast<float>(w);
            else static_cast<double *>(weight.data())[r + terms * i] = w;
        }
    }
    adj.count = count;
    adj.output = output;
    adj.weight = weight;
    return adj;
}

/// g summed along spatial axis d (IR dim 2 + d) back onto that axis's input positions, as a
/// reduction stored whole: g's shape `gs` with dim 2 + d the axis's input extent.
Func adjoint_along(const Func &g, const Shape &gs, const Axis &a, size_t d, const ir::Node &node, LowerContext &ctx) {
    const Type t = halide_type(node.dtype());
    const AxisAdjoint adj = adjoint(a, t, node, d);
    Shape out_shape = gs;
    out_shape[2 + d] = a.in;
    auto vars = make_vars(out_shape.size());
    const Index at = as_index(vars);
    RDom r(0, static_cast<int>(adj.terms), "r");
    const Expr term_index = r.x, i = at[2 + d];
    Index from = at;
    from[2 + d] = clamp(lookup(adj.output, {term_index, i}), 0, static_cast<int>(a.out - 1));
    const Expr term = select(term_index < lookup(adj.count, {i}), lookup(adj.weight, {term_index, i}) * call(g, from), constant(t, 0));
    Func acc(func_name(node, ("_sum_axis" + std::to_string(d)).c_str()));
    const std::vector<Expr> args = to_halide_args(at);
    acc(args) = constant(t, 0);
    acc(args) += term;
    schedule_reduction(acc, out_shape, node.dtype(), {r.x}, adj.terms, ctx);
    return acc;
}

}  // namespace

Func lower_resample(const ir::Node &node, LowerContext &ctx) {
    const ir::Node *in = node.input(0);
    const Shape &os = node.shape();
    const Type t = halide_type(node.dtype());
    const std::vector<Axis> axes = resample_axes(node, in->shape());
    std::vector<AxisTables> tab;
    for (size_t d = 0; d < axes.size(); ++d) tab.push_back(tables(axes[d], t, node, d));
    const Func x = ctx.func(in);
    auto vars = make_vars(os.size());
    const Index at = as_index(vars);
    Expr value;
    if (!axes[0].linear) {
        Index from = {at[0], at[1]};
        for (size_t d = 0; d < axes.size(); ++d) from.push_back(source(tab[d].index0, at[2 + d], axes[d].in));
        value = call(x, from);
    } else {
        // aten's Interpolate: the innermost axis first, t0 * w0 + t1 * w1 at each level.
        const size_t last = axes.size() - 1;
        const Expr o = at[2 + last];
        auto along_last = [&](Index outer) {
            Index a0 = outer, a1 = outer;
            a0.push_back(source(tab[last].index0, o, axes[last].in));
            a1.push_back(source(tab[last].index1, o, axes[last].in));
            return call(x, a0) * lookup(tab[last].weight0, {o}) + call(x, a1) * lookup(tab[last].weight1, {o});
        };
        if (axes.size() == 1) {
            value = along_last({at[0], at[1]});
        } else {
            const Expr h = at[2];
            value = along_last({at[0], at[1], source(tab[0].index0, h, axes[0].in)}) * lookup(tab[0].weight0, {h}) +
                    along_last({at[0], at[1], source(tab[0].index1, h, axes[0].in)}) * lookup(tab[0].weight1, {h});
        }
    }
    Func f(func_name(node));
    define(f, vars, value);
    steer_rules_at(ctx, f);
    schedule_elementwise(f, os, node.dtype(), ctx);
    return f;
}

Func lower_resample_grad(const ir::Node &node, LowerContext &ctx) {
    const ir::Node *grad = node.input(0);
    const Shape &xs = node.shape();
    const std::vector<Axis> axes = resample_axes(node, xs);
    // One axis at a time, innermost first: the adjoint of a separable resampling.
    Func g = ctx.func(grad);
    Shape gs = grad->shape();
    for (size_t d = axes.size(); d-- > 0;) {
        g = adjoint_along(g, gs, axes[d], d, node, ctx);
        gs[2 + d] = axes[d].in;
    }
    auto vars = make_vars(xs.size());
    Func f(func_name(node));
    define(f, vars, call(g, as_index(vars)));
    steer_rules_at(ctx, f);
    schedule_elementwise(f, xs, node.dtype(), ctx);
    return f;
}

}  // namespace strata::codegen
