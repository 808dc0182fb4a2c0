#pragma once
// The tiny training run that tests/distributed_driver.cpp runs under mpirun and
// tests/test_distributed.cpp repeats in one process, so both build the same model,
// optimizer and data.

#include "frontend/functional.h"
#include "frontend/nn.h"
#include "frontend/optim/adam.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/data_loader.h"

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

}  // namespace strata::testing::distributed_setup
