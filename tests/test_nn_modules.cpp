// nn modules: LeNet-5 names and shapes, module trees, buffers, train/eval and graph building.
#include "frontend/nn.h"

#include <catch2/catch.hpp>

#include "tests/support/error_message.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

using namespace strata;
using Catch::Matchers::Contains;

namespace {

using strata::testing::error_message;

/// The output shape of `module` on an input of `shape`, in a fresh graph.
Shape output_shape(nn::Module &module, const Shape &shape) {
    Graph g;
    return module.forward(g.input("x", shape)).shape();
}

/// LeNet-5 (PyTorch's usual MNIST variant): 1x28x28 -> 10 logits.
nn::Sequential lenet5() {
    return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)), nn::ReLU(), nn::MaxPool2d(2),
                          nn::Conv2d(nn::Conv2dOptions(6, 16, 5)), nn::ReLU(), nn::MaxPool2d(2),
                          nn::Flatten(), nn::Linear(400, 120), nn::ReLU(), nn::Linear(120, 84), nn::ReLU(),
                          nn::Linear(84, 10));
}

/// A model with nested children, as a user would write one.
struct TinyNetImpl : nn::Module {
    TinyNetImpl() {
        features =
            register_module("features", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)),
                                                       nn::BatchNorm2d(4), nn::ReLU()));
        pool = register_module("pool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})));
        head = register_module("head", nn::Linear(4, 3));
    }
    SymTensor forward(const SymTensor &x) override { return head(flatten(pool(features(x)), 1)); }

    nn::Sequential features{nullptr};
    nn::AdaptiveAvgPool2d pool{nullptr};
    nn::Linear head{nullptr};
};
STRATA_MODULE(TinyNet);

}  // namespace

TEST_CASE("LeNet-5 built with Sequential has PyTorch's parameter names and shapes", "[nn][modules]") {
    nn::Sequential net = lenet5();
    const auto params = net->named_parameters();
    const std::vector<std::string> names = {"0.weight", "0.bias",   "3.weight", "3.bias",    "7.weight",
                                            "7.bias",   "9.weight", "9.bias",   "11.weight", "11.bias"};
    CHECK(params.keys() == names);
    CHECK(params["0.weight"].shape() == Shape{6, 1, 5, 5});
    CHECK(params["0.bias"].shape() == Shape{6});
    CHECK(params["3.weight"].shape() == Shape{16, 6, 5, 5});
    CHECK(params["3.bias"].shape() == Shape{16});
    CHECK(params["7.weight"].shape() == Shape{120, 400});
    CHECK(params["7.bias"].shape() == Shape{120});
    CHECK(params["9.weight"].shape() == Shape{84, 120});
    CHECK(params["9.bias"].shape() == Shape{84});
    CHECK(params["11.weight"].shape() == Shape{10, 84});
    CHECK(params["11.bias"].shape() == Shape{10});
    for (const auto &[name, t] : params) CHECK(t.dtype() == DType::f32);
    CHECK(net->parameters().size() == 10);
    CHECK(net->named_buffers().empty());
    CHECK(net->size() == 12);
}

TEST_CASE("LeNet-5 has exactly 61706 parameters", "[nn][modules]") {
    CHECK(lenet5()->parameter_count() == 61706);
}

TEST_CASE("LeNet-5 forward builds a graph with a (2, 10) output", "[nn][modules]") {
    nn::Sequential net = lenet5();
    Graph g;
    auto x = g.input("x", {2, 1, 28, 28});
    auto y = net->forward(x);
    CHECK(y.shape() == Shape{2, 10});
    // operator() on the holder is the same forward.
    CHECK(net(x).shape() == Shape{2, 10});
    // Every parameter entered the graph under its full name, sharing storage.
    for (const auto &[name, t] : net->named_parameters()) {
        INFO(name);
        REQUIRE(g.parameter_values().count(name) == 1);
        CHECK(g.parameter_values().at(name).raw_data() == t.raw_data());
    }
    CHECK(g.parameter_values().size() == 10);
}

TEST_CASE("intermediate shapes of LeNet-5 follow PyTorch", "[nn][modules]") {
    nn::Sequential net = lenet5();
    Graph g;
    SymTensor x = g.input("x", {3, 1, 28, 28});
    const std::vector<Shape> expected = {{3, 6, 28, 28},  {3, 6, 28, 28}, {3, 6, 14, 14}, {3, 16, 10, 10},
                                         {3, 16, 10, 10}, {3, 16, 5, 5},  {3, 400},       {3, 120},
                                         {3, 120},        {3, 84},        {3, 84},        {3, 10}};
    for (size_t i = 0; i < net->size(); ++i) {
        x = (*net)[i]->forward(x);
        INFO("module " << i << ": " << (*net)[i]->name());
        CHECK(x.shape() == expected[i]);
    }
}

TEST_CASE("nested modules get dotted names and the graph uses them", "[nn][modules]") {
    TinyNet net;
    const std::vector<std::string> params = {"features.0.weight", "features.0.bias", "features.1.weight",
                                             "features.1.bias",   "head.weight",     "head.bias"};
    CHECK(net->named_parameters().keys() == params);
    const std::vector<std::string> buffers = {"features.1.running_mean", "features.1.running_var"};
    CHECK(net->named_buffers().keys() == buffers);
    CHECK(net->named_children().keys() == std::vector<std::string>{"features", "pool", "head"});
    CHECK(net->named_modules().keys() ==
          std::vector<std::string>{"features", "features.0", "features.1", "features.2", "pool", "head"});
    // Names relative to a child, as in PyTorch.
    CHECK(net->features->named_parameters().keys() ==
          std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias"});
    // Full paths, used as graph names.
    CHECK(net->features->prefix() == "features");
    CHECK((*net->features)[1]->full_name("running_mean") == "features.1.running_mean");

    Graph g;
    auto y = net(g.input("x", {2, 1, 8, 8}));
    CHECK(y.shape() == Shape{2, 3});
    for (const std::string &name : params) CHECK(g.parameter_values().count(name) == 1);
    for (const std::string &name : buffers) CHECK(g.parameter_values().count(name) == 1);
}

TEST_CASE("prefixes follow a module registered into a parent that is registered later", "[nn][modules]") {
    nn::Sequential inner(nn::Linear(3, 4));
    nn::Sequential middle;
    middle->push_back("inner", inner);  // middle is not yet in a tree
    CHECK((*inner)[0]->full_name("weight") == "inner.0.weight");
    auto root = std::make_shared<nn::Module>("Root");
    root->register_module("body", middle);
    CHECK(middle->prefix() == "body");
    CHECK(inner->prefix() == "body.inner");
    CHECK((*inner)[0]->full_name("weight") == "body.inner.0.weight");
    CHECK(root->named_parameters().keys() ==
          std::vector<std::string>{"body.inner.0.weight", "body.inner.0.bias"});

    Graph g;
    auto y = middle(g.input("x", {5, 3}));
    CHECK(y.shape() == Shape{5, 4});
    CHECK(g.parameter_values().count("body.inner.0.weight") == 1);
}

TEST_CASE("Sequential with named children", "[nn][modules]") {
    nn::Sequential seq({{"conv", nn::Conv2d(1, 2, 3)}, {"act", nn::Tanh()}, {"pool", nn::MaxPool2d(2)}});
    CHECK(seq->named_children().keys() == std::vector<std::string>{"conv", "act", "pool"});
    CHECK(seq->named_parameters().keys() == std::vector<std::string>{"conv.weight", "conv.bias"});
    auto conv = seq->ptr<nn::Conv2dImpl>(0);
    CHECK(conv->options.out_channels() == 2);
    CHECK_THAT(error_message([&] { seq->ptr<nn::LinearImpl>(1); }), Contains("module 1 is a Tanh"));
    CHECK_THAT(error_message([&] { (*seq)[3]; }), Contains("index 3 is out of range for a Sequential of 3"));
    Graph g;
    CHECK(seq(g.input("x", {1, 1, 10, 10})).shape() == Shape{1, 2, 4, 4});
}

TEST_CASE("an empty Sequential is the identity", "[nn][modules]") {
    nn::Sequential seq;
    Graph g;
    auto x = g.input("x", {2, 3});
    CHECK(seq(x).node() == x.node());
    CHECK(seq->parameter_count() == 0);
}

TEST_CASE("holders share their module", "[nn][modules]") {
    nn::Linear a(4, 3);
    nn::Linear b = a;
    CHECK(b.get() == a.get());
    CHECK(b->weight.raw_data() == a->weight.raw_data());
    nn::Linear empty{nullptr};
    CHECK(empty.is_empty());
    CHECK_THAT(error_message([&] { empty->reset_parameters(); }), Contains("empty Linear holder"));
    empty = a;
    CHECK(!empty.is_empty());
    // A module used twice in one graph reuses its parameter nodes.
    Graph g;
    auto x = g.input("x", {1, 4});
    auto y1 = a(x), y2 = a(x);
    CHECK(y1.node() == y2.node());
}

TEST_CASE("a parameter shared by two children is listed once", "[nn][modules]") {
    nn::Linear shared(5, 5);
    nn::Sequential seq(shared, nn::ReLU(), shared);
    CHECK(seq->named_parameters().keys() == std::vector<std::string>{"0.weight", "0.bias"});
    CHECK(seq->parameter_count() == 30);
    // The graph names them as named_parameters does: by the first registration.
    CHECK(shared->prefix() == "0");
    Graph g;
    auto y = seq(g.input("x", {2, 5}));
    CHECK(y.shape() == Shape{2, 5});
    CHECK(g.parameter_values().size() == 2);
    CHECK(g.parameter_values().count("0.weight") == 1);
}

TEST_CASE("BatchNorm registers weight and bias as parameters, running stats as buffers", "[nn][modules]") {
    nn::Sequential net(nn::Conv2d(3, 8, 3), nn::BatchNorm2d(8));
    CHECK(net->named_parameters().keys() ==
          std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias"});
    CHECK(net->named_buffers().keys() == std::vector<std::string>{"1.running_mean", "1.running_var"});
    auto bn = net->ptr<nn::BatchNorm2dImpl>(1);
    for (int64_t c = 0; c < 8; ++c) {
        CHECK(bn->weight.get_flat(c) == 1.0);
        CHECK(bn->bias.get_flat(c) == 0.0);
        CHECK(bn->running_mean.get_flat(c) == 0.0);
        CHECK(bn->running_var.get_flat(c) == 1.0);
    }
    CHECK(bn->named_buffers()["running_mean"].raw_data() == bn->running_mean.raw_data());

    nn::BatchNorm1d no_affine(nn::BatchNormOptions(4).affine(false));
    CHECK(no_affine->named_parameters().empty());
    CHECK(no_affine->named_buffers().size() == 2);
    nn::BatchNorm1d no_stats(nn::BatchNormOptions(4).track_running_stats(false));
    CHECK(no_stats->named_parameters().size() == 2);
    CHECK(no_stats->named_buffers().empty());
}

TEST_CASE("BatchNorm builds in training and eval mode", "[nn][modules]") {
    nn::BatchNorm2d bn(4);
    {
        Graph g;
        auto y = bn(g.input("x", {2, 4, 3, 3}));
        CHECK(y.shape() == Shape{2, 4, 3, 3});
        CHECK(g.parameter_values().count("running_mean") == 1);
    }
    bn->eval();
    {
        Graph g;
        CHECK(bn(g.input("x", {2, 4, 3, 3})).shape() == Shape{2, 4, 3, 3});
    }
    nn::BatchNorm1d bn1(5);
    CHECK(output_shape(*bn1, {8, 5}) == Shape{8, 5});
    CHECK(output_shape(*bn1, {8, 5, 7}) == Shape{8, 5, 7});
    // One graph registers one update per running statistic.
    Graph g;
    bn1(g.input("x", {8, 5}));
    CHECK_THAT(error_message([&] {
                   bn1(g.input("y", {8, 5}));
               }),
               Contains("update: 'running_mean' is already updated by this graph"));
}

TEST_CASE("train and eval reach every descendant", "[nn][modules]") {
    TinyNet net;
    CHECK(net->is_training());
    net->eval();
    CHECK(!net->is_training());
    net->apply([](nn::Module &m) { CHECK(!m.is_training()); });
    net->train();
    net->apply([](nn::Module &m) { CHECK(m.is_training()); });
    net->features->train(false);
    CHECK(net->is_training());
    CHECK(!(*net->features)[1]->is_training());
    CHECK(net->head->is_training());
}

TEST_CASE("Dropout is the identity in eval mode", "[nn][modules]") {
    nn::Dropout drop(0.3);
    Graph g;
    auto x = g.input("x", {4, 8});
    auto y = drop(x);
    CHECK(y.shape() == Shape{4, 8});
    CHECK(y.node() != x.node());
    drop->eval();
    CHECK(drop(x).node() == x.node());
}

TEST_CASE("every module builds the shapes PyTorch gives", "[nn][modules]") {
    const Shape signal{2, 3, 100}, image{2, 4, 16, 12};
    CHECK(output_shape(*nn::Conv1d(nn::Conv1dOptions(3, 8, 9).padding("same").padding_mode("reflect")),
                       signal) == Shape{2, 8, 100});
    CHECK(output_shape(*nn::Conv1d(nn::Conv1dOptions(3, 6, 5).stride(2).dilation(2).groups(3)), signal) ==
          Shape{2, 6, 46});
    CHECK(output_shape(*nn::Conv1d(3, 2, 4), {3, 100}) == Shape{2, 97});  // unbatched
    CHECK(output_shape(*nn::Conv2d(nn::Conv2dOptions(4, 8, {3, 5}).padding({1, 2})), image) ==
          Shape{2, 8, 16, 12});
    CHECK(output_shape(*nn::Conv2d(nn::Conv2dOptions(4, 4, 3).padding("valid").bias(false)), image) ==
          Shape{2, 4, 14, 10});
    CHECK(output_shape(*nn::Conv2d(nn::Conv2dOptions(4, 4, 3).padding({1, 0, 2, 0})), image) ==
          Shape{2, 4, 15, 12});  // asymmetric: H + 1 - 2, W + 2 - 2
    CHECK(output_shape(*nn::ConvTranspose1d(nn::ConvTranspose1dOptions(3, 2, 4).stride(2).padding(1)),
                       signal) == Shape{2, 2, 200});
    CHECK(output_shape(*nn::ConvTranspose2d(nn::ConvTranspose2dOptions(4, 2, 3).stride(2).output_padding(1)),
                       image) == Shape{2, 2, 34, 26});
    CHECK(output_shape(*nn::MaxPool1d(4), signal) == Shape{2, 3, 25});
    CHECK(output_shape(*nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)), image) ==
          Shape{2, 4, 8, 6});
    CHECK(output_shape(*nn::AvgPool1d(nn::AvgPool1dOptions(5).stride(1).padding(2)), signal) ==
          Shape{2, 3, 100});
    CHECK(output_shape(*nn::AvgPool2d(nn::AvgPool2dOptions({2, 3}).ceil_mode(true)), image) ==
          Shape{2, 4, 8, 4});
    CHECK(output_shape(*nn::AdaptiveAvgPool1d(7), signal) == Shape{2, 3, 7});
    CHECK(output_shape(*nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})), image) ==
          Shape{2, 4, 1, 1});
    CHECK(output_shape(*nn::LayerNorm(nn::LayerNormOptions({16, 12})), image) == image);
    CHECK(output_shape(*nn::Flatten(), image) == Shape{2, 4 * 16 * 12});
    CHECK(output_shape(*nn::Flatten(nn::FlattenOptions().start_dim(2)), image) == Shape{2, 4, 16 * 12});
    CHECK(output_shape(*nn::Linear(12, 5), image) == Shape{2, 4, 16, 5});
    CHECK(output_shape(*nn::Dropout(0.5), image) == image);
    CHECK(output_shape(*nn::ReLU(), image) == image);
    CHECK(output_shape(*nn::LeakyReLU(0.2), image) == image);
    CHECK(output_shape(*nn::ELU(), image) == image);
    CHECK(output_shape(*nn::GELU("tanh"), image) == image);
    CHECK(output_shape(*nn::Sigmoid(), image) == image);
    CHECK(output_shape(*nn::Tanh(), image) == image);
    CHECK(output_shape(*nn::Softplus(), image) == image);
}

TEST_CASE("weights shapes of convolutions and transposed convolutions", "[nn][modules]") {
    CHECK(nn::Conv1d(nn::Conv1dOptions(6, 4, 7).groups(2))->weight.shape() == Shape{4, 3, 7});
    CHECK(nn::Conv2d(nn::Conv2dOptions(6, 4, {3, 5}).groups(2))->weight.shape() == Shape{4, 3, 3, 5});
    CHECK(nn::ConvTranspose1d(nn::ConvTranspose1dOptions(6, 4, 7).groups(2))->weight.shape() ==
          Shape{6, 2, 7});
    CHECK(nn::ConvTranspose2d(nn::ConvTranspose2dOptions(6, 4, {3, 5}).groups(2))->weight.shape() ==
          Shape{6, 2, 3, 5});
    CHECK(!nn::Conv2d(nn::Conv2dOptions(1, 1, 1).bias(false))->bias.defined());
    CHECK(nn::Linear(nn::LinearOptions(3, 2).bias(false))->named_parameters().keys() ==
          std::vector<std::string>{"weight"});
}

TEST_CASE("modules print like PyTorch", "[nn][modules]") {
    const std::string expected = "Sequential(\n"
                                 "  (0): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))\n"
                                 "  (1): ReLU()\n"
                                 "  (2): MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), "
                                 "dilation=(1, 1), ceil_mode=false)\n"
                                 "  (3): Flatten(start_dim=1, end_dim=-1)\n"
                                 "  (4): Linear(in_features=1176, out_features=10, bias=true)\n"
                                 ")";
    nn::Sequential net(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)), nn::ReLU(), nn::MaxPool2d(2),
                       nn::Flatten(), nn::Linear(1176, 10));
    CHECK(net->to_string() == expected);
    TinyNet tiny;
    CHECK(tiny->name() == "TinyNet");
    CHECK_THAT(tiny->to_string(), Contains("(features): Sequential(\n    (0): Conv2d(1, 4"));
}

TEST_CASE("two unregistered modules cannot share a graph under the same names", "[nn][modules]") {
    nn::Linear a(4, 4), b(4, 4);
    Graph g;
    auto x = g.input("x", {1, 4});
    a(x);
    CHECK_THAT(error_message([&] { b(x); }),
               Contains("Linear: the graph already has a parameter 'weight' from another module"));
}
