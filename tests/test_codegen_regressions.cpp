// Programs that once broke the compiler, kept compiling and checked against
// the "simple" schedule.

#include "frontend/functional.h"
#include "frontend/nn.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/train_step.h"
#include "runtime/generator.h"

#include <catch2/catch.hpp>

using namespace strata;

namespace {

/// One SGD step of Flatten + Linear(64, 3) on a batch of b 8x8 images; returns the loss and the new weight.
std::pair<double, Tensor> linear_step(int64_t b, const std::string &schedule) {
    manual_seed(5);
    nn::Sequential model(nn::Flatten(), nn::Linear(64, 3));
    optim::SGD sgd(optim::SGDOptions(0.1).momentum(0.9));
    TrainStepOptions options;
    options.compile.schedule = schedule;
    TrainStep step(*model, sgd, {b, 1, 8, 8}, {b}, DType::i32,
                   [](const SymTensor &y, const SymTensor &t) { return cross_entropy(y, t); }, options);
    Generator gen(9);
    Tensor x = Tensor::randn({b, 1, 8, 8}, gen);
    Tensor labels = Tensor::empty({b}, DType::i32);
    for (int64_t i = 0; i < b; ++i) labels.set_flat(i, static_cast<double>(i % 3));
    const double loss = step.step(x, labels).loss;
    return {loss, model->named_parameters()["1.weight"].clone()};
}

}  // namespace

TEST_CASE("a training step whose b x 3 gradient is transposed into a matmul compiles for b = 4..6") {
    // LLVM 14 aborted the process ("Invalid size request on a scalable vector") on the
    // 4-lane transposing copy this makes on AVX-512 targets.
    for (int64_t b : {4, 5, 6}) {
        INFO("batch " << b);
        const auto [loss, weight] = linear_step(b, "default");
        const auto [simple_loss, simple_weight] = linear_step(b, "simple");
        REQUIRE(loss == Approx(simple_loss).epsilon(1e-5));
        for (int64_t i = 0; i < weight.numel(); ++i)
            REQUIRE(weight.get_flat(i) == Approx(simple_weight.get_flat(i)).epsilon(1e-5).margin(1e-7));
    }
}
