// A TrainStep (and a Trainer, whose step it is) built before `module.to(dtype)` would go on
// training the tensors the model no longer has: the next step says so, naming the tensor and
// both dtypes, instead of silently training nothing the user sees.
#include "frontend/functional.h"
#include "frontend/nn.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/train_step.h"
#include "frontend/train/trainer.h"
#include "runtime/random.h"

#include <catch2/catch.hpp>

#include "tests/support/error_message.h"

using namespace strata;
using Catch::Contains;
using strata::testing::error_message;

namespace {

SymTensor loss(const SymTensor &y, const SymTensor &t) { return cross_entropy(y, t); }

Tensor inputs(int64_t n) {
    Generator gen(1);
    return Tensor::randn({n, 3}, gen);
}
Tensor labels(int64_t n) {
    Tensor t = Tensor::zeros({n}, DType::i32);
    for (int64_t i = 0; i < n; ++i) t.set_flat(i, static_cast<double>(i % 2));
    return t;
}

}  // namespace

TEST_CASE("a TrainStep built before module.to(dtype) fails its next step naming the converted tensor") {
    manual_seed(0);
    nn::Linear net(3, 2);
    optim::SGD sgd(optim::SGDOptions(0.1));
    TrainStep step(*net, sgd, {4, 3}, {4}, DType::i32, loss);
    step.step(inputs(4), labels(4));
    net->to(DType::f64);
    const Tensor converted = net->weight.clone();
    const std::string message = error_message([&] { step.step(inputs(4), labels(4)); });
    CHECK_THAT(message, Contains("training step 2: the model's tensor 'weight' is not the one this step was built "
                                 "with (it is now f64 [2, 3], was f32 [2, 3])"));
    CHECK_THAT(message, Contains("Build the step (and the optimizer) after converting the model"));
    CHECK(net->weight.get_flat(0) == converted.get_flat(0));  // nothing ran

    // Built after the conversion, a step trains the f64 tensors.
    optim::SGD sgd64(optim::SGDOptions(0.1));
    TrainStep step64(*net, sgd64, {4, 3}, {4}, DType::i32, loss);
    step64.step(inputs(4).to(DType::f64), labels(4));
    CHECK(net->weight.dtype() == DType::f64);
    CHECK(net->weight.get_flat(0) != converted.get_flat(0));
}

TEST_CASE("a Trainer whose model was converted between two fits says so at the first step of the second") {
    manual_seed(0);
    nn::Linear net(3, 2);
    optim::SGD sgd(optim::SGDOptions(0.1));
    TrainerOptions options;
    options.batch_size = 4;
    options.progress = false;
    Trainer trainer(*net, sgd, loss, options);
    const Dataset data{inputs(8), labels(8)};
    trainer.fit(data);
    net->to(DType::f64);
    CHECK_THAT(error_message([&] { trainer.fit(data); }),
               Contains("epoch 2, batch 1 of 2: training step 3: the model's tensor 'weight' is not the one this step "
                        "was built with"));
}
