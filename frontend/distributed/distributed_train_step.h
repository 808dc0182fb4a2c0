#pragma once
/// \file
/// A data-parallel training step: every rank holds the whole model and trains
/// on its own shard of each global batch. The step is two compiled programs
/// with MPI between them:
///
///     gradients program   (shard) -> loss, correct, one gradient per parameter
///     MPI allreduce       the gradients packed into one flat buffer, summed over the ranks
///     update program      (mean gradient) -> clipping, optimizer update of params and state
///
/// so every rank applies the same update and the weights never diverge. The
/// optimizer update stays IR (compiled, as in `TrainStep`); the allreduce sits
/// between two programs rather than inside one, so the compiled code needs no
/// MPI and Halide's scheduler sees no call it cannot look into.
///
/// Before the gradients are summed, the ranks agree on a status word: when one
/// rank's data loader or gradient program fails, every rank stops at that step
/// with that rank's error (a `JobError`) and no update is applied.
///
/// Batch-norm running statistics (buffers) are updated by each rank from its own
/// shard, then rank 0's are copied to every rank at the end of the step, as
/// PyTorch's DistributedDataParallel does (`broadcast_buffers=True`): what rank 0
/// saves is what every rank holds. Batch statistics in training mode are each
/// shard's own (not synchronised across ranks, unlike SyncBatchNorm).

#include "frontend/distributed/process_group.h"
#include "frontend/train/data_loader.h"
#include "frontend/train/step_parts.h"
#include "frontend/train/train_step.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace strata::distributed {

class DistributedTrainStep {
public:
    /// Builds and compiles the two programs for this rank's shards of
    /// `shard_input_shape` / `shard_target_shape` (the global batch divided by the
    /// number of ranks), then copies rank 0's parameters, buffers and optimizer
    /// state to every rank, so all start from the same weights.
    DistributedTrainStep(ProcessGroup &group, nn::Module &model, optim::Optimizer &optimizer,
                         const Shape &shard_input_shape, const Shape &shard_target_shape, DType target_dtype,
                         TrainStep::LossFn loss, TrainStepOptions options = {});
    /// The step of a model with named inputs and outputs (TrainStep's named form) for this rank's
    /// shards: `inputs` and `targets` hold the shard's shapes. With `options.keep_outputs`, each
    /// step returns this rank's model outputs (for metrics). `detect_anomaly` and
    /// `keep_gradients` are single-process options (an error here).
    DistributedTrainStep(ProcessGroup &group, nn::Module &model, optim::Optimizer &optimizer,
                         const TensorSpecs &inputs, const TensorSpecs &targets, ForwardFn forward, MultiLossFn loss,
                         TrainStepOptions options = {});

    /// Runs one step. `load_shard` gives this rank's part of the global batch; an
    /// error in it, or in this rank's gradient program, stops every rank with a
    /// `JobError` naming the rank. The result is global: the mean loss over the
    /// ranks (the loss of the global batch for a mean-reduced loss on equal
    /// shards), the correct predictions of all ranks, the norm of the mean gradient;
    /// `Result::outputs` are this rank's.
    TrainStep::Result step(const std::function<Batch()> &load_shard);
    TrainStep::Result step(const Tensor &input, const Tensor &target);
    /// A step on named shards. `use_outputs`, when given, is called with this rank's model
    /// outputs before the ranks agree on the step's status, so its error (a metric's) stops
    /// every rank too.
    TrainStep::Result step(const std::function<TensorMap()> &load_shard,
                           const std::function<void(const TensorMap &outputs)> &use_outputs = {});

    ProcessGroup &group() const { return group_; }
    /// Runs so far: the step counter that seeds dropout (each rank draws its own masks).
    int64_t run_count() const { return run_count_; }
    void set_run_count(int64_t count) { run_count_ = count; }
    /// Whether `Result::correct` counts right argmax predictions (TrainStep::counts_correct).
    bool counts_correct() const { return classification_; }
    /// Elements of the flat gradient buffer summed each step (all parameters).
    int64_t gradient_elements() const { return flat_gradients_.numel(); }
    int64_t gradient_bytes() const { return static_cast<int64_t>(flat_gradients_.nbytes()); }
    /// Seconds spent so far summing the gradients (the transfer: the ranks are in step by then).
    double allreduce_seconds() const { return allreduce_seconds_; }
    /// Seconds spent so far agreeing on each step's status: mostly waiting for the slowest rank.
    double wait_seconds() const { return wait_seconds_; }

private:
    void build(nn::Module &model, optim::Optimizer &optimizer, const ForwardFn &forward, const MultiLossFn &loss,
               const TrainStepOptions &options);
    /// This rank's part of the step up to the allreduce; fills `local`, `outputs` and the flat gradients.
    void compute_gradients(const std::function<TensorMap()> &load_shard, double *local, TensorMap &outputs,
                           const std::string &where);

    ProcessGroup &group_;
    optim::Optimizer &optimizer_;
    TensorSpecs input_specs_, target_specs_;
    std::unique_ptr<Graph> gradient_graph_, update_graph_;
    CompiledGraph gradients_, update_;
    std::vector<std::string> param_names_;
    /// The model's tensors (checked before each step) and batch-norm counters.
    ModelBinding binding_;
    /// Buffers copied from rank 0 after each step (batch-norm running statistics).
    std::vector<Tensor> buffers_;
    std::vector<std::string> optim_inputs_;
    std::vector<std::string> output_names_;  ///< the model outputs returned with keep_outputs
    Tensor flat_gradients_;
    DType param_dtype_ = DType::f32;
    bool classification_ = false, uses_run_counter_ = false;
    int64_t classes_ = 0, ignore_index_ = -100, run_count_ = 0;
    double allreduce_seconds_ = 0, wait_seconds_ = 0;
};

}  // namespace strata::distributed
