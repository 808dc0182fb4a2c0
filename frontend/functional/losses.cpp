// Losses, with PyTorch's reductions, ignore_index and label smoothing.

#include "frontend/functional/common.h"

namespace strata {


namespace {

void check_reduction(const char *op, const std::string &reduction) {
    if (reduction != "mean" && reduction != "sum" && reduction != "none")
        fail("{}: reduction must be \"mean\", \"sum\" or \"none\", got \"{}\"", op, reduction);
}

/// Checks target [N, d...] against scores [N, C, d...].
void check_target(const char *op, const SymTensor &scores, const SymTensor &target) {
    if (!scores.defined() || !target.defined()) fail("{}: an input tensor is undefined", op);
    if (!is_integer(target.dtype()))
        fail("{}: target must hold class indices as i32 or i64, got {}", op, dtype_name(target.dtype()));
    if (scores.dim() < 2) fail("{}: input must be [N, C, ...], got shape {}", op, shape_str(scores.shape()));
    Shape expected = scores.shape();
    expected.erase(expected.begin() + 1);
    if (target.shape() != expected)
        fail("{}: input shape {} needs a target of shape {}, got {}", op, shape_str(scores.shape()),
             shape_str(expected), shape_str(target.shape()));
}

/// Checks a class weight: undefined, or [C] in the scores' dtype (PyTorch's message).
void check_class_weight(const char *op, const SymTensor &scores, const SymTensor &weight) {
    if (!weight.defined()) return;
    const int64_t classes = scores.size(1);
    if (weight.shape() != Shape{classes})
        fail("{}: weight tensor should be defined either for all {} classes or no classes but got weight tensor "
             "of shape: {}",
             op, classes, shape_str(weight.shape()));
    if (weight.dtype() != scores.dtype())
        fail("{}: weight must have the input's dtype {}, got {}", op, dtype_name(scores.dtype()),
             dtype_name(weight.dtype()));
}

/// Per-element weighted losses w[t] * -log p_t and their weights w[t] (0 where
/// ignored; 1 per class without a weight), both [N, d...] in the scores' dtype.
struct PerElement {
    SymTensor nll, weight;
};

PerElement per_element(const SymTensor &log_probs, const SymTensor &target, int64_t ignore_index,
                       const SymTensor &class_weight) {
    Graph &g = log_probs.graph();
    const DType dt = log_probs.dtype();
    Shape class_shape(log_probs.shape().size(), 1);
    class_shape[1] = log_probs.size(1);
    // One-hot of the target: class indices compared with the target broadcast along the class dim.
    // In the target's dtype: i32, or PyTorch's i64.
    SymTensor classes = g.iota(1, class_shape, target.dtype());
    SymTensor hit = cast(eq(classes, unsqueeze(target, 1)), dt);
    SymTensor valid = cast(ne(target, g.constant(static_cast<double>(ignore_index), {}, target.dtype())), dt);
    PerElement r;
    r.weight = class_weight.defined() ? sum(hit * reshape(class_weight, class_shape), {1}) * valid : valid;
    r.nll = -sum(log_probs * hit, {1}) * r.weight;
    return r;
}

/// PyTorch's weighted mean divides by the sum of the weights of the targets not ignored.
SymTensor reduce(const SymTensor &per_elem, const SymTensor &weight, const std::string &reduction) {
    if (reduction == "none") return per_elem;
    if (reduction == "sum") return sum(per_elem);
    return sum(per_elem) / sum(weight);
}

}  // namespace

SymTensor nll_loss(const SymTensor &log_probs, const SymTensor &target, const NllLossOptions &o) {
    check_reduction("nll_loss", o.reduction);
    check_target("nll_loss", log_probs, target);
    check_class_weight("nll_loss", log_probs, o.weight);
    // A target outside [0, C) would match no class and add 0: the run fails instead, as PyTorch's does.
    const SymTensor checked = log_probs.graph().make(ir::Op::check_class_index, {target},
                                                     {{"classes", log_probs.size(1)}, {"ignore_index", o.ignore_index}});
    PerElement e = per_element(log_probs, checked, o.ignore_index, o.weight);
    return reduce(e.nll, e.weight, o.reduction);
}

SymTensor nll_loss(const SymTensor &log_probs, const SymTensor &target, const std::string &reduction,
                   int64_t ignore_index) {
    return nll_loss(log_probs, target, NllLossOptions{reduction, ignore_index, {}});
}

SymTensor cross_entropy(const SymTensor &logits, const SymTensor &target, const CrossEntropyOptions &o) {
    check_reduction("cross_entropy", o.reduction);
    check_target("cross_entropy", logits, target);
    if (!(o.label_smoothing >= 0.0 && o.label_smoothing <= 1.0))
        fail("cross_entropy: label_smoothing must be in [0, 1], got {}", o.label_smoothing);
    if (!is_float(logits.dtype())) fail("cross_entropy: input must be f32 or f64, got {}", dtype_name(logits.dtype()));
    check_class_weight("cross_entropy", logits, o.weight);
    std::vector<SymTensor> inputs = {logits, target};
    if (o.weight.defined()) inputs.push_back(o.weight);
    // One IR op, so that its gradient is one fused op (softmax minus the smoothed one-hot).
    return logits.graph().make(ir::Op::cross_entropy, inputs,
                               {{"ignore_index", o.ignore_index}, {"label_smoothing", o.label_smoothing},
                                {"reduction", o.reduction}});
}

SymTensor mse_loss(const SymTensor &input, const SymTensor &target, const std::string &reduction) {
    check_reduction("mse_loss", reduction);
    SymTensor d = input - target;
    SymTensor sq = d * d;
    if (reduction == "none") return sq;
    return reduction == "sum" ? sum(sq) : mean(sq);
}

SymTensor binary_cross_entropy_with_logits(const SymTensor &input, const SymTensor &target,
                                           const BceWithLogitsOptions &o) {
    const char *op = "binary_cross_entropy_with_logits";
    check_reduction(op, o.reduction);
    if (!input.defined() || !target.defined()) fail("{}: an input is undefined", op);
    if (input.shape() != target.shape())
        fail("{}: target shape {} must equal input shape {}", op, shape_str(target.shape()), shape_str(input.shape()));
    // weight and pos_weight broadcast to the input (pos_weight [C] against [N, C] is one weight per class);
    // a shape that would grow the loss beyond the input's is rejected rather than broadcast.
    for (const auto &[name, w] : {std::pair{"weight", o.weight}, std::pair{"pos_weight", o.pos_weight}}) {
        if (!w.defined()) continue;
        if (w.dtype() != input.dtype())
            fail("{}: {} must have the input's dtype {}, got {}", op, name, dtype_name(input.dtype()),
                 dtype_name(w.dtype()));
        bool fits = w.dim() <= input.dim();
        for (int64_t d = 1; fits && d <= w.dim(); ++d)
            fits = w.size(-d) == 1 || w.size(-d) == input.size(-d);
        if (!fits)
            fail("{}: {} of shape {} must broadcast to the input shape {}", op, name, shape_str(w.shape()),
                 shape_str(input.shape()));
    }
    // The stable form: (1 - t) x + l (log(1 + exp(-|x|)) + max(-x, 0)) with l = 1 + (pos_weight - 1) t,
    // which is max(x, 0) - x t + log(1 + exp(-|x|)) without pos_weight.
    SymTensor loss;
    if (o.pos_weight.defined()) {
        SymTensor neg_log_sigmoid = softplus(-abs(input)) + relu(-input);
        loss = (1.0 - target) * input + ((o.pos_weight - 1.0) * target + 1.0) * neg_log_sigmoid;
    } else {
        loss = relu(input) - input * target + softplus(-abs(input));
    }
    if (o.weight.defined()) loss = loss * o.weight;
    if (o.reduction == "none") return loss;
    return o.reduction == "sum" ? sum(loss) : mean(loss);
}

SymTensor binary_cross_entropy_with_logits(const SymTensor &input, const SymTensor &target,
                                           const std::string &reduction) {
    return binary_cross_entropy_with_logits(input, target, BceWithLogitsOptions{reduction, {}, {}});
}

}  // namespace strata
