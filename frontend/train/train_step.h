#pragma once
/// \file
/// The whole training step — forward, loss, backward, (clipping) and the
/// optimizer update — compiled as one program. Running a step is one call
/// into compiled code; parameters and optimizer state are updated in place.

#include "codegen/compiler.h"
#include "frontend/graph.h"
#include "frontend/nn/module.h"
#include "frontend/optim/optimizer.h"
#include "frontend/train/named_batch.h"

#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace strata {

struct TrainStepOptions {
    /// Clip the global gradient norm to this value; 0 disables clipping.
    double clip_grad_norm = 0.0;
    codegen::CompileOptions compile;
    /// A class label equal to this is allowed (cross_entropy ignores it); any
    /// other label outside [0, classes) is an error.
    int64_t ignore_index = -100;
    /// When the loss is NaN or infinite, also name the input, parameter or first op that made
    /// the non-finite value (frontend/debug/anomaly.h). Each step then keeps a copy of the
    /// parameters and optimizer state, and a failing step compiles an unfused program: slow,
    /// for debugging (PyTorch's detect_anomaly).
    bool detect_anomaly = false;
    /// Also return the model's outputs of each step (`Result::outputs`): metrics computed from
    /// the training step itself, without a second forward pass.
    bool keep_outputs = false;
    /// Also keep the gradient of the loss with respect to every parameter (`gradients()`), as
    /// backward leaves them (before clipping and the update): for checks against other frameworks.
    bool keep_gradients = false;
};

class TrainStep {
public:
    /// The loss from the model output and the target (e.g. cross_entropy).
    using LossFn = std::function<SymTensor(const SymTensor &output, const SymTensor &target)>;

    /// Builds and compiles the step for batches of `input_shape` with targets
    /// of `target_shape` / `target_dtype`. The model is put in training mode.
    TrainStep(nn::Module &model, optim::Optimizer &optimizer, const Shape &input_shape, const Shape &target_shape,
              DType target_dtype, LossFn loss, TrainStepOptions options = {});
    /// The step of a model with named inputs and outputs and a loss of named targets
    /// (frontend/train/named_batch.h): `forward` builds the outputs from the inputs, `loss` the
    /// scalar loss from the outputs and targets. `model` holds the parameters it trains; a
    /// parameter or buffer the forward reads that is not registered in `model` is an error.
    TrainStep(nn::Module &model, optim::Optimizer &optimizer, const TensorSpecs &inputs, const TensorSpecs &targets,
              ForwardFn forward, MultiLossFn loss, TrainStepOptions options = {});

    struct Result {
        double loss = 0;
        /// For classification (2-d output, i32 or i64 target): how many argmax predictions were right.
        int64_t correct = 0;
        /// With clip_grad_norm > 0: the global gradient norm before clipping; NaN otherwise.
        double grad_norm = std::numeric_limits<double>::quiet_NaN();
        /// With `keep_outputs`: the model's outputs for this batch, by name ("output" for a
        /// single-output model).
        TensorMap outputs;
    };
    /// Runs one step on a batch and applies the update. A class label outside
    /// [0, classes) and a non-finite loss are errors naming the step (and, with
    /// `detect_anomaly`, where the first NaN or infinity came from).
    Result step(const Tensor &input, const Tensor &target);
    /// One step on a batch of named inputs and targets (the names the step was built with).
    Result step(const TensorMap &batch);

    /// The loss of every step run so far, in order.
    const std::vector<double> &losses() const { return losses_; }
    /// With `keep_gradients`: the last step's gradient of the loss for each parameter, by name
    /// ("0.weight"); empty before the first step.
    const TensorMap &gradients() const { return gradients_; }
    /// The names and shapes of the batch the step takes.
    const TensorSpecs &input_specs() const { return input_specs_; }
    const TensorSpecs &target_specs() const { return target_specs_; }
    /// Whether `Result::correct` counts right argmax predictions (a single-output classifier:
    /// output [N, C], i32 targets [N]).
    bool counts_correct() const { return classification_; }

    const CompiledGraph &compiled() const { return compiled_; }
    /// Steps run so far by this compiled step: dropout's per-step seed ("rng.step").
    /// Saved in checkpoints; restore it with `set_run_count` to resume bit for bit.
    int64_t run_count() const { return compiled_.run_count(); }
    void set_run_count(int64_t count) { compiled_.set_run_count(count); }
    /// The IR of the training step.
    std::string ir() const { return graph_->to_string(); }

private:
    /// Where the step's first non-finite value came from, found by running it again unfused
    /// on `sources` (the values before the update); one sentence for the error message.
    std::string locate_non_finite(const std::map<std::string, Tensor> &sources) const;

    void build(nn::Module &model, optim::Optimizer &optimizer, const ForwardFn &forward, const MultiLossFn &loss_fn,
               const TrainStepOptions &options);

    std::unique_ptr<Graph> graph_;
    CompiledGraph compiled_;
    optim::Optimizer &optimizer_;
    DType param_dtype_ = DType::f32;
    bool classification_ = false;
    int64_t classes_ = 0;
    int64_t ignore_index_ = -100;
    /// The optimizer's scalar inputs this graph reads (plain SGD has no "optim.first").
    std::vector<std::string> optim_inputs_;
    bool detect_anomaly_ = false;
    codegen::CompileOptions compile_options_;  ///< also for detect_anomaly's unfused program
    TensorSpecs input_specs_, target_specs_;
    std::vector<std::string> output_names_;  ///< the model outputs returned with keep_outputs
    bool keep_gradients_ = false;
    std::vector<double> losses_;
    TensorMap gradients_;
    /// The model's batch-norm num_batches_tracked counters: each step adds one, as each
    /// training-mode forward does in PyTorch.
    std::vector<Tensor> batch_counters_;
};

}  // namespace strata
