#pragma once
/// \file
/// The whole training step — forward, loss, backward, (clipping) and the
/// optimizer update — compiled as one program. Running a step is one call
/// into compiled code; parameters and optimizer state are updated in place.

#include "codegen/compiler.h"
#include "frontend/graph.h"
#include "frontend/nn/module.h"
#include "frontend/optim/optimizer.h"

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
};

class TrainStep {
public:
    /// The loss from the model output and the target (e.g. cross_entropy).
    using LossFn = std::function<SymTensor(const SymTensor &output, const SymTensor &target)>;

    /// Builds and compiles the step for batches of `input_shape` with targets
    /// of `target_shape` / `target_dtype`. The model is put in training mode.
    TrainStep(nn::Module &model, optim::Optimizer &optimizer, const Shape &input_shape, const Shape &target_shape,
              DType target_dtype, LossFn loss, TrainStepOptions options = {});

    struct Result {
        double loss = 0;
        /// For classification (2-d output, i32 target): how many argmax predictions were right.
        int64_t correct = 0;
        /// With clip_grad_norm > 0: the global gradient norm before clipping; NaN otherwise.
        double grad_norm = std::numeric_limits<double>::quiet_NaN();
    };
    /// Runs one step on a batch and applies the update. A class label outside
    /// [0, classes) and a non-finite loss are errors naming the step (and, with
    /// `detect_anomaly`, where the first NaN or infinity came from).
    Result step(const Tensor &input, const Tensor &target);

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
};

}  // namespace strata
