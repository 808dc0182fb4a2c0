// "Detect anomaly": find_first_non_finite names the input holding a NaN, or the first op that
// made a NaN or an infinity from finite inputs, in a program where fusion hides which op it was.
// Each expected answer is worked out by hand from the input values.
#include "frontend/debug/anomaly.h"
#include "frontend/functional.h"
#include "frontend/graph.h"
#include "frontend/nn.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/train_step.h"

#include <catch2/catch.hpp>

#include "tests/support/error_message.h"

#include <cmath>
#include <limits>

using namespace strata;
using Catch::Matchers::Contains;

TEST_CASE("The first op to make a non-finite value is named, not the ops it flows through",
          "[robust][anomaly]") {
    Graph g;
    auto x = g.input("x", {2, 3});
    // sqrt(x - 1) is NaN where x < 1; the scaling and the sum only carry it on.
    auto shifted = x - 1.0;
    auto root = sqrt(shifted);
    g.output("y", sum(root * 2.0 + 1.0));
    const Tensor input = Tensor::from_vector<float>({4, 9, 2, 1, 0.5f, 5}, {2, 3});
    const auto found = find_first_non_finite(g, {{"x", input}});
    REQUIRE(found.has_value());
    CHECK(found->op == "sqrt");
    CHECK(found->label == root.node()->label());
    CHECK(found->element == 4);  // x = 0.5 is the first element below 1
    CHECK(std::isnan(found->value));
    CHECK_THAT(found->message, Contains("sqrt") && Contains("element 4") && Contains("finite inputs"));
    // And the compiled program really does give NaN, which is why one would look.
    CHECK(std::isnan(g.compile().run({{"x", input}}).at("y").get_flat(0)));
}

TEST_CASE("An infinity from a division by zero is found at its op", "[robust][anomaly]") {
    Graph g;
    auto a = g.input("a", {4});
    auto b = g.input("b", {4});
    auto ratio = a / b;
    g.output("y", relu(ratio) + 1.0);
    const auto found = find_first_non_finite(g, {{"a", Tensor::from_vector<float>({1, 2, 3, 4})},
                                                 {"b", Tensor::from_vector<float>({1, 1, 0, 2})}});
    REQUIRE(found.has_value());
    CHECK(found->op == "div");
    CHECK(found->element == 2);
    CHECK(found->value == std::numeric_limits<double>::infinity());
}

TEST_CASE("A NaN already in an input or a parameter is reported as that source", "[robust][anomaly]") {
    Graph g;
    auto x = g.input("x", {3});
    Tensor weight = Tensor::from_vector<float>({1, 2, 3});
    auto w = g.parameter("w", weight);
    g.output("y", sum(x * w));
    const float nan = std::numeric_limits<float>::quiet_NaN();

    auto in_input = find_first_non_finite(g, {{"x", Tensor::from_vector<float>({0, nan, 1})}});
    REQUIRE(in_input.has_value());
    CHECK(in_input->label == "input 'x'");
    CHECK(in_input->element == 1);
    CHECK_THAT(in_input->message, Contains("input 'x'") && Contains("f32[3]") && Contains("element 1"));

    weight.set_flat(2, -std::numeric_limits<double>::infinity());
    auto in_parameter = find_first_non_finite(g, {{"x", Tensor::from_vector<float>({0, 1, 1})}});
    REQUIRE(in_parameter.has_value());
    CHECK(in_parameter->label == "parameter 'w'");
    CHECK(in_parameter->element == 2);
}

TEST_CASE("A program whose values are all finite reports nothing", "[robust][anomaly]") {
    Graph g;
    auto x = g.input("x", {2, 2}, DType::f64);
    g.output("y", log(exp(x) + 1.0));
    CHECK_FALSE(find_first_non_finite(g, {{"x", Tensor::from_vector<double>({-3, 0, 2, 700}, {2, 2})}}));
}

namespace {

/// Linear(3, 2) with weight [[1, 1, 1], [1, -1, 1]] and bias 0: for the batch [[1, 2, 3], [1, 4, 1]]
/// its output is [[6, 2], [6, -2]], so sqrt(output) is NaN at element 3 (and only there).
nn::Linear linear_with_a_negative_output() {
    nn::Linear net(3, 2);
    const auto params = net->named_parameters();  // kept alive: items() refers into it
    for (const auto &[name, t] : params.items()) {
        Tensor p = t;
        const std::vector<double> values = name == "weight" ? std::vector<double>{1, 1, 1, 1, -1, 1}
                                                            : std::vector<double>{0, 0};
        for (int64_t i = 0; i < p.numel(); ++i) p.set_flat(i, values[static_cast<size_t>(i)]);
    }
    return net;
}

Tensor batch_with_a_negative_output() { return Tensor::from_vector<float>({1, 2, 3, 1, 4, 1}, {2, 3}); }

/// A step whose loss is mean(sqrt(model(x))) (the target is not read). Where the loss is NaN, so
/// is sqrt's gradient, and the update makes the weights NaN too.
std::unique_ptr<TrainStep> sqrt_loss_step(nn::Module &net, optim::Optimizer &opt, bool detect_anomaly) {
    TrainStepOptions options;
    options.detect_anomaly = detect_anomaly;
    return std::make_unique<TrainStep>(
        net, opt, Shape{2, 3}, Shape{2}, DType::f32,
        [](const SymTensor &y, const SymTensor &) { return mean(sqrt(y)); }, options);
}

}  // namespace

TEST_CASE("A training step with detect_anomaly names the op that made its loss NaN", "[robust][anomaly][train]") {
    nn::Linear net = linear_with_a_negative_output();
    optim::SGD sgd(optim::SGDOptions(0.1).momentum(0.9));
    auto step = sqrt_loss_step(*net, sgd, true);
    const std::string message =
        strata::testing::error_message([&] { step->step(batch_with_a_negative_output(), Tensor::zeros({2})); });
    CHECK_THAT(message, Contains("training step 1: the loss is") && Contains("nan"));
    CHECK_THAT(message, Contains("(sqrt) produced") && Contains("nan at element 3") && Contains("f32[2,2]"));
    // The step's update has made the weights of output 1 NaN, so naming sqrt (not 'weight') shows
    // the search ran on the values from before the step.
    CHECK(std::isnan(net->named_parameters()["weight"].get_flat(3)));
    CHECK_THAT(message, !Contains("parameter"));
}

TEST_CASE("A training step with detect_anomaly names an infinity in the batch", "[robust][anomaly][train]") {
    nn::Linear net = linear_with_a_negative_output();
    optim::SGD sgd(optim::SGDOptions(0.1));
    TrainStepOptions options;
    options.detect_anomaly = true;
    TrainStep step(*net, sgd, Shape{2, 3}, Shape{2, 2}, DType::f32,
                   [](const SymTensor &y, const SymTensor &t) { return mse_loss(y, t); }, options);
    Tensor batch = batch_with_a_negative_output();
    batch.set_flat(4, std::numeric_limits<double>::infinity());
    const std::string message = strata::testing::error_message([&] { step.step(batch, Tensor::zeros({2, 2})); });
    CHECK_THAT(message, Contains("loss is inf") && Contains("input 'input' (f32[2,3]) holds inf at element 4"));
}

TEST_CASE("Without detect_anomaly a non-finite loss says how to find its source", "[robust][anomaly][train]") {
    nn::Linear net = linear_with_a_negative_output();
    optim::SGD sgd(optim::SGDOptions(0.1));
    auto step = sqrt_loss_step(*net, sgd, false);
    const std::string message =
        strata::testing::error_message([&] { step->step(batch_with_a_negative_output(), Tensor::zeros({2})); });
    CHECK_THAT(message, Contains("training step 1: the loss is") && Contains("nan") && Contains("detect_anomaly"));
    CHECK_THAT(message, !Contains("(sqrt)"));
}

TEST_CASE("detect_anomaly leaves finite training steps unchanged, bit for bit", "[robust][anomaly][train]") {
    // Both runs start from the same weights; the batch keeps every output positive.
    const Tensor batch = Tensor::from_vector<float>({1, 2, 3, 1, 1, 4}, {2, 3});
    std::vector<double> losses[2];
    std::vector<double> weights[2];
    for (const bool detect : {false, true}) {
        nn::Linear net = linear_with_a_negative_output();
        optim::SGD sgd(optim::SGDOptions(0.01).momentum(0.9));
        auto step = sqrt_loss_step(*net, sgd, detect);
        for (int i = 0; i < 3; ++i) losses[detect].push_back(step->step(batch, Tensor::zeros({2})).loss);
        const auto params = net->named_parameters();
        for (const auto &[name, t] : params.items())
            for (int64_t i = 0; i < t.numel(); ++i) weights[detect].push_back(t.get_flat(i));
    }
    CHECK(losses[0] == losses[1]);
    CHECK(weights[0] == weights[1]);
    CHECK(losses[0][2] < losses[0][0]);  // it did train
}
