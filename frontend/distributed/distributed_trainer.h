#pragma once
/// \file
/// `DistributedTrainer`: `Trainer`'s fit/evaluate for a job of several MPI ranks
/// (`mpirun -np 4 prog`). Each global batch of `batch_size` examples is split
/// evenly across the ranks; every rank shuffles with the same seed, so the
/// shards of a batch never overlap and the ranks together see exactly the
/// batches one process with the same batch size would see.
///
///     auto &group = strata::distributed::ProcessGroup::world();
///     strata::distributed::DistributedTrainer trainer(group, *net, sgd, loss, {.epochs = 3, .batch_size = 64});
///     trainer.fit(train_set, &test_set);      // every rank calls it; only rank 0 shows progress
///
/// Reported losses and accuracies are global (summed over the ranks);
/// validation is split across the ranks too. Callbacks run on every rank:
/// write files from rank 0 only (`group.is_main()`).

#include "frontend/distributed/distributed_train_step.h"
#include "frontend/train/trainer.h"

#include <functional>
#include <memory>
#include <vector>

namespace strata::distributed {

class DistributedTrainer {
public:
    /// `options.batch_size` is the global batch; it must divide evenly by the number of ranks.
    DistributedTrainer(ProcessGroup &group, nn::Module &model, optim::Optimizer &optimizer, TrainStep::LossFn loss,
                       TrainerOptions options = {});

    void on_epoch_end(std::function<void(const EpochStats &)> callback) { epoch_callbacks_.push_back(std::move(callback)); }
    void on_epoch_begin(std::function<void(int64_t epoch)> callback) { begin_callbacks_.push_back(std::move(callback)); }
    /// As `Trainer::set_scheduler`: stepped after every epoch, on every rank alike.
    void set_scheduler(optim::LRScheduler *scheduler);

    /// Trains for `options.epochs` epochs on every rank together; a failure on any rank
    /// stops all of them with a `JobError`.
    std::vector<EpochStats> fit(const Dataset &train, const Dataset *validation = nullptr);
    /// Mean loss and accuracy over the whole dataset, each rank evaluating its own slice.
    EvalStats evaluate(const Dataset &data);
    double compile_seconds() const { return compile_seconds_ + evaluator_.compile_seconds(); }
    /// The step, once `fit` has built it (null before).
    DistributedTrainStep *step() const { return step_.get(); }

private:
    ProcessGroup &group_;
    nn::Module &model_;
    optim::Optimizer &optimizer_;
    TrainStep::LossFn loss_;
    TrainerOptions options_;
    /// Evaluates this rank's slice (a plain single-process Trainer).
    Trainer evaluator_;
    std::unique_ptr<DistributedTrainStep> step_;
    std::vector<std::function<void(const EpochStats &)>> epoch_callbacks_;
    std::vector<std::function<void(int64_t)>> begin_callbacks_;
    optim::LRScheduler *scheduler_ = nullptr;
    int64_t epochs_done_ = 0;
    double compile_seconds_ = 0;
};

}  // namespace strata::distributed
