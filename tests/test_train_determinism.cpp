// Reproducible training: the same seeds give bit-identical losses and weights (a small CNN with
// BatchNorm and Dropout), another seed does not; dropout masks change from step to step through the
// graph's run counter yet repeat when the counter is rewound.
#include "frontend/functional.h"
#include "frontend/nn.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/data_loader.h"
#include "frontend/train/train_step.h"

#include <catch2/catch.hpp>

#include "tests/support/synthetic_images.h"

#include <cstring>
#include <vector>

using namespace strata;

namespace {

using strata::testing::synthetic_images;

struct RunResult {
    std::vector<double> losses;
    /// Every parameter and buffer (BatchNorm running statistics) at the end, by name.
    std::vector<std::pair<std::string, Tensor>> state;
};

/// Seeds the weights, dropout and shuffling with `seed` and trains two epochs.
RunResult train_run(uint64_t seed) {
    manual_seed(seed);
    nn::Sequential net(nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::BatchNorm2d(4), nn::ReLU(),
                       nn::MaxPool2d(2), nn::Flatten(), nn::Dropout(0.3), nn::Linear(64, 3));
    optim::SGD sgd(optim::SGDOptions(0.05).momentum(0.9));
    TrainStep step(*net, sgd, {16, 1, 8, 8}, {16}, DType::i32,
                   [](const SymTensor &y, const SymTensor &t) { return cross_entropy(y, t); });
    DataLoader loader(synthetic_images(), {16, true, seed, true});
    RunResult result;
    for (int64_t epoch = 0; epoch < 2; ++epoch) {
        loader.set_epoch(epoch);
        for (int64_t i = 0; i < loader.num_batches(); ++i) {
            const Batch b = loader.batch(i);
            result.losses.push_back(step.step(b.inputs, b.targets).loss);
        }
    }
    const auto params = net->named_parameters(), buffers = net->named_buffers();
    for (const auto &[name, t] : params.items()) result.state.push_back({name, t.clone()});
    for (const auto &[name, t] : buffers.items()) result.state.push_back({name, t.clone()});
    return result;
}

bool same_bits(const Tensor &a, const Tensor &b) {
    return a.dtype() == b.dtype() && a.shape() == b.shape() &&
           std::memcmp(a.contiguous().raw_data(), b.contiguous().raw_data(), a.nbytes()) == 0;
}

std::vector<double> values(const Tensor &t) {
    std::vector<double> out;
    for (int64_t i = 0; i < t.numel(); ++i) out.push_back(t.get_flat(i));
    return out;
}

}  // namespace

TEST_CASE("Two runs with the same seed train bit for bit alike and another seed differs",
          "[train][determinism]") {
    const RunResult a = train_run(5), b = train_run(5), c = train_run(6);
    REQUIRE(a.losses.size() == 6);
    // Bit-identical: compared with ==, not a tolerance.
    CHECK(a.losses == b.losses);
    REQUIRE(a.state.size() == b.state.size());
    REQUIRE(a.state.size() == 8);  // conv w/b, bn w/b, linear w/b, bn running mean/var
    for (size_t i = 0; i < a.state.size(); ++i) {
        INFO(a.state[i].first);
        CHECK(a.state[i].first == b.state[i].first);
        CHECK(same_bits(a.state[i].second, b.state[i].second));
    }
    // The loss went somewhere: training moved the weights.
    CHECK(a.losses.back() < a.losses.front());

    CHECK(a.losses != c.losses);
    for (size_t i = 0; i < a.state.size(); ++i) {
        INFO(a.state[i].first);
        CHECK(!same_bits(a.state[i].second, c.state[i].second));
    }
}

TEST_CASE("Dropout draws a new mask every run, reproducibly", "[train][determinism][dropout]") {
    manual_seed(11);
    nn::Dropout first(0.5), second(0.5);
    Graph g;
    SymTensor x = g.input("x", {256});
    first->train();
    g.output("a", first(x));
    g.output("b", second(x));
    CompiledGraph compiled = g.compile();
    const Tensor ones = Tensor::ones({256});

    std::vector<std::vector<double>> masks;
    for (int run = 0; run < 3; ++run) {
        CHECK(compiled.run_count() == run);
        const auto out = compiled.run({{"x", ones}});
        masks.push_back(values(out.at("a")));
        // Two layers in one graph draw different masks.
        CHECK(values(out.at("b")) != masks.back());
    }
    CHECK(masks[0] != masks[1]);
    CHECK(masks[1] != masks[2]);
    CHECK(masks[0] != masks[2]);

    // Rewinding the counter repeats the masks, as does giving the step explicitly.
    compiled.set_run_count(1);
    CHECK(values(compiled.run({{"x", ones}}).at("a")) == masks[1]);
    CHECK(compiled.run_count() == 2);
    const Tensor step0 = Tensor::full({}, 0.0, DType::i32);
    CHECK(values(compiled.run({{"x", ones}, {"rng.step", step0}}).at("a")) == masks[0]);
    CHECK(compiled.run_count() == 2);  // an explicit step does not advance the counter

    // A fresh compile of the same graph starts at step 0 again.
    CompiledGraph again = g.compile();
    CHECK(values(again.run({{"x", ones}}).at("a")) == masks[0]);

    // The same seed rebuilds the same layers, with the same masks.
    manual_seed(11);
    nn::Dropout rebuilt(0.5);
    Graph h;
    h.output("a", rebuilt(h.input("x", {256})));
    CHECK(values(h.compile().run({{"x", ones}}).at("a")) == masks[0]);
}
