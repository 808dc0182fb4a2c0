// nn::init and the modules' default initialisation: PyTorch's bounds, fans and seeded reproducibility.
#include "frontend/nn.h"

#include <catch2/catch.hpp>

#include "tests/support/error_message.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

using namespace strata;
using Catch::Matchers::Contains;

namespace {

using strata::testing::error_message;

std::vector<double> values(const Tensor &t) {
    std::vector<double> out;
    for (int64_t i = 0; i < t.numel(); ++i) out.push_back(t.get_flat(i));
    return out;
}

double max_abs(const Tensor &t) {
    double m = 0.0;
    for (double v : values(t)) m = std::max(m, std::abs(v));
    return m;
}

/// Every element lies in [-bound, bound] (a relative slack for the f32 rounding
/// of the bound), and the largest is close to the bound (so the scale is not
/// smaller than it should be).
void check_uniform_bound(const Tensor &t, double bound, const std::string &what) {
    INFO(what << ": bound " << bound);
    CHECK(max_abs(t) <= bound * (1.0 + 1e-6));
    if (t.numel() >= 100) CHECK(max_abs(t) >= 0.9 * bound);
}

nn::Sequential lenet5() {
    return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)), nn::ReLU(), nn::MaxPool2d(2),
                          nn::Conv2d(nn::Conv2dOptions(6, 16, 5)), nn::ReLU(), nn::MaxPool2d(2),
                          nn::Flatten(), nn::Linear(400, 120), nn::ReLU(), nn::Linear(120, 84), nn::ReLU(),
                          nn::Linear(84, 10));
}

}  // namespace

TEST_CASE("LeNet-5 weights and biases lie within 1/sqrt(fan_in)", "[nn][init]") {
    manual_seed(0);
    nn::Sequential net = lenet5();
    const auto params = net->named_parameters();
    // fan_in = C_in * kh * kw for convolutions, in_features for Linear.
    const std::vector<std::pair<std::string, double>> fans = {
        {"0", 1 * 25}, {"3", 6 * 25}, {"7", 400}, {"9", 120}, {"11", 84}};
    for (const auto &[layer, fan_in] : fans) {
        const double bound = 1.0 / std::sqrt(fan_in);
        check_uniform_bound(params[layer + ".weight"], bound, layer + ".weight");
        check_uniform_bound(params[layer + ".bias"], bound, layer + ".bias");
    }
}

TEST_CASE("manual_seed makes module initialisation reproducible", "[nn][init]") {
    manual_seed(0);
    nn::Sequential a = lenet5();
    manual_seed(0);
    nn::Sequential b = lenet5();
    nn::Sequential c = lenet5();  // continues the stream: different values
    const auto pa = a->named_parameters(), pb = b->named_parameters(), pc = c->named_parameters();
    for (const auto &[name, t] : pa) {
        INFO(name);
        CHECK(values(t) == values(pb[name]));
        CHECK(values(t) != values(pc[name]));
    }
    manual_seed(1);
    nn::Sequential d = lenet5();
    CHECK(values(d->named_parameters()["0.weight"]) != values(pa["0.weight"]));
}

TEST_CASE("the default uniform init has the variance of U(-b, b)", "[nn][init]") {
    manual_seed(7);
    nn::Linear fc(256, 256);
    const double bound = 1.0 / 16.0;
    double sum = 0.0, sum_sq = 0.0;
    for (double v : values(fc->weight)) {
        sum += v;
        sum_sq += v * v;
    }
    const double n = static_cast<double>(fc->weight.numel());
    CHECK(std::abs(sum / n) < 0.01 * bound);
    CHECK(sum_sq / n == Approx(bound * bound / 3.0).epsilon(0.02));
}

TEST_CASE("grouped and transposed convolutions use PyTorch's fan_in", "[nn][init]") {
    manual_seed(3);
    // Conv: fan_in = (C_in / groups) * prod(kernel) = (8 / 4) * 3 * 5.
    nn::Conv2d grouped(nn::Conv2dOptions(8, 64, {3, 5}).groups(4));
    check_uniform_bound(grouped->weight, 1.0 / std::sqrt(2.0 * 15), "grouped conv weight");
    check_uniform_bound(grouped->bias, 1.0 / std::sqrt(2.0 * 15), "grouped conv bias");
    // ConvTranspose: weight [C_in, C_out / groups, k...]; fan_in from dim 1 = 64 * 9 (not 2 * 9).
    nn::ConvTranspose2d up(nn::ConvTranspose2dOptions(2, 64, 3));
    CHECK(up->weight.shape() == Shape{2, 64, 3, 3});
    check_uniform_bound(up->weight, 1.0 / std::sqrt(64.0 * 9), "conv transpose weight");
    check_uniform_bound(up->bias, 1.0 / std::sqrt(64.0 * 9), "conv transpose bias");
    nn::ConvTranspose1d up1(nn::ConvTranspose1dOptions(4, 200, 7).groups(2));
    check_uniform_bound(up1->weight, 1.0 / std::sqrt(100.0 * 7), "grouped conv transpose 1d weight");
    nn::Conv1d conv1(nn::Conv1dOptions(3, 32, 201));
    check_uniform_bound(conv1->weight, 1.0 / std::sqrt(3.0 * 201), "long conv1d weight");
}

TEST_CASE("normalisation layers start at weight 1, bias 0", "[nn][init]") {
    nn::LayerNorm ln(nn::LayerNormOptions({3, 4}));
    CHECK(ln->weight.shape() == Shape{3, 4});
    for (double v : values(ln->weight)) CHECK(v == 1.0);
    for (double v : values(ln->bias)) CHECK(v == 0.0);
    nn::LayerNorm plain(nn::LayerNormOptions({4}).elementwise_affine(false));
    CHECK(plain->named_parameters().empty());
}

TEST_CASE("calculate_fan_in_and_fan_out and calculate_gain match PyTorch", "[nn][init]") {
    auto fans = nn::init::calculate_fan_in_and_fan_out(Tensor::empty({16, 6, 5, 5}));
    CHECK(fans.first == 150);
    CHECK(fans.second == 400);
    fans = nn::init::calculate_fan_in_and_fan_out(Tensor::empty({10, 84}));
    CHECK(fans.first == 84);
    CHECK(fans.second == 10);
    CHECK(nn::init::calculate_gain("linear") == 1.0);
    CHECK(nn::init::calculate_gain("conv2d") == 1.0);
    CHECK(nn::init::calculate_gain("sigmoid") == 1.0);
    CHECK(nn::init::calculate_gain("tanh") == Approx(5.0 / 3.0));
    CHECK(nn::init::calculate_gain("relu") == Approx(std::sqrt(2.0)));
    CHECK(nn::init::calculate_gain("leaky_relu") == Approx(std::sqrt(2.0 / (1.0 + 0.01 * 0.01))));
    CHECK(nn::init::calculate_gain("leaky_relu", std::sqrt(5.0)) == Approx(std::sqrt(1.0 / 3.0)));
    CHECK(nn::init::calculate_gain("selu") == 0.75);
}

TEST_CASE("init functions fill the module's own storage", "[nn][init]") {
    nn::Linear fc(3, 2);
    nn::init::constant_(fc->weight, 0.5);
    for (double v : values(fc->named_parameters()["weight"])) CHECK(v == 0.5);
    nn::init::zeros_(fc->bias);
    for (double v : values(fc->named_parameters()["bias"])) CHECK(v == 0.0);

    Generator gen(11);
    Tensor w = Tensor::empty({64, 32});
    nn::init::xavier_uniform_(w, 1.0, gen);
    check_uniform_bound(w, std::sqrt(6.0 / (64 + 32)), "xavier_uniform_");
    nn::init::kaiming_uniform_(w, 0.0, "fan_out", "relu", gen);
    check_uniform_bound(w, std::sqrt(2.0) * std::sqrt(3.0 / 64), "kaiming_uniform_ fan_out");
    // An explicit generator gives the same values from the same seed.
    Generator g1(5), g2(5);
    Tensor a = Tensor::empty({100}, DType::f64), b = Tensor::empty({100}, DType::f64);
    nn::init::normal_(a, 1.0, 2.0, g1);
    nn::init::normal_(b, 1.0, 2.0, g2);
    CHECK(values(a) == values(b));
}

TEST_CASE("init functions reject what PyTorch rejects", "[nn][init]") {
    Tensor vec = Tensor::empty({5});
    CHECK_THAT(error_message([&] { nn::init::calculate_fan_in_and_fan_out(vec); }),
               Contains("at least 2 dims, got shape [5]"));
    Tensor w = Tensor::empty({4, 4});
    CHECK_THAT(error_message([&] { nn::init::kaiming_uniform_(w, 0.0, "fan_avg"); }),
               Contains("kaiming_uniform_: mode must be \"fan_in\" or \"fan_out\", got \"fan_avg\""));
    CHECK_THAT(error_message([] { nn::init::calculate_gain("swish"); }),
               Contains("unsupported nonlinearity \"swish\""));
    Tensor ints = Tensor::zeros({2, 2}, DType::i32);
    CHECK_THAT(error_message([&] { nn::init::uniform_(ints, -1, 1); }),
               Contains("uniform_: expected a floating-point tensor (f32 or f64), got i32"));
}
