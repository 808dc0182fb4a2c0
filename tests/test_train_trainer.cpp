// The Trainer as a user drives it: evaluate() leaves the model's mode as it found it, and
// class targets outside [0, C) stop training with an error naming the batch, position and value.
#include "frontend/functional.h"
#include "frontend/nn.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/trainer.h"
#include "runtime/random.h"

#include <catch2/catch.hpp>

#include "tests/support/synthetic_images.h"

using namespace strata;
using Catch::Matchers::Contains;

namespace {

/// A small CNN whose mode matters: batch norm and dropout.
nn::Sequential make_net() {
    manual_seed(3);
    return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::BatchNorm2d(4), nn::ReLU(),
                          nn::MaxPool2d(2), nn::Flatten(), nn::Dropout(0.3), nn::Linear(64, 3));
}

SymTensor loss(const SymTensor &y, const SymTensor &t) { return cross_entropy(y, t); }

/// The training flag of the model and of each of its descendants.
std::vector<bool> modes(nn::Module &m) {
    std::vector<bool> out = {m.is_training()};
    for (const auto &[name, child] : m.named_modules()) out.push_back(child->is_training());
    return out;
}

}  // namespace

TEST_CASE("Trainer::evaluate gives the model back in the mode it had", "[train][trainer]") {
    const Dataset data = testing::synthetic_images();
    nn::Sequential net = make_net();
    optim::SGD sgd(optim::SGDOptions(0.01));
    TrainerOptions options;
    options.batch_size = 16;
    options.progress = false;
    Trainer trainer(*net, sgd, loss, options);

    net->eval();
    trainer.evaluate(data);
    CHECK_FALSE(net->is_training());
    for (bool training : modes(*net)) CHECK_FALSE(training);

    net->train();
    trainer.evaluate(data);
    for (bool training : modes(*net)) CHECK(training);

    // A mixed tree (only the dropout in eval) comes back mixed.
    net->train();
    (*net)[5]->eval();
    const std::vector<bool> mixed = modes(*net);
    trainer.evaluate(data);
    CHECK(modes(*net) == mixed);
}

TEST_CASE("Trainer: a class target out of range stops training with its batch, position and value",
          "[train][trainer][errors]") {
    Dataset data = testing::synthetic_images();
    data.targets = data.targets.clone();
    data.targets.set_flat(21, 3.0);  // 3 classes: valid targets are 0, 1, 2
    nn::Sequential net = make_net();
    optim::SGD sgd(optim::SGDOptions(0.01));
    TrainerOptions options;
    options.batch_size = 16;
    options.progress = false;
    options.shuffle = false;
    options.epochs = 1;
    Trainer trainer(*net, sgd, loss, options);
    try {
        trainer.fit(data);
        FAIL("fit accepted a target of 3 with 3 classes");
    } catch (const Error &e) {
        const std::string message = e.what();
        CHECK_THAT(message, Contains("batch 2 of 3"));
        CHECK_THAT(message, Contains("label 3 at position 5 of the batch is outside [0, 3)"));
    }
    // evaluate() runs the loss graph, which checks its targets itself.
    CHECK_THROWS_WITH(trainer.evaluate(data), Contains("3 is out of bounds as the class target at position [ 5 ]"));
}
