#include "frontend/distributed/distributed_trainer.h"

#include "runtime/progress.h"

#include <chrono>
#include <cmath>

namespace strata::distributed {

DistributedTrainer::DistributedTrainer(ProcessGroup &group, nn::Module &model, optim::Optimizer &optimizer,
                                       TrainStep::LossFn loss, TrainerOptions options)
    : group_(group), model_(model), optimizer_(optimizer), loss_(loss), options_(options),
      evaluator_(model, optimizer, loss, options) {
    if (options.batch_size % group.size() != 0)
        fail("DistributedTrainer: the global batch of {} examples does not split evenly across {} ranks; use a "
             "multiple of {}",
             options.batch_size, group.size(), group.size());
}

void DistributedTrainer::set_scheduler(optim::LRScheduler *scheduler) {
    if (scheduler && &scheduler->optimizer() != &optimizer_)
        fail("DistributedTrainer::set_scheduler: the scheduler drives a different optimizer than the trainer");
    scheduler_ = scheduler;
}

std::vector<EpochStats> DistributedTrainer::fit(const Dataset &train, const Dataset *validation) {
    train.check();
    const int64_t ranks = group_.size(), shard = options_.batch_size / ranks;
    const int64_t batches = train.size() / options_.batch_size;
    if (batches == 0)
        fail("DistributedTrainer: {} examples make no full global batch of {}", train.size(), options_.batch_size);
    // Shards of one shuffled order: global batch i is shards i*ranks .. i*ranks + ranks-1, the
    // same examples a single process with the global batch size would take, in the same order.
    DataLoader loader(train, {shard, options_.shuffle, options_.seed, true});
    if (!step_) {
        Shape in_shape = train.inputs.shape(), target_shape = train.targets.shape();
        in_shape[0] = target_shape[0] = shard;
        TrainStepOptions step_options;
        step_options.clip_grad_norm = options_.clip_grad_norm;
        step_options.compile = options_.compile;
        const auto start = std::chrono::steady_clock::now();
        step_ = std::make_unique<DistributedTrainStep>(group_, model_, optimizer_, in_shape, target_shape,
                                                       train.targets.dtype(), loss_, step_options);
        compile_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    std::vector<EpochStats> history;
    for (int64_t e = 0; e < options_.epochs; ++e, ++epochs_done_) {
        for (auto &cb : begin_callbacks_) cb(epochs_done_);
        model_.train(true);
        loader.set_epoch(epochs_done_);
        ProgressBar bar(fmt::format("epoch {}", epochs_done_ + 1), batches, options_.batch_size,
                        options_.progress && group_.is_main());
        double loss_sum = 0;
        int64_t correct = 0, seen = 0;
        for (int64_t i = 0; i < batches; ++i) {
            TrainStep::Result r;
            const std::string where = fmt::format("epoch {}, batch {} of {}", epochs_done_ + 1, i + 1, batches);
            try {
                r = step_->step([&] { return loader.batch(i * ranks + group_.rank()); });
            } catch (const JobError &err) {
                throw JobError(where + ": " + err.what());
            } catch (const Error &err) {
                fail("{}: {}", where, err.what());
            }
            loss_sum += r.loss;
            correct += r.correct;
            seen += options_.batch_size;
            bar.update(i + 1, {{"loss", loss_sum / static_cast<double>(i + 1)},
                               {"acc", static_cast<double>(correct) / static_cast<double>(seen)}});
        }
        std::function<EvalStats()> validate;
        if (validation) validate = [&] { return evaluate(*validation); };
        history.push_back(finish_epoch(epochs_done_, {loss_sum, batches, correct, seen}, bar, optimizer_, validate,
                                       epoch_callbacks_, scheduler_));
    }
    return history;
}

EvalStats DistributedTrainer::evaluate(const Dataset &data) {
    data.check();
    const int64_t n = data.size(), rank = group_.rank(), ranks = group_.size();
    const int64_t begin = n * rank / ranks, end = n * (rank + 1) / ranks;
    // Summed over the ranks: [ranks that failed, loss * examples, correct, examples].
    double sums[4] = {0, 0, 0, 0};
    std::string error;
    try {
        if (end > begin) {
            const EvalStats mine = evaluator_.evaluate(data.slice(begin, end));
            const double examples = static_cast<double>(mine.examples);
            sums[1] = mine.loss * examples;
            sums[2] = std::round(mine.accuracy * examples);
            sums[3] = examples;
        }
    } catch (const std::exception &e) {
        sums[0] = 1;
        error = *e.what() ? e.what() : "unknown error";
    }
    group_.allreduce_sum(sums, 4);
    if (sums[0] > 0) group_.throw_agreed_failure(std::llround(sums[0]), error, "evaluation");
    EvalStats stats;
    stats.examples = std::llround(sums[3]);
    stats.loss = sums[1] / sums[3];
    stats.accuracy = sums[2] / sums[3];
    return stats;
}

}  // namespace strata::distributed
