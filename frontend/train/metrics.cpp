#include "frontend/train/metrics.h"

#include "runtime/atomic_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace strata::metrics {

// ---- Metric ----

Metric &Metric::on(std::string output, std::string target) {
    if (output.empty() || target.empty()) fail("{}::on: the output and target names must not be empty", kind());
    output_ = std::move(output);
    target_ = std::move(target);
    return *this;
}

void Metric::reset() { std::fill(sums_.begin(), sums_.end(), 0.0); }

void Metric::update(const Tensor &output, const Tensor &target) {
    if (!output.defined() || !target.defined() || output.dim() == 0 || target.dim() == 0)
        fail("{} (output '{}', target '{}'): both need examples along dim 0", kind(), output_, target_);
    if (output.size(0) != target.size(0))
        fail("{} (output '{}', target '{}'): the output has {} examples {} but the target {} {}", kind(), output_,
             target_, output.size(0), shape_str(output.shape()), target.size(0), shape_str(target.shape()));
    try {
        accumulate(output, target);
    } catch (const Error &e) {
        fail("{} (output '{}' {}, target '{}' {}): {}", kind(), output_, shape_str(output.shape()), target_,
             shape_str(target.shape()), e.what());
    }
}

Values Metric::compute() const {
    Values out = values();
    if (output_ != "output")
        for (auto &[key, value] : out) key = output_ + "." + key;
    return out;
}

void Metric::set_state(const std::vector<double> &sums) {
    if (sums.size() != sums_.size())
        fail("{}: a saved state of {} sums does not fit this metric's {}", kind(), sums.size(), sums_.size());
    sums_ = sums;
}

namespace {

double ratio(double num, double den) { return den > 0 ? num / den : 0.0; }
/// NaN when nothing was counted: "no examples", not a score of 0.
double mean_or_nan(double num, double den) { return den > 0 ? num / den : NAN; }

/// The values of `t` as contiguous doubles.
std::vector<double> as_doubles(const Tensor &t) {
    const Tensor d = t.to(DType::f64).contiguous();
    return std::vector<double>(d.data<double>(), d.data<double>() + d.numel());
}

double probability(double score, BinaryInput input) {
    return input == BinaryInput::logits ? 1.0 / (1.0 + std::exp(-score)) : score;
}

void check_same_count(const Tensor &output, const Tensor &target) {
    if (output.numel() != target.numel())
        fail("expected the output and the target to have the same number of elements, got {} and {}",
             output.numel(), target.numel());
}

/// A 0/1 target value; anything else is an error naming its position.
int64_t binary_target(double t, int64_t at) {
    if (t != 0.0 && t != 1.0) fail("target {} at flat position {} is not 0 or 1", t, at);
    return static_cast<int64_t>(t);
}

/// Calls fn(target class, predicted class) for every example (and position) not ignored.
template <typename Fn>
void for_each_decision(const ClassDecision &d, const Tensor &output, const Tensor &target, Fn fn) {
    const std::vector<double> out = as_doubles(output), tgt = as_doubles(target);
    if (d.binary) {
        check_same_count(output, target);
        for (size_t i = 0; i < tgt.size(); ++i) {
            if (tgt[i] == static_cast<double>(d.ignore_index)) continue;
            fn(binary_target(tgt[i], static_cast<int64_t>(i)), probability(out[i], d.input) > d.threshold ? 1 : 0);
        }
        return;
    }
    // [N, C, rest...] against [N, rest...].
    Shape expected = output.shape();
    if (output.dim() >= 2) expected.erase(expected.begin() + 1);
    if (output.dim() < 2 || output.size(1) != d.classes || target.shape() != expected)
        fail("expected an output [N, {}, ...] of class scores and a target [N, ...] of class indices with the "
             "same trailing extents",
             d.classes);
    const int64_t n = output.size(0), classes = d.classes, rest = n ? target.numel() / n : 0;
    for (int64_t i = 0; i < n; ++i)
        for (int64_t r = 0; r < rest; ++r) {
            const double t = tgt[static_cast<size_t>(i * rest + r)];
            if (t == static_cast<double>(d.ignore_index)) continue;
            if (t != std::floor(t) || t < 0 || t >= static_cast<double>(classes))
                fail("target {} at flat position {} is not a class in [0, {})", t, i * rest + r, classes);
            // argmax as torch.argmax: the first maximum, NaN counting as the largest.
            int64_t best = 0;
            double best_value = out[static_cast<size_t>(i * classes * rest + r)];
            for (int64_t c = 1; c < classes; ++c) {
                const double v = out[static_cast<size_t>((i * classes + c) * rest + r)];
                if (!std::isnan(best_value) && (v > best_value || std::isnan(v))) {
                    best = c;
                    best_value = v;
                }
            }
            fn(static_cast<int64_t>(t), best);
        }
}

}  // namespace

// ---- accuracies ----

void Accuracy::accumulate(const Tensor &output, const Tensor &target) {
    if (output.dim() < 2) fail("expected an output [N, C, ...] of class scores");
    ClassDecision d;
    d.classes = output.size(1);
    d.ignore_index = ignore_index_;
    for_each_decision(d, output, target, [&](int64_t truth, int64_t pred) {
        sums_[0] += truth == pred;
        sums_[1] += 1;
    });
}

Values Accuracy::values() const { return {{"accuracy", mean_or_nan(sums_[0], sums_[1])}}; }

BinaryAccuracy::BinaryAccuracy(double threshold, BinaryInput input) : Metric(2), threshold_(threshold), input_(input) {
    if (!(threshold >= 0 && threshold <= 1)) fail("BinaryAccuracy: threshold {} is not a probability in [0, 1]", threshold);
}

void BinaryAccuracy::accumulate(const Tensor &output, const Tensor &target) {
    ClassDecision d;
    d.binary = true;
    d.threshold = threshold_;
    d.input = input_;
    d.ignore_index = -1;  // a 0/1 target never equals it
    for_each_decision(d, output, target, [&](int64_t truth, int64_t pred) {
        sums_[0] += truth == pred;
        sums_[1] += 1;
    });
}

Values BinaryAccuracy::values() const { return {{"binary_accuracy", mean_or_nan(sums_[0], sums_[1])}}; }

MultilabelAccuracy::MultilabelAccuracy(int64_t labels, double threshold, BinaryInput input)
    : Metric(static_cast<size_t>(std::max<int64_t>(labels, 0)) + 2), labels_(labels), threshold_(threshold),
      input_(input) {
    if (labels <= 0) fail("MultilabelAccuracy: the number of labels must be positive, got {}", labels);
    if (!(threshold >= 0 && threshold <= 1))
        fail("MultilabelAccuracy: threshold {} is not a probability in [0, 1]", threshold);
}

void MultilabelAccuracy::accumulate(const Tensor &output, const Tensor &target) {
    // sums_: right predictions per label, then examples, then examples with every label right.
    if (output.dim() != 2 || output.size(1) != labels_ || target.shape() != output.shape())
        fail("expected an output and a 0/1 target both [N, {}]", labels_);
    const std::vector<double> out = as_doubles(output), tgt = as_doubles(target);
    const int64_t n = output.size(0);
    for (int64_t i = 0; i < n; ++i) {
        bool all = true;
        for (int64_t l = 0; l < labels_; ++l) {
            const size_t at = static_cast<size_t>(i * labels_ + l);
            const bool right = binary_target(tgt[at], static_cast<int64_t>(at)) ==
                               (probability(out[at], input_) > threshold_ ? 1 : 0);
            sums_[static_cast<size_t>(l)] += right;
            all = all && right;
        }
        sums_[static_cast<size_t>(labels_)] += 1;
        sums_[static_cast<size_t>(labels_) + 1] += all;
    }
}

Values MultilabelAccuracy::values() const {
    const double n = sums_[static_cast<size_t>(labels_)];
    double mean = 0;
    for (int64_t l = 0; l < labels_; ++l) mean += mean_or_nan(sums_[static_cast<size_t>(l)], n);
    return {{"multilabel_accuracy", mean / static_cast<double>(labels_)},
            {"multilabel_accuracy/exact_match", mean_or_nan(sums_[static_cast<size_t>(labels_) + 1], n)}};
}

// ---- precision, recall, F1 ----

namespace {
ClassDecision multiclass(int64_t classes, int64_t ignore_index, const char *what) {
    if (classes < 2) fail("{}: needs at least 2 classes, got {}", what, classes);
    ClassDecision d;
    d.classes = classes;
    d.ignore_index = ignore_index;
    return d;
}
ClassDecision binary_decision(double threshold, BinaryInput input, const char *what) {
    if (!(threshold >= 0 && threshold <= 1)) fail("{}: threshold {} is not a probability in [0, 1]", what, threshold);
    ClassDecision d;
    d.binary = true;
    d.threshold = threshold;
    d.input = input;
    d.ignore_index = -1;
    return d;
}
}  // namespace

PrecisionRecallF1::PrecisionRecallF1(ClassDecision decision)
    : Metric(static_cast<size_t>(3 * decision.classes)), decision_(decision) {}

PrecisionRecallF1::PrecisionRecallF1(int64_t classes, int64_t ignore_index)
    : PrecisionRecallF1(multiclass(classes, ignore_index, "PrecisionRecallF1")) {}

PrecisionRecallF1 PrecisionRecallF1::binary(double threshold, BinaryInput input) {
    return PrecisionRecallF1(binary_decision(threshold, input, "PrecisionRecallF1::binary"));
}

void PrecisionRecallF1::accumulate(const Tensor &output, const Tensor &target) {
    // sums_: true positives, false positives, false negatives, each per class.
    const size_t c = static_cast<size_t>(decision_.classes);
    for_each_decision(decision_, output, target, [&](int64_t truth, int64_t pred) {
        if (truth == pred) {
            sums_[static_cast<size_t>(truth)] += 1;
        } else {
            sums_[c + static_cast<size_t>(pred)] += 1;
            sums_[2 * c + static_cast<size_t>(truth)] += 1;
        }
    });
}

Values PrecisionRecallF1::values() const {
    const size_t c = static_cast<size_t>(decision_.classes);
    Values precision, recall, f1;
    double p_sum = 0, r_sum = 0, f_sum = 0, present = 0;
    for (size_t k = 0; k < c; ++k) {
        const double tp = sums_[k], fp = sums_[c + k], fn = sums_[2 * c + k];
        const double p = ratio(tp, tp + fp), r = ratio(tp, tp + fn), f = ratio(2 * tp, 2 * tp + fp + fn);
        precision.push_back({fmt::format("precision/{}", k), p});
        recall.push_back({fmt::format("recall/{}", k), r});
        f1.push_back({fmt::format("f1/{}", k), f});
        if (tp + fp + fn > 0) {
            p_sum += p;
            r_sum += r;
            f_sum += f;
            present += 1;
        }
    }
    Values out = precision;
    out.insert(out.end(), recall.begin(), recall.end());
    out.insert(out.end(), f1.begin(), f1.end());
    out.push_back({"precision/macro", mean_or_nan(p_sum, present)});
    out.push_back({"recall/macro", mean_or_nan(r_sum, present)});
    out.push_back({"f1/macro", mean_or_nan(f_sum, present)});
    return out;
}

// ---- confusion matrix ----

ConfusionMatrix::ConfusionMatrix(ClassDecision decision)
    : Metric(static_cast<size_t>(decision.classes * decision.classes)), decision_(decision) {}

ConfusionMatrix::ConfusionMatrix(int64_t classes, int64_t ignore_index)
    : ConfusionMatrix(multiclass(classes, ignore_index, "ConfusionMatrix")) {}

ConfusionMatrix ConfusionMatrix::binary(double threshold, BinaryInput input) {
    return ConfusionMatrix(binary_decision(threshold, input, "ConfusionMatrix::binary"));
}

void ConfusionMatrix::accumulate(const Tensor &output, const Tensor &target) {
    for_each_decision(decision_, output, target,
                      [&](int64_t truth, int64_t pred) { sums_[static_cast<size_t>(truth * decision_.classes + pred)] += 1; });
}

Values ConfusionMatrix::values() const {
    Values out;
    for (int64_t t = 0; t < decision_.classes; ++t)
        for (int64_t p = 0; p < decision_.classes; ++p)
            out.push_back({fmt::format("confusion/{}/{}", t, p), sums_[static_cast<size_t>(t * decision_.classes + p)]});
    return out;
}

Tensor ConfusionMatrix::matrix() const {
    return Tensor::from_vector<double>(sums_, {decision_.classes, decision_.classes});
}

namespace {
std::vector<std::string> class_labels(const std::vector<std::string> &names, int64_t classes) {
    if (names.empty()) {
        std::vector<std::string> out;
        for (int64_t c = 0; c < classes; ++c) out.push_back(std::to_string(c));
        return out;
    }
    if (static_cast<int64_t>(names.size()) != classes)
        fail("ConfusionMatrix: {} class names given for {} classes", names.size(), classes);
    return names;
}

std::string xml_escape(const std::string &text) {
    std::string out;
    for (char ch : text) {
        if (ch == '&') out += "&amp;";
        else if (ch == '<') out += "&lt;";
        else if (ch == '>') out += "&gt;";
        else if (ch == '"') out += "&quot;";
        else out += ch;
    }
    return out;
}
}  // namespace

std::string ConfusionMatrix::to_string(const std::vector<std::string> &class_names) const {
    const int64_t c = decision_.classes;
    const std::vector<std::string> names = class_labels(class_names, c);
    size_t width = 6;  // "target"
    for (const auto &n : names) width = std::max(width, n.size());
    for (double v : sums_) width = std::max(width, fmt::format("{:.0f}", v).size());
    std::string out = fmt::format("{:>{}}  predicted\n{:>{}}", "", width, "target", width);
    for (const auto &n : names) out += fmt::format("  {:>{}}", n, width);
    out += '\n';
    for (int64_t t = 0; t < c; ++t) {
        out += fmt::format("{:>{}}", names[static_cast<size_t>(t)], width);
        for (int64_t p = 0; p < c; ++p) out += fmt::format("  {:>{}.0f}", sums_[static_cast<size_t>(t * c + p)], width);
        out += '\n';
    }
    return out;
}

void ConfusionMatrix::write_svg(const std::string &path, const std::vector<std::string> &class_names) const {
    const int64_t c = decision_.classes;
    const std::vector<std::string> names = class_labels(class_names, c);
    const int cell = 48, margin = 90;
    const int size = margin + static_cast<int>(c) * cell + 10;
    const double most = std::max(1.0, *std::max_element(sums_.begin(), sums_.end()));
    std::string svg = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{0}\" font-family=\"sans-serif\" "
        "font-size=\"12\">\n<text x=\"{1}\" y=\"14\">predicted</text>\n<text x=\"4\" y=\"{1}\">target</text>\n",
        size, margin);
    for (int64_t k = 0; k < c; ++k) {
        const int at = margin + static_cast<int>(k) * cell;
        const std::string label = xml_escape(names[static_cast<size_t>(k)]);
        svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", at + cell / 2, margin - 8, label);
        svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", margin - 6, at + cell / 2 + 4, label);
    }
    for (int64_t t = 0; t < c; ++t)
        for (int64_t p = 0; p < c; ++p) {
            const double v = sums_[static_cast<size_t>(t * c + p)];
            const int shade = static_cast<int>(std::lround(255 - 200 * v / most));  // darker blue = more
            const int x = margin + static_cast<int>(p) * cell, y = margin + static_cast<int>(t) * cell;
            svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"rgb({},{},255)\" "
                               "stroke=\"#888\"/>\n<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{:.0f}</text>\n",
                               x, y, cell, cell, shade, shade, x + cell / 2, y + cell / 2 + 4, v);
        }
    svg += "</svg>\n";
    write_file_atomically(path, svg);
}

// ---- regression ----

void MeanAbsoluteError::accumulate(const Tensor &output, const Tensor &target) {
    check_same_count(output, target);
    const std::vector<double> out = as_doubles(output), tgt = as_doubles(target);
    for (size_t i = 0; i < out.size(); ++i) sums_[0] += std::abs(out[i] - tgt[i]);
    sums_[1] += static_cast<double>(out.size());
}

Values MeanAbsoluteError::values() const { return {{"mae", mean_or_nan(sums_[0], sums_[1])}}; }

void RootMeanSquaredError::accumulate(const Tensor &output, const Tensor &target) {
    check_same_count(output, target);
    const std::vector<double> out = as_doubles(output), tgt = as_doubles(target);
    for (size_t i = 0; i < out.size(); ++i) sums_[0] += (out[i] - tgt[i]) * (out[i] - tgt[i]);
    sums_[1] += static_cast<double>(out.size());
}

Values RootMeanSquaredError::values() const { return {{"rmse", std::sqrt(mean_or_nan(sums_[0], sums_[1]))}}; }

// ---- picking ----

PickingResidual::PickingResidual(double tolerance, int64_t channel) : Metric(5), tolerance_(tolerance), channel_(channel) {
    if (!(tolerance >= 0) || !std::isfinite(tolerance))
        fail("PickingResidual: the tolerance must be a finite number of samples >= 0, got {}", tolerance);
    if (channel < -1) fail("PickingResidual: channel must be >= 0 (or -1 for an output [N, L]), got {}", channel);
}

void PickingResidual::accumulate(const Tensor &output, const Tensor &target) {
    // sums_: residuals, |residuals|, squared residuals, picks within tolerance, picks.
    const int64_t n = output.size(0);
    if (target.numel() != n) fail("expected one target position per example, [N]");
    int64_t channels = 1, length = 0;
    if (channel_ < 0) {
        if (output.dim() != 2) fail("expected an output [N, L] of scores along the trace (or give a channel for [N, C, L])");
        length = output.size(1);
    } else {
        if (output.dim() != 3 || channel_ >= output.size(1))
            fail("expected an output [N, C, L] with channel {} among its C channels", channel_);
        channels = output.size(1);
        length = output.size(2);
    }
    const std::vector<double> out = as_doubles(output), tgt = as_doubles(target);
    const int64_t c = std::max<int64_t>(channel_, 0);
    for (int64_t i = 0; i < n; ++i) {
        const double position = tgt[static_cast<size_t>(i)];
        if (std::isnan(position)) fail("target position of example {} is NaN", i);
        if (position < 0) continue;  // no pick on this trace
        const size_t base = static_cast<size_t>((i * channels + c) * length);
        int64_t best = 0;
        for (int64_t l = 1; l < length; ++l)
            if (out[base + static_cast<size_t>(l)] > out[base + static_cast<size_t>(best)]) best = l;
        const double residual = static_cast<double>(best) - position;
        sums_[0] += residual;
        sums_[1] += std::abs(residual);
        sums_[2] += residual * residual;
        sums_[3] += std::abs(residual) <= tolerance_;
        sums_[4] += 1;
    }
}

Values PickingResidual::values() const {
    const double picks = sums_[4];
    return {{"picking/mean_residual", mean_or_nan(sums_[0], picks)},
            {"picking/mae", mean_or_nan(sums_[1], picks)},
            {"picking/rmse", std::sqrt(mean_or_nan(sums_[2], picks))},
            {"picking/within_tolerance", mean_or_nan(sums_[3], picks)}};
}

}  // namespace strata::metrics
