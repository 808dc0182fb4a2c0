// nn module user errors: every bad option or input throws strata::Error naming the module and the values.
#include "frontend/nn.h"

#include <catch2/catch.hpp>

#include "tests/support/error_message.h"

#include <memory>
#include <string>

using namespace strata;
using Catch::Matchers::Contains;

namespace {

using strata::testing::error_message;

}  // namespace

// ---- constructors ----

TEST_CASE("Linear with a non-positive size", "[nn][errors]") {
    auto make = [] { nn::Linear(0, 10); };
    CHECK_THAT(error_message(make), Contains("Linear: in_features and out_features must be positive, got "
                                             "in_features=0, out_features=10"));
}

TEST_CASE("Conv2d with zero input channels", "[nn][errors]") {
    auto make = [] { nn::Conv2d(0, 6, 5); };
    CHECK_THAT(error_message(make), Contains("Conv2d: in_channels must be positive, got 0"));
}

TEST_CASE("Conv1d with negative output channels", "[nn][errors]") {
    auto make = [] { nn::Conv1d(3, -1, 5); };
    CHECK_THAT(error_message(make), Contains("Conv1d: out_channels must be positive, got -1"));
}

TEST_CASE("Conv2d with groups that do not divide in_channels", "[nn][errors]") {
    auto make = [] { nn::Conv2d(nn::Conv2dOptions(6, 8, 3).groups(4)); };
    CHECK_THAT(error_message(make), Contains("Conv2d: in_channels (6) must be divisible by groups (4)"));
}

TEST_CASE("Conv2d with groups that do not divide out_channels", "[nn][errors]") {
    auto make = [] { nn::Conv2d(nn::Conv2dOptions(8, 6, 3).groups(4)); };
    CHECK_THAT(error_message(make), Contains("Conv2d: out_channels (6) must be divisible by groups (4)"));
}

TEST_CASE("Conv2d with zero groups", "[nn][errors]") {
    auto make = [] { nn::Conv2d(nn::Conv2dOptions(8, 8, 3).groups(0)); };
    CHECK_THAT(error_message(make), Contains("Conv2d: groups must be positive, got 0"));
}

TEST_CASE("Conv2d with a zero kernel size", "[nn][errors]") {
    auto make = [] { nn::Conv2d(nn::Conv2dOptions(1, 1, {3, 0})); };
    CHECK_THAT(error_message(make), Contains("Conv2d: kernel_size must be positive, got [3, 0]"));
}

TEST_CASE("Conv2d with a kernel size of the wrong length", "[nn][errors]") {
    auto make = [] { nn::Conv2d(nn::Conv2dOptions(1, 1, {3, 3, 3})); };
    CHECK_THAT(error_message(make),
               Contains("Conv2d: kernel_size must have 2 values (one per spatial dimension), got [3, 3, 3]"));
}

TEST_CASE("Conv1d with a zero stride", "[nn][errors]") {
    auto make = [] { nn::Conv1d(nn::Conv1dOptions(1, 1, 3).stride(0)); };
    CHECK_THAT(error_message(make), Contains("Conv1d: stride must be positive, got [0]"));
}

TEST_CASE("Conv1d with a zero dilation", "[nn][errors]") {
    auto make = [] { nn::Conv1d(nn::Conv1dOptions(1, 1, 3).dilation(0)); };
    CHECK_THAT(error_message(make), Contains("Conv1d: dilation must be positive, got [0]"));
}

TEST_CASE("Conv2d with negative padding", "[nn][errors]") {
    auto make = [] { nn::Conv2d(nn::Conv2dOptions(1, 1, 3).padding({1, -1})); };
    CHECK_THAT(error_message(make), Contains("Conv2d: padding must be >= 0, got [1, -1]"));
}

TEST_CASE("Conv2d with padding of the wrong length", "[nn][errors]") {
    auto make = [] { nn::Conv2d(nn::Conv2dOptions(1, 1, 3).padding({1, 1, 1})); };
    CHECK_THAT(error_message(make),
               Contains("Conv2d: padding must have 1, 2 or 4 (asymmetric lo/hi) values, got [1, 1, 1]"));
}

TEST_CASE("Conv2d with padding same and a stride", "[nn][errors]") {
    auto make = [] { nn::Conv2d(nn::Conv2dOptions(1, 1, 3).stride(2).padding("same")); };
    CHECK_THAT(error_message(make),
               Contains("Conv2d: padding=\"same\" needs stride 1 (as in PyTorch), got stride [2, 2]"));
}

TEST_CASE("Conv1d with an unknown padding string", "[nn][errors]") {
    auto make = [] { nn::Conv1d(nn::Conv1dOptions(1, 1, 3).padding("full")); };
    CHECK_THAT(error_message(make),
               Contains("Conv1d: padding must be a number, a list, \"same\" or \"valid\", got \"full\""));
}

TEST_CASE("Conv1d with an unknown padding mode", "[nn][errors]") {
    auto make = [] { nn::Conv1d(nn::Conv1dOptions(1, 1, 3).padding_mode("mirror")); };
    CHECK_THAT(error_message(make),
               Contains("Conv1d: padding_mode must be \"zeros\", \"reflect\", \"replicate\" or \"circular\", "
                        "got \"mirror\""));
}

TEST_CASE("ConvTranspose2d with output_padding not below stride or dilation", "[nn][errors]") {
    auto make = [] { nn::ConvTranspose2d(nn::ConvTranspose2dOptions(4, 2, 3).stride(2).output_padding(2)); };
    CHECK_THAT(error_message(make),
               Contains("ConvTranspose2d: output_padding must be smaller than either stride or dilation, got "
                        "output_padding=[2, 2], stride=[2, 2], dilation=[1, 1]"));
}

TEST_CASE("ConvTranspose1d with groups that do not divide out_channels", "[nn][errors]") {
    auto make = [] { nn::ConvTranspose1d(nn::ConvTranspose1dOptions(4, 3, 3).groups(2)); };
    CHECK_THAT(error_message(make),
               Contains("ConvTranspose1d: out_channels (3) must be divisible by groups (2)"));
}

TEST_CASE("ConvTranspose1d with a padding mode other than zeros", "[nn][errors]") {
    auto make = [] { nn::ConvTranspose1d(nn::ConvTranspose1dOptions(4, 2, 3).padding_mode("reflect")); };
    CHECK_THAT(error_message(make),
               Contains("ConvTranspose1d: only padding_mode \"zeros\" is supported (as in "
                        "PyTorch), got \"reflect\""));
}

TEST_CASE("MaxPool2d with a zero kernel", "[nn][errors]") {
    auto make = [] { nn::MaxPool2d(0); };
    CHECK_THAT(error_message(make), Contains("MaxPool2d: kernel_size must be positive, got [0, 0]"));
}

TEST_CASE("MaxPool1d with padding over half the kernel", "[nn][errors]") {
    auto make = [] { nn::MaxPool1d(nn::MaxPool1dOptions(2).padding(2)); };
    CHECK_THAT(
        error_message(make),
        Contains("MaxPool1d: padding should be at most half of the effective kernel size, got padding=[2], "
                 "kernel_size=[2] and dilation=[1]"));
}

TEST_CASE("AvgPool2d with padding over half the kernel", "[nn][errors]") {
    auto make = [] { nn::AvgPool2d(nn::AvgPool2dOptions(3).padding({1, 2})); };
    CHECK_THAT(
        error_message(make),
        Contains("AvgPool2d: padding should be at most half of the kernel size, got padding=[1, 2] and "
                 "kernel_size=[3, 3]"));
}

TEST_CASE("AvgPool1d with a zero stride", "[nn][errors]") {
    auto make = [] { nn::AvgPool1d(nn::AvgPool1dOptions(3).stride(0)); };
    CHECK_THAT(error_message(make), Contains("AvgPool1d: stride must be positive, got [0]"));
}

TEST_CASE("AdaptiveAvgPool2d with a zero output size", "[nn][errors]") {
    auto make = [] { nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({0, 1})); };
    CHECK_THAT(error_message(make), Contains("AdaptiveAvgPool2d: output_size must be positive, got [0, 1]"));
}

TEST_CASE("BatchNorm2d with zero features", "[nn][errors]") {
    auto make = [] { nn::BatchNorm2d(0); };
    CHECK_THAT(error_message(make), Contains("BatchNorm2d: num_features must be positive, got 0"));
}

TEST_CASE("BatchNorm1d with a momentum outside (0, 1)", "[nn][errors]") {
    auto make = [] { nn::BatchNorm1d(nn::BatchNormOptions(4).momentum(1.5)); };
    CHECK_THAT(error_message(make), Contains("BatchNorm1d: momentum must be in [0, 1], got 1.5"));
}

TEST_CASE("BatchNorm2d with a negative eps", "[nn][errors]") {
    auto make = [] { nn::BatchNorm2d(nn::BatchNormOptions(4).eps(-1e-5)); };
    CHECK_THAT(error_message(make), Contains("BatchNorm2d: eps must be >= 0, got -1e-05"));
}

TEST_CASE("LayerNorm with an empty normalized_shape", "[nn][errors]") {
    auto make = [] { nn::LayerNorm(Ints{}); };
    CHECK_THAT(error_message(make), Contains("LayerNorm: normalized_shape must have at least one dim"));
}

TEST_CASE("LayerNorm with a zero extent", "[nn][errors]") {
    auto make = [] { nn::LayerNorm(Ints{4, 0}); };
    CHECK_THAT(error_message(make),
               Contains("LayerNorm: normalized_shape must have positive extents, got [4, 0]"));
}

TEST_CASE("Dropout with a negative probability", "[nn][errors]") {
    auto make = [] { nn::Dropout(-0.1); };
    CHECK_THAT(error_message(make), Contains("Dropout: probability p must be in [0, 1], got -0.1"));
}

TEST_CASE("Dropout with a probability above 1", "[nn][errors]") {
    auto make = [] { nn::Dropout(1.5); };
    CHECK_THAT(error_message(make), Contains("Dropout: probability p must be in [0, 1], got 1.5"));
}

TEST_CASE("GELU with an unknown approximation", "[nn][errors]") {
    auto make = [] { nn::GELU("fast"); };
    CHECK_THAT(error_message(make), Contains("GELU: approximate must be \"none\" or \"tanh\", got \"fast\""));
}

TEST_CASE("Softplus with a zero beta", "[nn][errors]") {
    auto make = [] { nn::Softplus(nn::SoftplusOptions().beta(0)); };
    CHECK_THAT(error_message(make), Contains("Softplus: beta must be positive and finite, got 0"));
}

// ---- module trees ----

TEST_CASE("registering two children under one name", "[nn][errors]") {
    nn::Sequential seq;
    seq->push_back("conv", nn::Conv2d(1, 1, 1));
    CHECK_THAT(
        error_message([&] { seq->push_back("conv", nn::ReLU()); }),
        Contains("Sequential: cannot register submodule 'conv': a parameter, buffer or submodule of that "
                 "name already exists"));
}

TEST_CASE("registering a name with a dot", "[nn][errors]") {
    auto m = std::make_shared<nn::Module>("Net");
    CHECK_THAT(error_message([&] { m->register_parameter("layer.weight", Tensor::zeros({2})); }),
               Contains("Net: parameter name 'layer.weight' must not contain '.'"));
}

TEST_CASE("registering an integer parameter", "[nn][errors]") {
    auto m = std::make_shared<nn::Module>("Net");
    CHECK_THAT(error_message([&] { m->register_parameter("steps", Tensor::zeros({1}, DType::i32)); }),
               Contains("Net: parameter 'steps' must be floating point (f32 or f64) to be trained, got i32"));
    m->register_buffer("steps", Tensor::zeros({1}, DType::i32));  // a buffer may be an integer
}

TEST_CASE("registering an empty holder", "[nn][errors]") {
    auto m = std::make_shared<nn::Module>("Net");
    CHECK_THAT(error_message([&] { m->register_module("fc", nn::Linear(nullptr)); }),
               Contains("Net: cannot register submodule 'fc': it is empty (nullptr)"));
}

TEST_CASE("registering a module inside itself", "[nn][errors]") {
    nn::Sequential outer, inner;
    outer->push_back("inner", inner);
    CHECK_THAT(error_message([&] { inner->push_back("outer", outer); }),
               Contains("Sequential: cannot register submodule 'outer': this module is already inside it"));
}

TEST_CASE("asking for a parameter a module does not have", "[nn][errors]") {
    nn::Linear fc(nn::LinearOptions(2, 2).bias(false));
    Graph g;
    auto x = g.input("x", {1, 2});
    CHECK_THAT(error_message([&] { fc->param(x, "bias"); }),
               Contains("Linear: no parameter or buffer named 'bias' (has: weight)"));
}

TEST_CASE("calling a container that has no forward", "[nn][errors]") {
    auto m = std::make_shared<nn::Module>("Backbone");
    Graph g;
    auto x = g.input("x", {1, 2});
    CHECK_THAT(error_message([&] { m->forward(x); }),
               Contains("Backbone: this module has no forward(SymTensor)"));
}

// ---- forward inputs ----

TEST_CASE("Conv2d on an input with the wrong channel count", "[nn][errors]") {
    nn::Conv2d conv(nn::Conv2dOptions(1, 6, 5).padding(2));
    Graph g;
    auto x = g.input("x", {2, 3, 28, 28});
    CHECK_THAT(error_message([&] { conv(x); }),
               Contains("Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2)): expected 1 input "
                        "channels (dim 1 of [N, C, H, W] or [C, H, W]), got shape [2, 3, 28, 28]"));
}

TEST_CASE("Conv1d on an input of the wrong rank", "[nn][errors]") {
    nn::Conv1d conv(3, 4, 5);
    Graph g;
    auto x = g.input("x", {2, 3, 8, 8});
    CHECK_THAT(error_message([&] { conv(x); }),
               Contains("expected a 2-d or 3-d input [N, C, L] or [C, L], got shape [2, 3, 8, 8]"));
}

TEST_CASE("Linear on an input with the wrong last dim", "[nn][errors]") {
    nn::Linear fc(400, 120);
    Graph g;
    auto x = g.input("x", {2, 16, 5, 5});
    CHECK_THAT(
        error_message([&] { fc(x); }),
        Contains("Linear(400, 120): expected an input whose last dim is 400, got shape [2, 16, 5, 5]"));
}

TEST_CASE("BatchNorm2d on a 3-d input", "[nn][errors]") {
    nn::BatchNorm2d bn(4);
    Graph g;
    auto x = g.input("x", {2, 4, 5});
    CHECK_THAT(error_message([&] { bn(x); }),
               Contains("BatchNorm2d(4): expected a 4-d input [N, C, H, W], got shape [2, 4, 5]"));
}

TEST_CASE("BatchNorm1d on an input with the wrong channel count", "[nn][errors]") {
    nn::BatchNorm1d bn(4);
    Graph g;
    auto x = g.input("x", {2, 5});
    CHECK_THAT(error_message([&] { bn(x); }),
               Contains("BatchNorm1d(4): expected 4 channels (dim 1), got shape [2, 5]"));
}

TEST_CASE("LayerNorm on an input with other trailing dims", "[nn][errors]") {
    nn::LayerNorm ln(Ints{8});
    Graph g;
    auto x = g.input("x", {2, 4});
    CHECK_THAT(error_message([&] { ln(x); }),
               Contains("LayerNorm([8]): expected an input whose trailing dims are [8], got shape [2, 4]"));
}

TEST_CASE("MaxPool2d on a 2-d input", "[nn][errors]") {
    nn::MaxPool2d pool(2);
    Graph g;
    auto x = g.input("x", {4, 4});
    CHECK_THAT(
        error_message([&] { pool(x); }),
        Contains("MaxPool2d: expected a 3-d or 4-d input ([N, C, H, W] or [C, H, W]), got shape [4, 4]"));
}
