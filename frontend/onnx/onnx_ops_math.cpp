// Elementwise math, activations, MatMul/Gemm, Softmax and the reductions; plus host versions of
// the elementwise ops PyTorch's exported shape arithmetic uses (integers, folded at import).

#include "frontend/functional.h"
#include "frontend/onnx/onnx_converter.h"
#include "frontend/onnx/onnx_patterns.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <limits>

namespace strata::onnx {

namespace {

using TP = ::onnx::TensorProto;

// ---- host elementwise ----

enum class Result { same, boolean };

template <typename F> void host_binary(const NodeContext &ctx, Result result, F &&f) {
    const HostTensor &a = ctx.constant(0, "A"), &b = ctx.constant(1, "B");
    if (a.elem_type != b.elem_type)
        ctx.error("inputs have different element types ({} and {})", elem_type_name(a.elem_type), elem_type_name(b.elem_type));
    const Shape shape = broadcast_shape(ctx, a.shape, b.shape);
    const HostTensor x = host_broadcast(a, shape), y = host_broadcast(b, shape);
    HostTensor out;
    out.shape = shape;
    out.elem_type = result == Result::boolean ? static_cast<int32_t>(TP::BOOL) : a.elem_type;
    for (int64_t i = 0; i < x.numel(); ++i) {
        if (out.is_float()) out.floats.push_back(f(x.floats[i], y.floats[i]));
        else if (a.is_float()) out.ints.push_back(static_cast<int64_t>(f(x.floats[i], y.floats[i])));
        else out.ints.push_back(static_cast<int64_t>(f(x.ints[i], y.ints[i])));
    }
    if (a.elem_type == TP::FLOAT)
        for (double &v : out.floats) v = static_cast<float>(v);
    ctx.set_output(0, std::move(out));
}

void host_add(const NodeContext &ctx) { host_binary(ctx, Result::same, [](auto x, auto y) { return x + y; }); }
void host_sub(const NodeContext &ctx) { host_binary(ctx, Result::same, [](auto x, auto y) { return x - y; }); }
void host_mul(const NodeContext &ctx) { host_binary(ctx, Result::same, [](auto x, auto y) { return x * y; }); }
void host_div(const NodeContext &ctx) {
    host_binary(ctx, Result::same, [&](auto x, auto y) {
        if constexpr (std::is_integral_v<decltype(y)>) {
            if (y == 0) ctx.error("integer division by zero");
        }
        return x / y;
    });
}
void host_equal(const NodeContext &ctx) { host_binary(ctx, Result::boolean, [](auto x, auto y) { return x == y; }); }
void host_less(const NodeContext &ctx) { host_binary(ctx, Result::boolean, [](auto x, auto y) { return x < y; }); }
void host_greater(const NodeContext &ctx) { host_binary(ctx, Result::boolean, [](auto x, auto y) { return x > y; }); }
void host_and(const NodeContext &ctx) { host_binary(ctx, Result::boolean, [](auto x, auto y) { return x && y; }); }
void host_or(const NodeContext &ctx) { host_binary(ctx, Result::boolean, [](auto x, auto y) { return x || y; }); }

template <typename F> void host_unary(const NodeContext &ctx, F &&f) {
    HostTensor out = ctx.constant(0, "X");
    for (double &v : out.floats) v = f(v);
    for (int64_t &v : out.ints) v = static_cast<int64_t>(f(static_cast<double>(v)));
    if (out.elem_type == TP::FLOAT)
        for (double &v : out.floats) v = static_cast<float>(v);
    ctx.set_output(0, std::move(out));
}
void host_neg(const NodeContext &ctx) { host_unary(ctx, [](double v) { return -v; }); }
void host_floor(const NodeContext &ctx) { host_unary(ctx, [](double v) { return std::floor(v); }); }
void host_ceil(const NodeContext &ctx) { host_unary(ctx, [](double v) { return std::ceil(v); }); }
void host_not(const NodeContext &ctx) { host_unary(ctx, [](double v) { return v == 0 ? 1.0 : 0.0; }); }

void host_where(const NodeContext &ctx) {
    const HostTensor &c = ctx.constant(0, "condition"), &x = ctx.constant(1, "X"), &y = ctx.constant(2, "Y");
    const Shape shape = broadcast_shape(ctx, broadcast_shape(ctx, c.shape, x.shape), y.shape);
    const HostTensor cc = host_broadcast(c, shape), xx = host_broadcast(x, shape), yy = host_broadcast(y, shape);
    HostTensor out = xx;
    for (int64_t i = 0; i < out.numel(); ++i) {
        if (cc.value(i) != 0) continue;
        if (out.is_float()) out.floats[i] = yy.value(i);
        else out.ints[i] = yy.ints[i];
    }
    ctx.set_output(0, std::move(out));
}

// ---- graph: elementwise ----

SymTensor scalar(const SymTensor &like, double value) { return like.graph().constant(value, {}, like.dtype()); }

/// F of the inputs, unless the node completes a composition Strata's export writes for one of its
/// ops (onnx_patterns.h): then that op.
template <SymTensor (*F)(const SymTensor &, const SymTensor &)> void binary(const NodeContext &ctx) {
    ctx.check_attrs({});
    const SymTensor a = ctx.tensor(0), b = ctx.tensor(1);
    const SymTensor composed = exported_composition(ctx.node().op_type(), {a, b});
    ctx.set_output(0, composed.defined() ? composed : F(a, b));
}
template <SymTensor (*F)(const SymTensor &)> void unary(const NodeContext &ctx) {
    ctx.check_attrs({});
    ctx.set_output(0, F(ctx.tensor(0)));
}

// Legacy broadcast attributes (opset < 7) are refused by check_attrs above.
SymTensor add2(const SymTensor &a, const SymTensor &b) { return add(a, b); }
SymTensor sub2(const SymTensor &a, const SymTensor &b) { return sub(a, b); }
SymTensor pow2(const SymTensor &a, const SymTensor &b) {
    // ONNX's Pow takes the base's type; an exponent of another float type is cast to it.
    return pow(a, b.dtype() == a.dtype() ? b : cast(b, a.dtype()));
}
SymTensor reciprocal(const SymTensor &x) { return scalar(x, 1.0) / x; }
SymTensor logical_not1(const SymTensor &x) {
    const SymTensor composed = exported_composition("Not", {x});
    return composed.defined() ? composed : !x;
}
SymTensor and2(const SymTensor &a, const SymTensor &b) { return a && b; }
SymTensor or2(const SymTensor &a, const SymTensor &b) { return a || b; }
SymTensor softsign(const SymTensor &x) { return x / (abs(x) + 1.0); }
SymTensor erf1(const SymTensor &x) { return erf(x); }
SymTensor relu1(const SymTensor &x) { return relu(x); }
SymTensor sigmoid1(const SymTensor &x) { return sigmoid(x); }
SymTensor tanh1(const SymTensor &x) { return tanh(x); }
SymTensor exp1(const SymTensor &x) { return exp(x); }
SymTensor log1(const SymTensor &x) { return log(x); }
SymTensor sqrt1(const SymTensor &x) { return sqrt(x); }
SymTensor neg1(const SymTensor &x) { return -x; }
SymTensor abs1(const SymTensor &x) { return abs(x); }
SymTensor softplus1(const SymTensor &x) { return softplus(x, 1.0, 20.0); }

void graph_leaky_relu(const NodeContext &ctx) {
    ctx.check_attrs({"alpha"});
    ctx.set_output(0, leaky_relu(ctx.tensor(0), ctx.attr_float("alpha", 0.01)));
}

void graph_elu(const NodeContext &ctx) {
    ctx.check_attrs({"alpha"});
    ctx.set_output(0, elu(ctx.tensor(0), ctx.attr_float("alpha", 1.0)));
}

void graph_selu(const NodeContext &ctx) {
    ctx.check_attrs({"alpha", "gamma"});
    const double alpha = ctx.attr_float("alpha", 1.67326319217681884765625);
    const double gamma = ctx.attr_float("gamma", 1.05070102214813232421875);
    ctx.set_output(0, elu(ctx.tensor(0), alpha) * gamma);
}

void graph_prelu(const NodeContext &ctx) {
    ctx.check_attrs({});
    const SymTensor x = ctx.tensor(0);
    SymTensor slope = ctx.tensor(1);
    // PRelu before opset 7 (PyTorch's old exports) took a [C] slope per channel of [N, C, ...];
    // since then it broadcasts as numpy does ([C, 1, ...] for channels).
    if (slope.dim() == 1 && x.dim() > 2 && slope.size(0) == x.size(1) && slope.size(0) != x.size(-1)) {
        Shape shape(x.dim() - 1, 1);
        shape[0] = slope.size(0);
        slope = reshape(slope, shape);
    }
    const SymTensor zero = scalar(x, 0.0);
    ctx.set_output(0, maximum(x, zero) + slope * minimum(x, zero));
}

void graph_hard_sigmoid(const NodeContext &ctx) {
    ctx.check_attrs({"alpha", "beta"});
    const SymTensor x = ctx.tensor(0);
    const SymTensor y = x * ctx.attr_float("alpha", 0.2) + ctx.attr_float("beta", 0.5);
    ctx.set_output(0, minimum(maximum(y, scalar(x, 0.0)), scalar(x, 1.0)));
}

void graph_gelu(const NodeContext &ctx) {
    ctx.check_attrs({"approximate"});
    const std::string approximate = ctx.attr_string("approximate", "none");
    if (approximate != "none" && approximate != "tanh")
        ctx.unsupported("attribute 'approximate' = '{}' is not supported (none, tanh)", approximate);
    ctx.set_output(0, gelu(ctx.tensor(0), approximate));
}

void graph_clip(const NodeContext &ctx) {
    SymTensor y = ctx.tensor(0);
    if (ctx.opset() < 11) {
        ctx.check_attrs({"min", "max"});
        if (ctx.has_attr("min")) y = maximum(y, scalar(y, ctx.attr_float("min", 0)));
        if (ctx.has_attr("max")) y = minimum(y, scalar(y, ctx.attr_float("max", 0)));
    } else {
        ctx.check_attrs({});
        if (ctx.has_input(1)) y = maximum(y, ctx.tensor(1));
        if (ctx.has_input(2)) y = minimum(y, ctx.tensor(2));
    }
    ctx.set_output(0, y);
}

void graph_where(const NodeContext &ctx) {
    ctx.check_attrs({});
    const SymTensor c = ctx.tensor(0), x = ctx.tensor(1), y = ctx.tensor(2);
    const SymTensor composed = exported_composition("Where", {c, x, y});
    ctx.set_output(0, composed.defined() ? composed : where(c, x, y));
}

/// Sum, Max, Min, Mean over any number of inputs (broadcast).
template <int Kind> void graph_variadic(const NodeContext &ctx) {
    ctx.check_attrs({});
    SymTensor y = ctx.tensor(0);
    int n = 1;
    for (int i = 1; i < ctx.input_count(); ++i) {
        if (!ctx.has_input(i)) continue;
        const SymTensor x = ctx.tensor(i);
        y = Kind == 1 ? maximum(y, x) : Kind == 2 ? minimum(y, x) : y + x;
        ++n;
    }
    if (Kind == 3) y = y / static_cast<double>(n);
    ctx.set_output(0, y);
}

// ---- graph: linear algebra ----

void graph_matmul(const NodeContext &ctx) {
    ctx.check_attrs({});
    const SymTensor a = ctx.tensor(0), b = ctx.tensor(1);
    const SymTensor composed = exported_composition("MatMul", {a, b});
    ctx.set_output(0, composed.defined() ? composed : matmul(a, b));
}

void graph_gemm(const NodeContext &ctx) {
    ctx.check_attrs({"alpha", "beta", "transA", "transB", "broadcast"});
    if (ctx.opset() < 7 && ctx.attr_int("broadcast", 0) == 0 && ctx.has_input(2))
        ctx.unsupported("attribute 'broadcast' = 0 (Gemm before opset 7) is not supported");
    const double alpha = ctx.attr_float("alpha", 1.0), beta = ctx.attr_float("beta", 1.0);
    SymTensor a = ctx.tensor(0);
    const SymTensor b = ctx.tensor(1);
    if (a.dim() != 2 || b.dim() != 2) ctx.error("A and B must be matrices, got {} and {}", shape_str(a.shape()), shape_str(b.shape()));
    if (ctx.attr_int("transA", 0)) a = transpose(a, 0, 1);
    const bool trans_b = ctx.attr_int("transB", 0) != 0;
    const SymTensor c = ctx.has_input(2) ? ctx.tensor(2) : SymTensor{};
    const int64_t n = trans_b ? b.size(0) : b.size(1);
    // nn.Linear's export (transB = 1, a bias [N]) is Strata's linear op.
    if (trans_b && alpha == 1.0 && (!c.defined() || (beta == 1.0 && c.dim() == 1 && c.size(0) == n)))
        return ctx.set_output(0, linear(a, b, c));
    SymTensor y = matmul(a, trans_b ? transpose(b, 0, 1) : b);
    if (alpha != 1.0) y = y * alpha;
    if (c.defined() && beta != 0.0) y = y + (beta == 1.0 ? c : c * beta);
    ctx.set_output(0, y);
}

// ---- graph: softmax and reductions ----

template <bool Log> void graph_softmax(const NodeContext &ctx) {
    ctx.check_attrs({"axis"});
    const SymTensor x = ctx.tensor(0);
    const int64_t rank = x.dim();
    if (ctx.opset() >= 13) {
        const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", -1), rank);
        return ctx.set_output(0, Log ? log_softmax(x, axis) : softmax(x, axis));
    }
    // Before opset 13: the input is coerced to 2-D at `axis` and normalised over the second dim.
    const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 1), rank);
    int64_t rows = 1, cols = 1;
    for (int64_t d = 0; d < rank; ++d) (d < axis ? rows : cols) *= x.size(d);
    if (axis == rank - 1) return ctx.set_output(0, Log ? log_softmax(x, axis) : softmax(x, axis));
    const SymTensor flat = reshape(x, {rows, cols});
    ctx.set_output(0, reshape(Log ? log_softmax(flat, 1) : softmax(flat, 1), x.shape()));
}

void graph_argmax(const NodeContext &ctx) {
    ctx.check_attrs({"axis", "keepdims", "select_last_index"});
    if (ctx.attr_int("select_last_index", 0) != 0)
        ctx.unsupported("attribute 'select_last_index' = 1 is not supported (Strata returns the first maximum)");
    const SymTensor x = ctx.tensor(0);
    const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), x.dim());
    if (x.size(axis) == 0) ctx.unsupported("the arg max over the empty axis {}", axis);
    // Strata computes indices in i32 (ONNX's are INT64; an INT64 index of a tensor Strata holds fits).
    ctx.set_output(0, argmax(x, axis, ctx.attr_int("keepdims", 1) != 0));
}

void graph_softmax_cross_entropy_loss(const NodeContext &ctx) {
    ctx.check_attrs({"ignore_index", "reduction"});
    ctx.refuse_output(1, "log_prob");
    CrossEntropyOptions o;
    o.reduction = ctx.attr_string("reduction", "mean");
    if (o.reduction != "mean" && o.reduction != "sum" && o.reduction != "none")
        ctx.error("attribute 'reduction' = '{}' is not one of mean, sum, none", o.reduction);
    // Without ignore_index no class is ignored: a value no label (in [0, C)) can take.
    o.ignore_index = ctx.attr_int("ignore_index", std::numeric_limits<int32_t>::min());
    if (ctx.has_input(2)) o.weight = ctx.tensor(2);
    const SymTensor scores = ctx.tensor(0), labels = ctx.tensor(1);
    if (scores.dim() < 2) ctx.error("scores of shape {}: expected [N, C] or [N, C, d...]", shape_str(scores.shape()));
    ctx.set_output(0, cross_entropy(scores, labels, o));
}

enum class Reduce { sum, mean, max, min, sum_square, l1, l2, log_sum, log_sum_exp };

template <Reduce R> void graph_reduce(const NodeContext &ctx) {
    ctx.check_attrs({"axes", "keepdims", "noop_with_empty_axes"});
    const SymTensor x = ctx.tensor(0);
    const bool axes_as_input = (R == Reduce::sum && ctx.opset() >= 13) || ctx.opset() >= 18;
    std::vector<int64_t> axes;
    if (axes_as_input) {
        if (ctx.has_input(1)) axes = ctx.constant(1, "axes").int_values(ctx.where() + ": axes");
    } else {
        axes = ctx.attr_ints("axes");
    }
    const bool keepdim = ctx.attr_int("keepdims", 1) != 0;
    if (axes.empty() && ctx.attr_int("noop_with_empty_axes", 0)) return ctx.set_output(0, x);
    Ints dims;
    for (int64_t a : axes) dims.push_back(normalize_axis(ctx, a, x.dim()));
    if (dims.empty())
        for (int64_t d = 0; d < x.dim(); ++d) dims.push_back(d);
    for (int64_t d : dims)
        if (x.size(d) == 0) ctx.unsupported("reducing the empty axis {}", d);
    SymTensor y;
    switch (R) {
    case Reduce::sum: y = sum(x, dims, keepdim); break;
    case Reduce::mean: y = mean(x, dims, keepdim); break;
    case Reduce::max: y = max(x, dims, keepdim); break;
    case Reduce::min: y = -max(-x, dims, keepdim); break;
    case Reduce::sum_square: y = sum(x * x, dims, keepdim); break;
    case Reduce::l1: y = sum(abs(x), dims, keepdim); break;
    case Reduce::l2: y = sqrt(sum(x * x, dims, keepdim)); break;
    case Reduce::log_sum: y = log(sum(x, dims, keepdim)); break;
    case Reduce::log_sum_exp: {
        const SymTensor m = max(x, dims, true);
        y = log(sum(exp(x - m), dims, true)) + m;
        if (!keepdim) {
            Shape shape;
            for (int64_t d = 0; d < x.dim(); ++d)
                if (std::find(dims.begin(), dims.end(), d) == dims.end()) shape.push_back(x.size(d));
            y = reshape(y, shape);
        }
        break;
    }
    }
    ctx.set_output(0, y);
}

}  // namespace

void register_math_ops(OpTable &t) {
    t.host["Add"] = host_add;
    t.host["Sub"] = host_sub;
    t.host["Mul"] = host_mul;
    t.host["Div"] = host_div;
    t.host["Equal"] = host_equal;
    t.host["Less"] = host_less;
    t.host["Greater"] = host_greater;
    t.host["And"] = host_and;
    t.host["Or"] = host_or;
    t.host["Neg"] = host_neg;
    t.host["Floor"] = host_floor;
    t.host["Ceil"] = host_ceil;
    t.host["Not"] = host_not;
    t.host["Where"] = host_where;

    t.graph["Add"] = binary<add2>;
    t.graph["Sub"] = binary<sub2>;
    t.graph["Mul"] = binary<mul>;
    t.graph["Div"] = binary<div>;
    t.graph["Pow"] = binary<pow2>;
    t.graph["Equal"] = binary<eq>;
    t.graph["Less"] = binary<lt>;
    t.graph["LessOrEqual"] = binary<le>;
    t.graph["Greater"] = binary<gt>;
    t.graph["GreaterOrEqual"] = binary<ge>;
    t.graph["And"] = binary<and2>;
    t.graph["Or"] = binary<or2>;
    t.graph["Not"] = unary<logical_not1>;
    t.graph["Where"] = graph_where;
    t.graph["Sqrt"] = unary<sqrt1>;
    t.graph["Exp"] = unary<exp1>;
    t.graph["Log"] = unary<log1>;
    t.graph["Neg"] = unary<neg1>;
    t.graph["Abs"] = unary<abs1>;
    t.graph["Reciprocal"] = unary<reciprocal>;
    t.graph["Relu"] = unary<relu1>;
    t.graph["Sigmoid"] = unary<sigmoid1>;
    t.graph["Tanh"] = unary<tanh1>;
    t.graph["Erf"] = unary<erf1>;
    t.graph["Softplus"] = unary<softplus1>;
    t.graph["Softsign"] = unary<softsign>;
    t.graph["LeakyRelu"] = graph_leaky_relu;
    t.graph["Elu"] = graph_elu;
    t.graph["Selu"] = graph_selu;
    t.graph["PRelu"] = graph_prelu;
    t.graph["HardSigmoid"] = graph_hard_sigmoid;
    t.graph["Gelu"] = graph_gelu;
    t.graph["Clip"] = graph_clip;
    t.graph["Sum"] = graph_variadic<0>;
    t.graph["Max"] = graph_variadic<1>;
    t.graph["Min"] = graph_variadic<2>;
    t.graph["Mean"] = graph_variadic<3>;
    t.graph["MatMul"] = graph_matmul;
    t.graph["Gemm"] = graph_gemm;
    t.graph["Softmax"] = graph_softmax<false>;
    t.graph["LogSoftmax"] = graph_softmax<true>;
    t.graph["ArgMax"] = graph_argmax;
    t.graph["SoftmaxCrossEntropyLoss"] = graph_softmax_cross_entropy_loss;
    t.graph["ReduceSum"] = graph_reduce<Reduce::sum>;
    t.graph["ReduceMean"] = graph_reduce<Reduce::mean>;
    t.graph["ReduceMax"] = graph_reduce<Reduce::max>;
    t.graph["ReduceMin"] = graph_reduce<Reduce::min>;
    t.graph["ReduceSumSquare"] = graph_reduce<Reduce::sum_square>;
    t.graph["ReduceL1"] = graph_reduce<Reduce::l1>;
    t.graph["ReduceL2"] = graph_reduce<Reduce::l2>;
    t.graph["ReduceLogSum"] = graph_reduce<Reduce::log_sum>;
    t.graph["ReduceLogSumExp"] = graph_reduce<Reduce::log_sum_exp>;
}

}  // namespace strata::onnx
