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
    if (target.dtype() != DType::i32)
        fail("{}: target must hold class indices as i32, got {}", op, dtype_name(target.dtype()));
    if (scores.dim() < 2) fail("{}: input must be [N, C, ...], got shape {}", op, shape_str(scores.shape()));
    Shape expected = scores.shape();
    expected.erase(expected.begin() + 1);
    if (target.shape() != expected)
        fail("{}: input shape {} needs a target of shape {}, got {}", op, shape_str(scores.shape()),
             shape_str(expected), shape_str(target.shape()));
}

/// Per-element losses and the "not ignored" mask, both [N, d...] in the scores' dtype.
struct PerElement {
    SymTensor nll, smooth, valid;
};

PerElement per_element(const SymTensor &log_probs, const SymTensor &target, int64_t ignore_index) {
    Graph &g = log_probs.graph();
    const DType dt = log_probs.dtype();
    Shape class_shape(log_probs.shape().size(), 1);
    class_shape[1] = log_probs.size(1);
    // One-hot of the target: class indices compared with the target broadcast along the class dim.
    SymTensor classes = g.iota(1, class_shape, DType::i32);
    SymTensor hit = cast(eq(classes, unsqueeze(target, 1)), dt);
    SymTensor valid = cast(ne(target, g.constant(static_cast<double>(ignore_index), {}, DType::i32)), dt);
    PerElement r;
    r.nll = -sum(log_probs * hit, {1}) * valid;
    r.smooth = -sum(log_probs, {1}) * valid;
    r.valid = valid;
    return r;
}

SymTensor reduce(const SymTensor &per_elem, const SymTensor &valid, const std::string &reduction) {
    if (reduction == "none") return per_elem;
    if (reduction == "sum") return sum(per_elem);
    return sum(per_elem) / sum(valid);  // mean over the elements not ignored
}

}  // namespace

SymTensor nll_loss(const SymTensor &log_probs, const SymTensor &target, const std::string &reduction,
                   int64_t ignore_index) {
    check_reduction("nll_loss", reduction);
    check_target("nll_loss", log_probs, target);
    // A target outside [0, C) would match no class and add 0: the run fails instead, as PyTorch's does.
    const SymTensor checked = log_probs.graph().make(ir::Op::check_class_index, {target},
                                                     {{"classes", log_probs.size(1)}, {"ignore_index", ignore_index}});
    PerElement e = per_element(log_probs, checked, ignore_index);
    return reduce(e.nll, e.valid, reduction);
}

SymTensor cross_entropy(const SymTensor &logits, const SymTensor &target, const CrossEntropyOptions &o) {
    check_reduction("cross_entropy", o.reduction);
    check_target("cross_entropy", logits, target);
    if (!(o.label_smoothing >= 0.0 && o.label_smoothing <= 1.0))
        fail("cross_entropy: label_smoothing must be in [0, 1], got {}", o.label_smoothing);
    if (!is_float(logits.dtype())) fail("cross_entropy: input must be f32 or f64, got {}", dtype_name(logits.dtype()));
    // One IR op, so that its gradient is one fused op (softmax minus the smoothed one-hot).
    return logits.graph().make(ir::Op::cross_entropy, {logits, target},
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
                                           const std::string &reduction) {
    check_reduction("binary_cross_entropy_with_logits", reduction);
    if (!input.defined() || !target.defined()) fail("binary_cross_entropy_with_logits: an input is undefined");
    if (input.shape() != target.shape())
        fail("binary_cross_entropy_with_logits: target shape {} must equal input shape {}",
             shape_str(target.shape()), shape_str(input.shape()));
    // The stable form: max(x, 0) - x t + log(1 + exp(-|x|)).
    SymTensor loss = relu(input) - input * target + softplus(-abs(input));
    if (reduction == "none") return loss;
    return reduction == "sum" ? sum(loss) : mean(loss);
}

}  // namespace strata
