// nn modules in double precision: Module::to(dtype) (floating tensors converted, integer counters kept,
// member handles and tied weights following), the modules' dtype option, and LeNet-5 from nn modules
// training in f64 to the same losses as the same network written with the functional API.
#include "frontend/functional.h"
#include "frontend/nn.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/train_step.h"
#include "support/error_message.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

using namespace strata;
using Catch::Contains;

namespace {

std::vector<double> values(const Tensor &t) {
    std::vector<double> out;
    for (int64_t i = 0; i < t.numel(); ++i) out.push_back(t.get_flat(i));
    return out;
}

/// Every registered tensor (parameters, then buffers) by full name.
std::vector<std::pair<std::string, Tensor>> all_tensors(const nn::Module &m) {
    std::vector<std::pair<std::string, Tensor>> out;
    for (const auto &item : m.named_parameters()) out.push_back(item);
    for (const auto &item : m.named_buffers()) out.push_back(item);
    return out;
}

/// A model with every module kind that holds tensors, and batch norm's integer counter.
struct MixedImpl : nn::Module {
    MixedImpl() : nn::Module("Mixed") {
        conv = register_module("conv", nn::Conv2d(nn::Conv2dOptions(1, 3, 3)));
        bn = register_module("bn", nn::BatchNorm2d(3));
        up = register_module("up", nn::ConvTranspose1d(nn::ConvTranspose1dOptions(3, 2, 2)));
        conv1d = register_module("conv1d", nn::Conv1d(nn::Conv1dOptions(2, 2, 3).bias(false)));
        norm = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({4})));
        fc = register_module("fc", nn::Linear(4, 2));
    }
    nn::Conv2d conv{nullptr};
    nn::BatchNorm2d bn{nullptr};
    nn::ConvTranspose1d up{nullptr};
    nn::Conv1d conv1d{nullptr};
    nn::LayerNorm norm{nullptr};
    nn::Linear fc{nullptr};
};
STRATA_MODULE(Mixed);

/// A user module that keeps a handle to a tensor it was given, and says so to `to`.
struct HolderImpl : nn::Module {
    explicit HolderImpl(const Tensor &t) : nn::Module("Holder") { w = register_parameter("w", t); }
    void refresh_tensor_members() override { w = registered_tensor("w"); }
    Tensor w;
};
STRATA_MODULE(Holder);

/// LeNet-5 (PyTorch's MNIST variant), its weights made in `dtype` through the modules' options.
nn::Sequential lenet5(DType dtype) {
    return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2).dtype(dtype)), nn::ReLU(),
                          nn::MaxPool2d(2), nn::Conv2d(nn::Conv2dOptions(6, 16, 5).dtype(dtype)), nn::ReLU(),
                          nn::MaxPool2d(2), nn::Flatten(), nn::Linear(nn::LinearOptions(400, 120).dtype(dtype)),
                          nn::ReLU(), nn::Linear(nn::LinearOptions(120, 84).dtype(dtype)), nn::ReLU(),
                          nn::Linear(nn::LinearOptions(84, 10).dtype(dtype)));
}

constexpr int64_t kBatch = 4;
constexpr int kSteps = 4;
constexpr double kLr = 0.05;

/// Fixed batches: noise plus a bright row whose position is the class.
std::vector<std::pair<Tensor, Tensor>> batches(DType dtype) {
    Generator gen(99);
    std::vector<std::pair<Tensor, Tensor>> out;
    for (int s = 0; s < kSteps; ++s) {
        Tensor x = Tensor::randn({kBatch, 1, 28, 28}, gen, DType::f64, 0.0, 0.5);
        Tensor t = Tensor::empty({kBatch}, DType::i32);
        for (int64_t n = 0; n < kBatch; ++n) {
            const int64_t c = (s + n) % 10;
            t.set_flat(n, static_cast<double>(c));
            for (int64_t col = 0; col < 28; ++col) {
                const int64_t at = (n * 28 + 2 * c + 3) * 28 + col;
                x.set_flat(at, x.get_flat(at) + 2.0);
            }
        }
        out.emplace_back(x.to(dtype), t);
    }
    return out;
}

/// Losses of plain SGD (lr kLr) on `model` through TrainStep.
std::vector<double> train_module(nn::Module &model, DType dtype) {
    optim::SGD sgd(optim::SGDOptions{kLr});
    TrainStep step(model, sgd, {kBatch, 1, 28, 28}, {kBatch}, DType::i32,
                   [](const SymTensor &y, const SymTensor &t) { return cross_entropy(y, t); });
    std::vector<double> losses;
    for (const auto &[x, t] : batches(dtype)) losses.push_back(step.step(x, t).loss);
    return losses;
}

/// The same LeNet-5 and plain SGD written with the functional API on graph parameters holding
/// copies of `start` (name -> f64 tensor, PyTorch names of lenet5()). Trains `params` in place.
std::vector<double> train_functional(std::map<std::string, Tensor> &params) {
    Graph g;
    SymTensor x = g.input("x", {kBatch, 1, 28, 28}, DType::f64);
    SymTensor t = g.input("t", {kBatch}, DType::i32);
    std::map<std::string, SymTensor> p;
    for (const auto &[name, value] : params) p[name] = g.parameter(name, value);
    ConvOptions padded;
    padded.padding = Padding(int64_t{2});
    SymTensor h = max_pool2d(relu(conv2d(x, p["0.weight"], p["0.bias"], padded)), {2, 2});
    h = max_pool2d(relu(conv2d(h, p["3.weight"], p["3.bias"])), {2, 2});
    h = flatten(h, 1);
    h = relu(linear(h, p["7.weight"], p["7.bias"]));
    h = relu(linear(h, p["9.weight"], p["9.bias"]));
    SymTensor loss = cross_entropy(linear(h, p["11.weight"], p["11.bias"]), t);
    std::vector<std::string> names;
    std::vector<SymTensor> wrt;
    for (const auto &[name, node] : p) {
        names.push_back(name);
        wrt.push_back(node);
    }
    const std::vector<SymTensor> grads = g.gradients(loss, wrt);
    for (size_t i = 0; i < names.size(); ++i) g.update(names[i], wrt[i] - grads[i] * kLr);
    g.output("loss", loss);
    CompiledGraph compiled = g.compile();
    std::vector<double> losses;
    for (const auto &[xb, tb] : batches(DType::f64))
        losses.push_back(compiled.run({{"x", xb}, {"t", tb}}).at("loss").item());
    return losses;
}

/// Copies of `model`'s parameters in f64, by name.
std::map<std::string, Tensor> f64_copies(const nn::Module &model) {
    std::map<std::string, Tensor> out;
    for (const auto &[name, value] : model.named_parameters()) out[name] = value.to(DType::f64);
    return out;
}

}  // namespace

TEST_CASE("to(f64) converts every floating parameter and buffer, and member handles see the new tensors",
          "[nn][dtype]") {
    manual_seed(3);
    Mixed model;
    const auto before = all_tensors(*model);
    model->bn->num_batches_tracked.set_flat(0, 7.0);

    CHECK(&model->to(DType::f64) == model.get());

    const auto after = all_tensors(*model);
    REQUIRE(after.size() == before.size());
    REQUIRE(after.size() == 13);  // 11 parameters, 2 running statistics
    for (size_t i = 0; i < after.size(); ++i) {
        INFO(after[i].first);
        CHECK(after[i].first == before[i].first);
        CHECK(after[i].second.dtype() == DType::f64);
        CHECK(after[i].second.shape() == before[i].second.shape());
        CHECK(values(after[i].second) == values(before[i].second));  // f32 -> f64 is exact
    }
    // The members are the registered tensors, not the old f32 ones.
    const auto params = model->named_parameters();
    const auto buffers = model->named_buffers();
    CHECK(model->conv->weight.raw_data() == params["conv.weight"].raw_data());
    CHECK(model->conv->bias.raw_data() == params["conv.bias"].raw_data());
    CHECK(model->up->weight.raw_data() == params["up.weight"].raw_data());
    CHECK(model->up->bias.raw_data() == params["up.bias"].raw_data());
    CHECK(model->conv1d->weight.raw_data() == params["conv1d.weight"].raw_data());
    CHECK_FALSE(model->conv1d->bias.defined());
    CHECK(model->bn->weight.raw_data() == params["bn.weight"].raw_data());
    CHECK(model->bn->bias.raw_data() == params["bn.bias"].raw_data());
    CHECK(model->bn->running_mean.raw_data() == buffers["bn.running_mean"].raw_data());
    CHECK(model->bn->running_var.raw_data() == buffers["bn.running_var"].raw_data());
    CHECK(model->norm->weight.raw_data() == params["norm.weight"].raw_data());
    CHECK(model->norm->bias.raw_data() == params["norm.bias"].raw_data());
    CHECK(model->fc->weight.raw_data() == params["fc.weight"].raw_data());
    CHECK(model->fc->bias.raw_data() == params["fc.bias"].raw_data());
    // PyTorch's batch counter is an integer: to(dtype) leaves it, value included.
    CHECK(model->bn->num_batches_tracked.dtype() == DType::i32);
    CHECK(model->bn->num_batches_tracked.get_flat(0) == 7.0);
    // The state dict follows too.
    for (const auto &[name, tensor] : nn::state_dict(*model)) {
        INFO(name);
        CHECK(tensor.dtype() == (name == "bn.num_batches_tracked" ? DType::i32 : DType::f64));
    }
}

TEST_CASE("to(f64) then to(f32) gives back the same values, and to the same dtype keeps the tensors",
          "[nn][dtype]") {
    manual_seed(5);
    Mixed model;
    const auto original = all_tensors(*model);
    model->to(DType::f64).to(DType::f32);
    const auto round_trip = all_tensors(*model);
    REQUIRE(round_trip.size() == original.size());
    for (size_t i = 0; i < original.size(); ++i) {
        INFO(original[i].first);
        CHECK(round_trip[i].second.dtype() == DType::f32);
        CHECK(round_trip[i].second.raw_data() != original[i].second.raw_data());  // new storage
        CHECK(values(round_trip[i].second) == values(original[i].second));
    }
    CHECK(model->fc->weight.dtype() == DType::f32);
    CHECK(model->fc->weight.raw_data() == model->named_parameters()["fc.weight"].raw_data());

    const void *kept = model->fc->weight.raw_data();
    model->to(DType::f32);
    CHECK(model->fc->weight.raw_data() == kept);
}

TEST_CASE("to() keeps tied tensors and shared modules shared", "[nn][dtype]") {
    Tensor tied = Tensor::from_vector<float>({1.5f, -2.0f});
    Holder a(tied), b(tied);
    nn::Linear shared(2, 2);
    nn::Sequential net(a, b, shared, shared);
    REQUIRE(net->named_parameters().size() == 3);  // "0.w", "2.weight", "2.bias"

    net->to(DType::f64);
    CHECK(a->w.dtype() == DType::f64);
    CHECK(a->w.raw_data() == b->w.raw_data());
    CHECK(values(b->w) == std::vector<double>{1.5, -2.0});
    CHECK(shared->weight.dtype() == DType::f64);
    const auto params = net->named_parameters();
    CHECK(params.size() == 3);
    CHECK(params["2.weight"].raw_data() == shared->weight.raw_data());
}

TEST_CASE("to() and the dtype option refuse dtypes that cannot be trained", "[nn][dtype][errors]") {
    nn::Linear fc(2, 3);
    CHECK_THAT(testing::error_message([&] { fc->to(DType::i32); }),
               Contains("Linear.to(i32)") && Contains("convert to f32 or f64"));
    CHECK(fc->weight.dtype() == DType::f32);
    CHECK_THAT(testing::error_message([] { nn::Linear(nn::LinearOptions(2, 3).dtype(DType::boolean)); }),
               Contains("Linear: dtype must be f32 or f64") && Contains("bool"));
    CHECK_THAT(testing::error_message([] { nn::Conv1d(nn::Conv1dOptions(1, 1, 3).dtype(DType::i32)); }),
               Contains("Conv1d: dtype must be f32 or f64"));
    CHECK_THAT(testing::error_message([] { nn::BatchNorm1d(nn::BatchNormOptions(2).dtype(DType::i32)); }),
               Contains("BatchNorm1d: dtype must be f32 or f64"));
}

TEST_CASE("the dtype option makes f64 weights and buffers, drawn from PyTorch's interval", "[nn][dtype]") {
    nn::Conv2d conv(nn::Conv2dOptions(2, 3, 3).dtype(DType::f64));
    nn::ConvTranspose2d up(nn::ConvTranspose2dOptions(2, 3, 3).dtype(DType::f64));
    nn::BatchNorm1d bn(nn::BatchNormOptions(4).dtype(DType::f64));
    nn::LayerNorm ln(nn::LayerNormOptions({4}).dtype(DType::f64));
    nn::Linear fc(nn::LinearOptions(5, 2).dtype(DType::f64));
    for (nn::Module *m : std::vector<nn::Module *>{conv.get(), up.get(), bn.get(), ln.get(), fc.get()})
        for (const auto &[name, tensor] : all_tensors(*m)) {
            INFO(m->name() << " " << name);
            CHECK(tensor.dtype() == DType::f64);
        }
    CHECK(bn->num_batches_tracked.dtype() == DType::i32);
    CHECK(values(bn->running_var) == std::vector<double>(4, 1.0));
    const double bound = 1.0 / std::sqrt(5.0);
    for (double v : values(fc->weight)) CHECK(std::abs(v) <= bound);
}

TEST_CASE("LeNet-5 from nn modules trains in f64 to the functional f64 path's losses", "[nn][dtype][train]") {
    manual_seed(11);
    nn::Sequential f32_net = lenet5(DType::f32);
    std::map<std::string, Tensor> functional = f64_copies(*f32_net);

    // The same starting weights three ways: converted with to(), made f64 by the option and loaded.
    nn::Sequential converted = lenet5(DType::f32);
    for (const auto &[name, value] : f32_net->named_parameters()) converted->named_parameters()[name].copy_from(value);
    converted->to(DType::f64);
    nn::Sequential optioned = lenet5(DType::f64);
    for (const auto &[name, value] : f32_net->named_parameters()) optioned->named_parameters()[name].copy_from(value);

    const std::vector<double> want = train_functional(functional);
    const std::vector<double> got_converted = train_module(*converted, DType::f64);
    const std::vector<double> got_optioned = train_module(*optioned, DType::f64);
    const std::vector<double> got_f32 = train_module(*f32_net, DType::f32);

    REQUIRE(want.size() == static_cast<size_t>(kSteps));
    for (int s = 0; s < kSteps; ++s) {
        INFO(fmt::format("step {}: functional {:.17g}, to(f64) {:.17g}, option {:.17g}, f32 {:.17g}", s + 1, want[s],
                         got_converted[s], got_optioned[s], got_f32[s]));
        CHECK(std::isfinite(want[s]));
        CHECK(got_converted[s] == Approx(want[s]).epsilon(1e-12).margin(0));
        CHECK(got_optioned[s] == Approx(want[s]).epsilon(1e-12).margin(0));
        // f32 follows at f32's precision: close, but not to f64's digits (so the others did run in f64).
        CHECK(got_f32[s] == Approx(want[s]).epsilon(1e-4));
    }
    double f32_gap = 0;
    for (int s = 0; s < kSteps; ++s) f32_gap = std::max(f32_gap, std::abs(got_f32[s] - want[s]));
    CHECK(f32_gap > 1e-10);
    CHECK(want.back() < want.front());  // it learns

    // The members hold the trained weights, in f64, as the functional path's parameters do.
    const auto fc = converted->ptr<nn::LinearImpl>(11);
    CHECK(fc->weight.dtype() == DType::f64);
    const std::vector<double> trained = values(fc->weight), reference = values(functional.at("11.weight"));
    REQUIRE(trained.size() == reference.size());
    double worst = 0;
    for (size_t i = 0; i < trained.size(); ++i) worst = std::max(worst, std::abs(trained[i] - reference[i]));
    CHECK(worst < 1e-12);
}

TEST_CASE("a batch-norm model converted to f64 trains, updating its f64 running statistics in place",
          "[nn][dtype][train]") {
    manual_seed(13);
    nn::Sequential net(nn::Conv2d(nn::Conv2dOptions(1, 2, 3)), nn::BatchNorm2d(2), nn::ReLU(), nn::Flatten(),
                       nn::Linear(2 * 26 * 26, 10));
    net->to(DType::f64);
    const auto bn = net->ptr<nn::BatchNorm2dImpl>(1);
    const std::vector<double> weight_before = values(net->named_parameters()["0.weight"]);
    const std::vector<double> losses = train_module(*net, DType::f64);
    CHECK(losses.back() < losses.front());
    CHECK(bn->running_mean.dtype() == DType::f64);
    CHECK(values(bn->running_mean) != std::vector<double>(2, 0.0));
    CHECK(values(net->named_parameters()["0.weight"]) != weight_before);
}

TEST_CASE("a model left half in f32 and half in f64 is an error naming the op and both dtypes", "[nn][dtype][errors]") {
    nn::Sequential net(nn::Linear(nn::LinearOptions(3, 2).dtype(DType::f64)), nn::Linear(2, 2));
    Graph g;
    const SymTensor x = g.input("x", {4, 3}, DType::f64);
    CHECK_THAT(testing::error_message([&] { net(x); }), Contains("dtype mismatch") && Contains("f64") &&
                                                            Contains("f32") && Contains("cast one of them"));
    net->to(DType::f64);
    // The graph that saw the f32 weight keeps it: building on it again says so.
    CHECK_THAT(testing::error_message([&] { net(x); }), Contains("'1.weight'") && Contains("to(dtype)") &&
                                                            Contains("build a new Graph"));
    Graph fresh;
    CHECK(net(fresh.input("x", {4, 3}, DType::f64)).dtype() == DType::f64);
}
