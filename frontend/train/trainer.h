#pragma once
/// \file
/// `Trainer`: fit and evaluate a model in a few lines, with a progress bar
/// and callbacks.
///
///     strata::Trainer trainer(*net, sgd, loss, {.epochs = 3, .batch_size = 64});
///     trainer.fit(train_set, &test_set);

#include "frontend/optim/lr_scheduler.h"
#include "frontend/train/data_loader.h"
#include "frontend/train/train_step.h"

#include <functional>
#include <vector>

namespace strata {

struct EpochStats {
    int64_t epoch = 0;
    double train_loss = 0, train_accuracy = 0;
    /// NaN when there is no validation set.
    double validation_loss = 0, validation_accuracy = 0;
    double seconds = 0, examples_per_second = 0, lr = 0;
};

struct EvalStats {
    double loss = 0, accuracy = 0;
    int64_t examples = 0;
};

class ProgressBar;

/// What one training epoch summed over its batches.
struct EpochSums {
    double loss_sum = 0;
    int64_t batches = 0, correct = 0, seen = 0;
};

/// Ends a training epoch (Trainer and distributed::DistributedTrainer): the statistics from
/// `sums`, the validation pass when `validate` is set, the progress bar's last line, the epoch
/// callbacks, then the LR scheduler's step (when there is one).
EpochStats finish_epoch(int64_t epoch, const EpochSums &sums, ProgressBar &bar, const optim::Optimizer &optimizer,
                        const std::function<EvalStats()> &validate,
                        const std::vector<std::function<void(const EpochStats &)>> &callbacks,
                        optim::LRScheduler *scheduler);

struct TrainerOptions {
    int64_t epochs = 1;
    int64_t batch_size = 64;
    uint64_t seed = 0;
    bool shuffle = true;
    bool progress = true;
    double clip_grad_norm = 0;
    /// When the loss turns NaN or infinite, name the input, parameter or first op that made the
    /// non-finite value (TrainStepOptions::detect_anomaly; slow, for debugging).
    bool detect_anomaly = false;
    codegen::CompileOptions compile;
};

class Trainer {
public:
    Trainer(nn::Module &model, optim::Optimizer &optimizer, TrainStep::LossFn loss, TrainerOptions options = {});

    /// Called after every epoch (after validation).
    void on_epoch_end(std::function<void(const EpochStats &)> callback) { epoch_callbacks_.push_back(std::move(callback)); }
    /// Called before every epoch with its index; set learning rates here.
    void on_epoch_begin(std::function<void(int64_t epoch)> callback) { begin_callbacks_.push_back(std::move(callback)); }
    /// A learning-rate schedule stepped once after every epoch (after validation and the
    /// epoch-end callbacks), as in PyTorch's loop; it must drive this trainer's optimizer.
    /// Not owned; nullptr removes it. `EpochStats::lr` is the rate the epoch trained with.
    void set_scheduler(optim::LRScheduler *scheduler);
    optim::LRScheduler *scheduler() const { return scheduler_; }

    /// Trains for `options.epochs` epochs; evaluates on `validation` after each when given.
    std::vector<EpochStats> fit(const Dataset &train, const Dataset *validation = nullptr);
    /// Mean loss and accuracy over a whole dataset (the model in eval mode).
    EvalStats evaluate(const Dataset &data);
    /// Seconds spent building and compiling the training step and evaluation graphs.
    double compile_seconds() const { return compile_seconds_; }

private:
    nn::Module &model_;
    optim::Optimizer &optimizer_;
    TrainStep::LossFn loss_;
    TrainerOptions options_;
    std::unique_ptr<TrainStep> step_;
    std::vector<std::function<void(const EpochStats &)>> epoch_callbacks_;
    std::vector<std::function<void(int64_t)>> begin_callbacks_;
    optim::LRScheduler *scheduler_ = nullptr;
    int64_t epochs_done_ = 0;
    double compile_seconds_ = 0;
};

}  // namespace strata
