#pragma once
// The tiny training run that tests/distributed_driver.cpp runs under mpirun and
// tests/test_distributed.cpp repeats in one process, so both build the same model,
// optimizer and data.

#include "frontend/functional.h"
#include "frontend/nn.h"
#include "frontend/optim/adam.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/data_loader.h"
#include "frontend/train/metrics.h"
#include "frontend/train/trainer.h"
#include "runtime/data/tensor_dataset.h"

#include "tests/support/synthetic_images.h"

#include <memory>
#include <string>

namespace strata::testing::distributed_setup {

/// Examples per global batch (split across the ranks) and the shuffling seed.
constexpr int64_t kGlobalBatch = 16;
constexpr uint64_t kShuffleSeed = 7;

/// With `batch_norm`, a BatchNorm2d after the convolution (its running statistics are
/// per-rank buffers, so only the ranks' agreement is checked, not one process).
inline nn::Sequential make_model(bool batch_norm = false) {
    if (batch_norm)
        return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::BatchNorm2d(4), nn::ReLU(),
                              nn::MaxPool2d(2), nn::Flatten(), nn::Linear(64, 3));
    return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
                          nn::Flatten(), nn::Linear(64, 3));
}

/// "sgd" (momentum 0.9) or "adam".
inline std::unique_ptr<optim::Optimizer> make_optimizer(const std::string &name) {
    if (name == "adam") return std::make_unique<optim::Adam>(optim::AdamOptions(0.01));
    if (name == "sgd") return std::make_unique<optim::SGD>(optim::SGDOptions(0.05).momentum(0.9));
    fail("distributed_setup: unknown optimizer '{}' (sgd or adam)", name);
}

inline SymTensor loss(const SymTensor &logits, const SymTensor &labels) { return cross_entropy(logits, labels); }

/// Global step `step` (0-based) reads batch `step % batches` of epoch `step / batches`.
inline int64_t batches_per_epoch() { return synthetic_images().size() / kGlobalBatch; }

// The named form (Trainer and DistributedTrainer with named batches, metrics and streaming):
// "image" -> "logits", loss on "label"; the first 21 examples (not a multiple of the ranks)
// validate.

inline ForwardFn named_forward(nn::Sequential &net) {
    return [&net](const SymMap &in) { return SymMap{{"logits", net->forward(in.at("image"))}}; };
}
inline SymTensor named_loss(const SymMap &out, const SymMap &targets) {
    return cross_entropy(out.at("logits"), targets.at("label"));
}
/// The training set (all examples) or the validation set, streamed from memory.
inline data::DatasetPtr named_dataset(bool validation) {
    const Dataset d = synthetic_images();
    const int64_t n = validation ? 21 : d.size();
    return std::make_shared<data::TensorDataset>(
        data::Example{{"image", d.inputs.slice(0, 0, n)}, {"label", d.targets.slice(0, 0, n)}});
}
inline StreamOptions named_stream() {
    StreamOptions stream;
    stream.inputs = {"image"};
    stream.num_workers = 1;
    return stream;
}
inline TrainerOptions named_options(int64_t epochs) {
    TrainerOptions options;
    options.epochs = epochs;
    options.batch_size = kGlobalBatch;
    options.seed = kShuffleSeed;
    options.progress = false;
    return options;
}
inline void add_named_metrics(Trainer &trainer) {
    trainer.add_metric(metrics::Accuracy()).on("logits", "label");
    trainer.add_metric(metrics::PrecisionRecallF1(3)).on("logits", "label");
}
/// Every epoch's values, "epoch:key=value;" with every digit, for exact comparisons.
inline std::string history_text(const std::vector<EpochStats> &history) {
    std::string out;
    for (const EpochStats &s : history)
        for (const auto &[key, value] : s.metrics) out += fmt::format("{}:{}={:.17g};", s.epoch, key, value);
    return out;
}

}  // namespace strata::testing::distributed_setup
