#pragma once
/// \file
/// `StepEngine`: where `Trainer`'s steps run and how its sums are combined. The trainer's loop,
/// metrics, callbacks, evaluation and checkpoints are one code path; the engine is what differs
/// between one process (`LocalStepEngine`, a `TrainStep`) and the ranks of an MPI job
/// (`distributed::DistributedTrainer`'s, a `DistributedTrainStep` and allreduce).

#include "frontend/train/train_step.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace strata {

class StepEngine {
public:
    virtual ~StepEngine() = default;

    /// This process's rank and the number of processes training together (0 and 1 alone).
    virtual int64_t rank() const = 0;
    virtual int64_t world_size() const = 0;
    bool is_main() const { return rank() == 0; }
    /// Whether the processes are the ranks of a job, even a job of one rank: the trainer then
    /// shares every data set out across them.
    virtual bool is_job() const = 0;

    /// Builds and compiles the step for this process's batches (`inputs`/`targets` hold their
    /// shapes: the global batch divided by world_size()).
    virtual void build(nn::Module &model, optim::Optimizer &optimizer, const TensorSpecs &inputs,
                       const TensorSpecs &targets, const ForwardFn &forward, const MultiLossFn &loss,
                       const TrainStepOptions &options) = 0;
    virtual bool built() const = 0;
    /// One step on the batch `load_batch` returns; `use_outputs` is given this process's model
    /// outputs (keep_outputs). Both run inside the step, so with several processes an error in
    /// either stops all of them at this step. The loss and the count of right answers are the
    /// global ones.
    virtual TrainStep::Result step(const std::function<TensorMap()> &load_batch,
                                   const std::function<void(const TensorMap &outputs)> &use_outputs) = 0;
    virtual bool counts_correct() const = 0;
    /// Dropout's step counter (saved in checkpoints).
    virtual int64_t run_count() const = 0;
    virtual void set_run_count(int64_t count) = 0;

    /// Sums `values` element-wise over the processes, in place. Every process calls it at the
    /// same point; when one passes a non-empty `error` (its failure there), every process throws
    /// the same error instead, "`context`: rank R of N failed: ...". Alone: `values` stay.
    virtual void sum(std::vector<double> &values, const std::string &error, const std::string &context) = 0;
    /// Called in a catch block: throws an error of the caught kind (an error every process agreed
    /// on stays one) with `message`.
    [[noreturn]] virtual void rethrow(const std::string &message) const = 0;

    /// The single-process step (null for other engines, and before `build`).
    virtual TrainStep *train_step() const { return nullptr; }
};

/// One process: a TrainStep.
class LocalStepEngine : public StepEngine {
public:
    int64_t rank() const override { return 0; }
    int64_t world_size() const override { return 1; }
    bool is_job() const override { return false; }
    void build(nn::Module &model, optim::Optimizer &optimizer, const TensorSpecs &inputs, const TensorSpecs &targets,
               const ForwardFn &forward, const MultiLossFn &loss, const TrainStepOptions &options) override;
    bool built() const override { return step_ != nullptr; }
    TrainStep::Result step(const std::function<TensorMap()> &load_batch,
                           const std::function<void(const TensorMap &)> &use_outputs) override;
    bool counts_correct() const override { return step_->counts_correct(); }
    int64_t run_count() const override { return step_->run_count(); }
    void set_run_count(int64_t count) override { step_->set_run_count(count); }
    void sum(std::vector<double> &values, const std::string &error, const std::string &context) override;
    [[noreturn]] void rethrow(const std::string &message) const override;
    TrainStep *train_step() const override { return step_.get(); }

private:
    std::unique_ptr<TrainStep> step_;
};

}  // namespace strata
