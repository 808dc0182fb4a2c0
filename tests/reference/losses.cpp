// Loss references, from PyTorch's definitions: cross_entropy = log_softmax +
// nll_loss with ignore_index and label smoothing; mse_loss; and
// binary_cross_entropy_with_logits through a log-sigmoid that cannot overflow.

#include "tests/reference/indexing.h"
#include "tests/reference/reference.h"

#include <cmath>

namespace strata::reference {

using namespace detail;

namespace {

Tensor reduce(const std::vector<double> &per_element, const Shape &shape, const std::string &reduction,
              double mean_divisor) {
    if (reduction == "none") return make_f64(per_element, shape);
    double total = 0;
    for (double e : per_element) total += e;
    if (reduction == "sum") return make_f64({total}, {});
    if (reduction == "mean") return make_f64({total / mean_divisor}, {});
    fail("reference: unknown reduction {}", reduction);
}

/// log(sigmoid(x)), accurate for large |x| of either sign.
double log_sigmoid(double x) { return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x)); }

/// Per-element weighted nll and smoothing terms of log-probabilities [N, C, d...]: w_t * -log p_t
/// and -sum_c w_c log p_c (w = 1 without a weight), and the sum of w_t over valid elements.
struct PerElement {
    std::vector<double> nll, smooth;
    Shape shape;  // [N, d...]
    double valid = 0;
};

PerElement per_element(const Tensor &log_probs, const Tensor &target, int64_t ignore_index, const Tensor &weight) {
    const int64_t n = log_probs.shape()[0], c = log_probs.shape()[1];
    const int64_t inner = log_probs.numel() / (n * c);
    const std::vector<double> lp = values(log_probs), t = values(target);
    const std::vector<double> w = weight.defined() ? values(weight) : std::vector<double>(static_cast<size_t>(c), 1.0);
    if (static_cast<int64_t>(w.size()) != c) fail("reference: weight of {} values for {} classes", w.size(), c);
    PerElement r;
    r.shape = target.shape();
    for (int64_t b = 0; b < n; ++b)
        for (int64_t s = 0; s < inner; ++s) {
            const int64_t cls = static_cast<int64_t>(t[static_cast<size_t>(b * inner + s)]);
            auto at = [&](int64_t k) { return lp[static_cast<size_t>((b * c + k) * inner + s)]; };
            if (cls == ignore_index) {  // contributes 0 and is not counted by the mean
                r.nll.push_back(0.0);
                r.smooth.push_back(0.0);
                continue;
            }
            if (cls < 0 || cls >= c) fail("reference: target {} out of range for {} classes", cls, c);
            double all = 0;
            for (int64_t k = 0; k < c; ++k) all += w[static_cast<size_t>(k)] * at(k);
            r.nll.push_back(-w[static_cast<size_t>(cls)] * at(cls));
            r.smooth.push_back(-all);
            r.valid += w[static_cast<size_t>(cls)];
        }
    return r;
}

/// `t` broadcast to `shape`, as doubles (all ones when undefined).
std::vector<double> broadcast_values(const Tensor &t, const Shape &shape) {
    std::vector<double> out(static_cast<size_t>(shape_numel(shape)), 1.0);
    if (!t.defined()) return out;
    const std::vector<double> v = values(t);
    for (size_t i = 0; i < out.size(); ++i)
        out[i] = v[static_cast<size_t>(broadcast_source(unravel(static_cast<int64_t>(i), shape), shape, t.shape()))];
    return out;
}

}  // namespace

Tensor nll_loss(const Tensor &log_probs, const Tensor &target, const std::string &reduction,
                int64_t ignore_index, const Tensor &weight) {
    const PerElement e = per_element(log_probs, target, ignore_index, weight);
    return reduce(e.nll, e.shape, reduction, e.valid);
}

Tensor cross_entropy(const Tensor &logits, const Tensor &target, const std::string &reduction,
                     int64_t ignore_index, double label_smoothing, const Tensor &weight) {
    const PerElement e = per_element(log_softmax(logits, 1), target, ignore_index, weight);
    const double classes = static_cast<double>(logits.shape()[1]);
    // PyTorch: (1 - eps) * nll + eps / C * (-sum_c w_c log p_c), each reduced alike.
    std::vector<double> mixed(e.nll.size());
    for (size_t i = 0; i < mixed.size(); ++i)
        mixed[i] = (1 - label_smoothing) * e.nll[i] + label_smoothing / classes * e.smooth[i];
    return reduce(mixed, e.shape, reduction, e.valid);
}

Tensor mse_loss(const Tensor &input, const Tensor &target, const std::string &reduction) {
    const Tensor sq = map2(input, target, [](double a, double b) { return (a - b) * (a - b); });
    return reduce(values(sq), sq.shape(), reduction, static_cast<double>(sq.numel()));
}

Tensor binary_cross_entropy_with_logits(const Tensor &input, const Tensor &target, const std::string &reduction,
                                        const Tensor &weight, const Tensor &pos_weight) {
    // -w (pos_weight t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))), with 1 - sigmoid(x) = sigmoid(-x).
    const std::vector<double> x = values(input), t = values(target);
    const std::vector<double> w = broadcast_values(weight, input.shape()),
                              pw = broadcast_values(pos_weight, input.shape());
    std::vector<double> loss(x.size());
    for (size_t i = 0; i < x.size(); ++i)
        loss[i] = -w[i] * (pw[i] * t[i] * log_sigmoid(x[i]) + (1 - t[i]) * log_sigmoid(-x[i]));
    return reduce(loss, input.shape(), reduction, static_cast<double>(loss.size()));
}

}  // namespace strata::reference
