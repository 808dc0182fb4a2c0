// Lowering of cross_entropy and its fused gradient. Per element i (all dims
// but the class dim 1) with target t_i, class count C and class weights w_c
// (1 without a weight input; W = sum_c w_c):
//   log p_c = x_c - logsumexp(x),  valid_i = (t_i != ignore_index)
//   loss_i  = valid_i * ((1 - eps) w_t * -log p_t + eps / C * sum_c w_c * -log p_c)
//   d loss_i / d x_c = valid_i * ((1 - eps) w_t (p_c - [c == t]) + eps / C (W p_c - w_c))
// mean divides by sum_i valid_i w_t (the number of valid elements unweighted), as PyTorch does.
// Targets are i32 or i64 (PyTorch's); both index the classes as i32.

#include "codegen/lower/cascade_sum.h"
#include "codegen/lower/class_targets.h"
#include "codegen/lower/context.h"
#include "codegen/lower/math.h"
#include "codegen/schedules/schedule.h"

namespace strata::codegen {

using namespace Halide;
using ir::Op;

namespace {

struct RowStats {
    Func max, sum_exp, sum_logits;  // over the class dim, per element (class dim removed)
};

/// The class weights of a loss node: its weight input, or 1 for every class (no stage at all).
struct ClassWeights {
    Func weight;  // undefined when the node has no weight input
    Expr total;   // W = sum_c w_c
    Expr at(const Expr &c, const Type &t) const { return weight.defined() ? Expr(weight(c)) : constant(t, 1); }
};

/// Per-element statistics over the class dim of logits [N, C, d...]; sum_logits weighs class c by w_c.
RowStats row_stats(const ir::Node &node, const Func &x, const Shape &xs, const ClassWeights &w, LowerContext &ctx) {
    const Type t = halide_type(node.dtype());
    Shape row_shape = xs;
    row_shape.erase(row_shape.begin() + 1);
    auto vars = make_vars(row_shape.size(), "e");
    RDom c(0, static_cast<int>(xs[1]), "c");
    Index x_idx = as_index(vars);
    x_idx.insert(x_idx.begin() + 1, c);
    const Index e = as_index(vars);
    const std::vector<Expr> args = to_halide_args(e);
    RowStats s{Func(func_name(node, "_max")), Func(), Func()};
    define(s.max, vars, lowest_value(t));
    s.max(args) = nan_max(s.max(args), call(x, x_idx));
    schedule_reduction(s.max, row_shape, node.dtype(), {c}, xs[1], ctx);
    // The sums over many classes add as a cascade (one plain loop for up to kCascadeBlock classes).
    auto at_class = [&](const Index &k) {
        Index i = e;
        i.insert(i.begin() + 1, k[0]);
        return i;
    };
    s.sum_exp = cascade_sum(func_name(node, "_sumexp"), vars, row_shape, {xs[1]}, node.dtype(),
                            [&](const Index &k) { return ieee_exp(call(x, at_class(k)) - call(s.max, e)); }, ctx);
    s.sum_logits = cascade_sum(func_name(node, "_sumx"), vars, row_shape, {xs[1]}, node.dtype(),
                               [&](const Index &k) {
                                   Expr v = call(x, at_class(k));
                                   return w.weight.defined() ? w.at(k[0], t) * v : v;
                               },
                               ctx);
    return s;
}

/// A scalar Func: the sum of value(index) over every index of `shape`, as a cascade (the
/// rounding of a mean loss grows with log n, not n).
template <typename F>
Func sum_over(const std::string &name, const Shape &shape, DType dtype, LowerContext &ctx, F value) {
    return cascade_sum(name, {}, {}, shape, dtype, value, ctx);
}

/// The class weights of `node`, whose weight input (if any) is input `weight_at`.
ClassWeights class_weights(const ir::Node &node, size_t weight_at, int64_t classes, LowerContext &ctx) {
    const Type t = halide_type(node.dtype());
    if (node.inputs.size() <= weight_at) return {Func(), constant(t, static_cast<double>(classes))};
    ClassWeights w{ctx.func(node.input(weight_at)), Expr()};
    const Func total = sum_over(func_name(node, "_weight_total"), {classes}, node.dtype(), ctx,
                                [&](const Index &k) { return Expr(w.weight(k[0])); });
    w.total = total();
    return w;
}

/// The divisor of "mean": the summed weights of the targets that are not ignore_index
/// (their number, unweighted).
Func valid_weight(const ir::Node &node, const Func &target, const Shape &ts, int64_t classes, int64_t ignore,
                  const ClassWeights &w, LowerContext &ctx) {
    const Type t = halide_type(node.dtype());
    return sum_over(func_name(node, "_count"), ts, node.dtype(), ctx, [&](const Index &i) {
        Expr label = saturating_i32(call(target, i));
        return select(label != static_cast<int>(ignore), w.at(clamp(label, 0, static_cast<int>(classes - 1)), t),
                      constant(t, 0));
    });
}

}  // namespace

Func lower_cross_entropy(const ir::Node &node, LowerContext &ctx) {
    const ir::Node *logits = node.input(0), *target = node.input(1);
    const Shape &xs = logits->shape(), &ts = target->shape();
    const Type t = halide_type(node.dtype());
    const int64_t ignore = node.attrs.get_int("ignore_index");
    const double eps = node.attrs.get_float("label_smoothing");
    const double classes = static_cast<double>(xs[1]);
    const std::string &reduction = node.attrs.get_str("reduction");
    const Func &x = ctx.func(logits), &tgt = ctx.func(target);
    const ClassWeights w = class_weights(node, 2, xs[1], ctx);
    const RowStats s = row_stats(node, x, xs, w, ctx);

    auto evars = make_vars(ts.size(), "e");
    const Index e = as_index(evars);
    const Func targets = checked_class_targets(func_name(node, "_targets"), tgt, ts, xs[1], ignore, ctx);
    Expr label = saturating_i32(call(targets, e));  // exact: checked, and ignore_index fits i32
    Expr valid = label != static_cast<int>(ignore);
    Expr safe_label = clamp(label, 0, static_cast<int>(xs[1] - 1));
    Index x_at_label = e;
    x_at_label.insert(x_at_label.begin() + 1, safe_label);
    Expr lse = call(s.max, e) + ieee_log(call(s.sum_exp, e));
    // w_t * -log p_t and -sum_c w_c log p_c = W lse - sum_c w_c x_c
    Expr nll = lse - call(x, x_at_label);
    if (w.weight.defined()) nll = w.at(safe_label, t) * nll;
    Expr smooth = w.total * lse - call(s.sum_logits, e);
    Expr per_element = select(valid, constant(t, 1.0 - eps) * nll + constant(t, eps / classes) * smooth, constant(t, 0));
    Func loss(func_name(node, "_elements"));
    define(loss, evars, per_element);
    if (reduction == "none") return loss;

    schedule_elementwise(loss, ts, node.dtype(), ctx);
    Func total = sum_over(func_name(node, "_total"), ts, node.dtype(), ctx, [&](const Index &i) { return call(loss, i); });
    Func f(func_name(node));
    if (reduction == "sum") f() = total();
    else f() = total() / valid_weight(node, tgt, ts, xs[1], ignore, w, ctx)();  // NaN when all are ignored, as PyTorch
    return f;
}

Func lower_cross_entropy_grad(const ir::Node &node, LowerContext &ctx) {
    const ir::Node *logits = node.input(0), *target = node.input(1), *grad = node.input(2);
    const Shape &xs = logits->shape(), &ts = target->shape();
    const Type t = halide_type(node.dtype());
    const int64_t ignore = node.attrs.get_int("ignore_index");
    const double eps = node.attrs.get_float("label_smoothing");
    const double classes = static_cast<double>(xs[1]);
    const std::string &reduction = node.attrs.get_str("reduction");
    const Func &x = ctx.func(logits), &tgt = ctx.func(target), &g = ctx.func(grad);
    const ClassWeights w = class_weights(node, 3, xs[1], ctx);
    const RowStats s = row_stats(node, x, xs, w, ctx);

    Expr scale;
    if (reduction == "none") scale = Expr();  // per element, below
    else if (reduction == "sum") scale = g();
    else scale = g() / valid_weight(node, tgt, ts, xs[1], ignore, w, ctx)();

    auto vars = make_vars(xs.size());
    const Index idx = as_index(vars);
    Index e = idx;
    e.erase(e.begin() + 1);
    const Func targets = checked_class_targets(func_name(node, "_targets"), tgt, ts, xs[1], ignore, ctx);
    Expr label = saturating_i32(call(targets, e));  // exact: checked, and ignore_index fits i32
    Expr p = ieee_exp(call(x, idx) - call(s.max, e)) / call(s.sum_exp, e);
    Expr hit = select(label == vars[1], constant(t, 1.0 - eps), constant(t, 0));
    Expr d;
    if (!w.weight.defined()) {
        d = p - hit - constant(t, eps / classes);
    } else {
        Expr w_t = w.at(clamp(label, 0, static_cast<int>(xs[1] - 1)), t);
        d = w_t * (constant(t, 1.0 - eps) * p - hit) + constant(t, eps / classes) * (w.total * p - w.at(vars[1], t));
    }
    Expr element_scale = reduction == "none" ? call(g, e) : scale;
    Func f(func_name(node));
    define(f, vars, select(label != static_cast<int>(ignore), d * element_scale, constant(t, 0)));
    return f;
}

}  // namespace strata::codegen
