// Programs that once broke the compiler, kept compiling and checked against
// the "simple" schedule.

#include "codegen/compiler.h"
#include "frontend/functional.h"
#include "frontend/nn.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/train_step.h"
#include "runtime/generator.h"

#include <catch2/catch.hpp>

#include <algorithm>

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

TEST_CASE("a chain of 200 pointwise ops stores every few dozen nodes instead of inlining one huge expression") {
    // Halide inlines one Func at a time and simplifies the grown expression each time: 2,000
    // inlined ops took minutes to compile, 400 about 40 s. Every 33rd node is stored instead.
    Graph g;
    auto x = g.input("x", {64});
    auto y = x;
    for (int i = 0; i < 200; ++i) y = i % 2 ? relu(y) * 1.0001 : y + 0.25;
    g.output("y", y);
    const std::string schedule = codegen::schedule_in_effect(g.program(), {});
    size_t stored = 0;
    for (size_t at = schedule.find("compute=root"); at != std::string::npos; at = schedule.find("compute=root", at + 1))
        ++stored;
    INFO(schedule);
    CHECK(stored >= 6);  // 300 pointwise nodes (relu, mul and add): about one stored per 33
    CHECK(stored <= 300 / 20);
    // The numbers of the chain, computed here.
    double expected = 1.5;
    for (int i = 0; i < 200; ++i) expected = i % 2 ? std::max(expected, 0.0) * 1.0001 : expected + 0.25;
    const Tensor out = g.compile().run({{"x", Tensor::from_vector(std::vector<float>(64, 1.5f))}}).at("y");
    for (int64_t i = 0; i < 64; ++i) CHECK(out.get_flat(i) == Approx(expected).margin(1e-4));
}
