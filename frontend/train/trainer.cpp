#include "frontend/train/trainer.h"

#include "frontend/functional.h"
#include "runtime/progress.h"

#include <chrono>
#include <cmath>
#include <map>

namespace strata {

Trainer::Trainer(nn::Module &model, optim::Optimizer &optimizer, TrainStep::LossFn loss, TrainerOptions options)
    : model_(model), optimizer_(optimizer), loss_(std::move(loss)), options_(options) {
    if (options.epochs < 0) fail("Trainer: epochs must be >= 0, got {}", options.epochs);
    if (options.batch_size <= 0) fail("Trainer: batch_size must be positive, got {}", options.batch_size);
}

void Trainer::set_scheduler(optim::LRScheduler *scheduler) {
    if (scheduler && &scheduler->optimizer() != &optimizer_)
        fail("Trainer::set_scheduler: the scheduler drives a different optimizer than the trainer");
    scheduler_ = scheduler;
}

std::vector<EpochStats> Trainer::fit(const Dataset &train, const Dataset *validation) {
    DataLoader loader(train, {options_.batch_size, options_.shuffle, options_.seed, true});
    if (!step_) {
        Shape in_shape = train.inputs.shape(), target_shape = train.targets.shape();
        in_shape[0] = target_shape[0] = options_.batch_size;
        TrainStepOptions step_options;
        step_options.clip_grad_norm = options_.clip_grad_norm;
        step_options.compile = options_.compile;
        step_options.detect_anomaly = options_.detect_anomaly;
        const auto start = std::chrono::steady_clock::now();
        step_ = std::make_unique<TrainStep>(model_, optimizer_, in_shape, target_shape, train.targets.dtype(), loss_,
                                            step_options);
        compile_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    std::vector<EpochStats> history;
    for (int64_t e = 0; e < options_.epochs; ++e, ++epochs_done_) {
        for (auto &cb : begin_callbacks_) cb(epochs_done_);
        model_.train(true);
        loader.set_epoch(epochs_done_);
        const int64_t batches = loader.num_batches();
        ProgressBar bar(fmt::format("epoch {}", epochs_done_ + 1), batches, options_.batch_size, options_.progress);
        double loss_sum = 0;
        int64_t correct = 0, seen = 0;
        for (int64_t i = 0; i < batches; ++i) {
            Batch batch = loader.batch(i);
            TrainStep::Result r;
            try {
                r = step_->step(batch.inputs, batch.targets);
            } catch (const Error &e) {
                fail("epoch {}, batch {} of {}: {}", epochs_done_ + 1, i + 1, batches, e.what());
            }
            loss_sum += r.loss;
            correct += r.correct;
            seen += batch.inputs.size(0);
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

EpochStats finish_epoch(int64_t epoch, const EpochSums &sums, ProgressBar &bar, const optim::Optimizer &optimizer,
                        const std::function<EvalStats()> &validate,
                        const std::vector<std::function<void(const EpochStats &)>> &callbacks,
                        optim::LRScheduler *scheduler) {
    EpochStats stats;
    stats.epoch = epoch;
    stats.train_loss = sums.batches ? sums.loss_sum / static_cast<double>(sums.batches) : NAN;
    stats.train_accuracy = sums.seen ? static_cast<double>(sums.correct) / static_cast<double>(sums.seen) : NAN;
    stats.seconds = bar.elapsed_seconds();
    stats.examples_per_second = stats.seconds > 0 ? static_cast<double>(sums.seen) / stats.seconds : 0;
    stats.lr = optimizer.lr();
    stats.validation_loss = stats.validation_accuracy = NAN;
    std::vector<std::pair<std::string, double>> shown = {{"loss", stats.train_loss}, {"acc", stats.train_accuracy}};
    if (validate) {
        const EvalStats v = validate();
        stats.validation_loss = v.loss;
        stats.validation_accuracy = v.accuracy;
        shown.push_back({"val_loss", v.loss});
        shown.push_back({"val_acc", v.accuracy});
    }
    bar.finish(shown);
    for (auto &cb : callbacks) cb(stats);
    if (scheduler) scheduler->step();
    return stats;
}

EvalStats Trainer::evaluate(const Dataset &data) {
    data.check();
    const nn::TrainingModeScope evaluating(model_, false);
    // One compiled graph per distinct batch size (the full batches and the remainder).
    std::map<int64_t, CompiledGraph> graphs;
    std::vector<std::unique_ptr<Graph>> keep;
    auto graph_for = [&](int64_t n) -> CompiledGraph & {
        auto it = graphs.find(n);
        if (it != graphs.end()) return it->second;
        auto g = std::make_unique<Graph>();
        Shape in_shape = data.inputs.shape(), target_shape = data.targets.shape();
        in_shape[0] = target_shape[0] = n;
        SymTensor x = g->input("input", in_shape, data.inputs.dtype());
        SymTensor t = g->input("target", target_shape, data.targets.dtype());
        SymTensor out = model_.forward(x);
        // The mean loss over the batch, re-weighted by the batch size below.
        g->output("loss", loss_(out, t));
        if (out.dim() == 2 && data.targets.dtype() == DType::i32)
            g->output("correct", sum(cast(eq(argmax(out, 1), t), DType::i32)));
        const auto start = std::chrono::steady_clock::now();
        CompiledGraph &compiled = graphs.emplace(n, g->compile(options_.compile)).first->second;
        compile_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        keep.push_back(std::move(g));
        return compiled;
    };
    DataLoader loader(data, {options_.batch_size, false, 0, false});
    EvalStats stats;
    double loss_sum = 0;
    int64_t correct = 0;
    for (int64_t i = 0; i < loader.num_batches(); ++i) {
        Batch batch = loader.batch(i);
        const int64_t n = batch.inputs.size(0);
        const auto out = graph_for(n).run({{"input", batch.inputs}, {"target", batch.targets}});
        loss_sum += out.at("loss").item() * static_cast<double>(n);
        auto it = out.find("correct");
        if (it != out.end()) correct += static_cast<int64_t>(it->second.item());
        stats.examples += n;
    }
    stats.loss = loss_sum / static_cast<double>(stats.examples);
    stats.accuracy = static_cast<double>(correct) / static_cast<double>(stats.examples);
    return stats;
}

}  // namespace strata
