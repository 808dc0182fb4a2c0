#pragma once
/// \file
/// Metrics as objects (torchmetrics' names and conventions), computed on the host from the
/// outputs a compiled training step or evaluation program already returned: never a second
/// forward pass.
///
///     trainer.add_metric(metrics::BinaryAccuracy(0.5));                 // one logit per example
///     trainer.add_metric(metrics::PrecisionRecallF1(3));                // per class and macro
///     trainer.add_metric(metrics::PickingResidual(10)).on("onset", "onset_sample");
///     ...
///     stats.metrics.at("val_precision/macro");
///
/// Each metric reads one model output ("output" by default) and one target ("target"). It
/// accumulates sums over the batches of an epoch (`update`), then reports named values
/// (`compute`). Its keys are prefixed "OUTPUT." when it reads another output than "output".
/// The sums are its whole state: a resumed run restores them (`state` / `set_state`).

#include "runtime/tensor.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace strata::metrics {

/// Named values, in a fixed order ("precision/0", ..., "precision/macro").
using Values = std::vector<std::pair<std::string, double>>;

class Metric {
public:
    virtual ~Metric() = default;

    /// Reads model output `output` and batch target `target` (models with named outputs).
    Metric &on(std::string output, std::string target);
    const std::string &output_name() const { return output_; }
    const std::string &target_name() const { return target_; }

    /// Clears the sums (the trainer calls it at the start of every epoch and evaluation).
    void reset();
    /// Adds one batch: the model output and the target, host tensors with examples along dim 0.
    void update(const Tensor &output, const Tensor &target);
    /// The values over every batch since `reset`, keyed as described above.
    Values compute() const;

    /// The accumulated sums (all a metric knows), for checkpoints.
    const std::vector<double> &state() const { return sums_; }
    void set_state(const std::vector<double> &sums);
    /// A short name for messages ("BinaryAccuracy").
    virtual std::string kind() const = 0;

protected:
    explicit Metric(size_t sums) : sums_(sums, 0.0) {}
    virtual void accumulate(const Tensor &output, const Tensor &target) = 0;
    virtual Values values() const = 0;
    std::vector<double> sums_;

private:
    std::string output_ = "output", target_ = "target";
};

/// How a binary or multilabel output is read: raw scores (logits, as for
/// binary_cross_entropy_with_logits) pass through a sigmoid before the threshold.
enum class BinaryInput { logits, probabilities };

/// Multiclass accuracy: argmax over dim 1 of an output [N, C, ...] against class indices
/// [N, ...] (i32); targets equal to `ignore_index` are left out. Key "accuracy".
class Accuracy : public Metric {
public:
    explicit Accuracy(int64_t ignore_index = -100) : Metric(2), ignore_index_(ignore_index) {}
    std::string kind() const override { return "Accuracy"; }

protected:
    void accumulate(const Tensor &output, const Tensor &target) override;
    Values values() const override;

private:
    int64_t ignore_index_;
};

/// Binary accuracy: prediction = probability > threshold, against targets 0 or 1 (f32, f64 or
/// i32) of the same element count. Key "binary_accuracy".
class BinaryAccuracy : public Metric {
public:
    explicit BinaryAccuracy(double threshold = 0.5, BinaryInput input = BinaryInput::logits);
    std::string kind() const override { return "BinaryAccuracy"; }

protected:
    void accumulate(const Tensor &output, const Tensor &target) override;
    Values values() const override;
    double threshold_;
    BinaryInput input_;
};

/// Multilabel accuracy over outputs [N, labels] and 0/1 targets [N, labels]: the mean over labels
/// of each label's accuracy (torchmetrics' default macro average), key "multilabel_accuracy",
/// and the fraction of examples with every label right, key "multilabel_accuracy/exact_match".
class MultilabelAccuracy : public Metric {
public:
    explicit MultilabelAccuracy(int64_t labels, double threshold = 0.5, BinaryInput input = BinaryInput::logits);
    std::string kind() const override { return "MultilabelAccuracy"; }

protected:
    void accumulate(const Tensor &output, const Tensor &target) override;
    Values values() const override;

private:
    int64_t labels_;
    double threshold_;
    BinaryInput input_;
};

/// How a class is predicted from an output: argmax over dim 1 of [N, C, ...] (multiclass), or
/// one score per example thresholded into class 1 or 0 (binary).
struct ClassDecision {
    int64_t classes = 2;
    bool binary = false;
    double threshold = 0.5;
    BinaryInput input = BinaryInput::logits;
    int64_t ignore_index = -100;
};

/// Precision, recall and F1 per class and their macro average (torchmetrics: 0 where a ratio is
/// 0/0; classes absent from both predictions and targets are left out of the macro average).
/// Keys "precision/C", "recall/C", "f1/C" for each class C, then "precision/macro", "recall/macro",
/// "f1/macro".
class PrecisionRecallF1 : public Metric {
public:
    /// Multiclass: argmax over dim 1.
    explicit PrecisionRecallF1(int64_t classes, int64_t ignore_index = -100);
    /// Binary: one score per example, class 1 when its probability > threshold.
    static PrecisionRecallF1 binary(double threshold = 0.5, BinaryInput input = BinaryInput::logits);
    std::string kind() const override { return "PrecisionRecallF1"; }

protected:
    void accumulate(const Tensor &output, const Tensor &target) override;
    Values values() const override;

private:
    explicit PrecisionRecallF1(ClassDecision decision);
    ClassDecision decision_;
};

/// Counts of (target class, predicted class) pairs. Keys "confusion/T/P"; `matrix()` as a
/// tensor [C, C] (rows targets, columns predictions, as torchmetrics), `to_string()` as a table,
/// `write_svg()` as a coloured grid.
class ConfusionMatrix : public Metric {
public:
    explicit ConfusionMatrix(int64_t classes, int64_t ignore_index = -100);
    static ConfusionMatrix binary(double threshold = 0.5, BinaryInput input = BinaryInput::logits);
    std::string kind() const override { return "ConfusionMatrix"; }

    /// The counts, f64 [classes, classes].
    Tensor matrix() const;
    /// A text table with the class names (default "0", "1", ...).
    std::string to_string(const std::vector<std::string> &class_names = {}) const;
    /// The matrix as an SVG grid, written atomically.
    void write_svg(const std::string &path, const std::vector<std::string> &class_names = {}) const;

protected:
    void accumulate(const Tensor &output, const Tensor &target) override;
    Values values() const override;

private:
    explicit ConfusionMatrix(ClassDecision decision);
    ClassDecision decision_;
};

/// Mean absolute error over every element (output and target of the same element count). Key "mae".
class MeanAbsoluteError : public Metric {
public:
    MeanAbsoluteError() : Metric(2) {}
    std::string kind() const override { return "MeanAbsoluteError"; }

protected:
    void accumulate(const Tensor &output, const Tensor &target) override;
    Values values() const override;
};

/// Root of the mean squared error over every element. Key "rmse".
class RootMeanSquaredError : public Metric {
public:
    RootMeanSquaredError() : Metric(2) {}
    std::string kind() const override { return "RootMeanSquaredError"; }

protected:
    void accumulate(const Tensor &output, const Tensor &target) override;
    Values values() const override;
};

/// Phase picking: the residual (in samples) of the arg-max position of a score trace against
/// the target position. The output is [N, L], or [N, C, L] with `channel` picking the trace (a
/// PhaseNet-style output, e.g. channel 1 for P); the target is one position per example [N]
/// (i32 or float), where a negative position means "no pick" and the example is left out.
/// Keys "picking/mean_residual" (the bias), "picking/mae", "picking/rmse" (samples) and
/// "picking/within_tolerance" (the fraction with |residual| <= tolerance).
class PickingResidual : public Metric {
public:
    explicit PickingResidual(double tolerance, int64_t channel = -1);
    std::string kind() const override { return "PickingResidual"; }

protected:
    void accumulate(const Tensor &output, const Tensor &target) override;
    Values values() const override;

private:
    double tolerance_;
    int64_t channel_;
};

}  // namespace strata::metrics
