#include "frontend/distributed/distributed_trainer.h"

#include <cmath>

namespace strata::distributed {

namespace {

/// Trainer's steps and sums on the ranks of `group`.
class JobStepEngine : public StepEngine {
public:
    explicit JobStepEngine(ProcessGroup &group) : group_(group) {}
    int64_t rank() const override { return group_.rank(); }
    int64_t world_size() const override { return group_.size(); }
    bool is_job() const override { return true; }
    void build(nn::Module &model, optim::Optimizer &optimizer, const TensorSpecs &inputs, const TensorSpecs &targets,
               const ForwardFn &forward, const MultiLossFn &loss, const TrainStepOptions &options) override {
        step_ = std::make_unique<DistributedTrainStep>(group_, model, optimizer, inputs, targets, forward, loss, options);
    }
    bool built() const override { return step_ != nullptr; }
    TrainStep::Result step(const std::function<TensorMap()> &load_batch,
                           const std::function<void(const TensorMap &)> &use_outputs) override {
        return step_->step(load_batch, use_outputs);
    }
    bool counts_correct() const override { return step_->counts_correct(); }
    int64_t run_count() const override { return step_->run_count(); }
    void set_run_count(int64_t count) override { step_->set_run_count(count); }
    void sum(std::vector<double> &values, const std::string &error, const std::string &context) override {
        // One allreduce: the ranks that failed first, then the values.
        std::vector<double> all{error.empty() ? 0.0 : 1.0};
        all.insert(all.end(), values.begin(), values.end());
        group_.allreduce_sum(all.data(), static_cast<int64_t>(all.size()));
        if (all[0] > 0) group_.throw_agreed_failure(std::llround(all[0]), error, context);
        std::copy(all.begin() + 1, all.end(), values.begin());
    }
    [[noreturn]] void rethrow(const std::string &message) const override {
        try {
            throw;
        } catch (const JobError &) {
            throw JobError(message);
        } catch (...) {
            throw Error(message);
        }
    }
    DistributedTrainStep *distributed_step() const { return step_.get(); }

private:
    ProcessGroup &group_;
    std::unique_ptr<DistributedTrainStep> step_;
};

TrainerOptions checked(const TrainerOptions &options, const ProcessGroup &group) {
    if (options.batch_size > 0 && options.batch_size % group.size() != 0)  // <= 0: Trainer says so
        fail("DistributedTrainer: the global batch of {} examples does not split evenly across {} ranks; use a "
             "multiple of {}",
             options.batch_size, group.size(), group.size());
    return options;
}

}  // namespace

DistributedTrainer::DistributedTrainer(ProcessGroup &group, nn::Module &model, optim::Optimizer &optimizer,
                                       TrainStep::LossFn loss, TrainerOptions options)
    : Trainer(model, optimizer, std::move(loss), checked(options, group), std::make_unique<JobStepEngine>(group)),
      group_(group) {}

DistributedTrainer::DistributedTrainer(ProcessGroup &group, nn::Module &model, optim::Optimizer &optimizer,
                                       ForwardFn forward, MultiLossFn loss, TrainerOptions options)
    : Trainer(model, optimizer, std::move(forward), std::move(loss), checked(options, group),
              std::make_unique<JobStepEngine>(group)),
      group_(group) {}

DistributedTrainStep *DistributedTrainer::step() const {
    return static_cast<const JobStepEngine &>(engine()).distributed_step();
}

}  // namespace strata::distributed
