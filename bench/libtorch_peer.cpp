// LibTorch's side of each workload. Data comes in as Strata tensors and is
// copied into torch tensors once, outside the timed calls.

#include "bench/libtorch_peer.h"

#include "bench/libtorch_models.h"
#include "bench/strata_case.h"
#include "frontend/nn/module.h"

#include <strata/error.h>

#include <torch/torch.h>
#include <torch/version.h>

#include <functional>
#include <memory>

namespace strata::bench {
namespace {

torch::Tensor to_torch(const Tensor &t) {
    std::vector<int64_t> sizes(t.shape().begin(), t.shape().end());
    const Tensor c = t.contiguous();
    const auto dtype = t.dtype() == DType::i32 ? torch::kInt32 : torch::kFloat32;
    STRATA_ASSERT(t.dtype() == DType::i32 || t.dtype() == DType::f32, "bench data is f32 or i32");
    return torch::from_blob(const_cast<void *>(c.raw_data()), sizes, dtype).clone();
}

/// A LibTorch result as a Strata tensor: f64 stays f64 (the double-precision reference must
/// not be rounded to f32 on its way back), anything else becomes f32.
Tensor from_torch(const torch::Tensor &t) {
    const bool precise = t.scalar_type() == torch::kFloat64;
    const torch::Tensor c = t.detach().to(precise ? torch::kFloat64 : torch::kFloat32).contiguous();
    Tensor out = Tensor::empty(Shape(c.sizes().begin(), c.sizes().end()), precise ? DType::f64 : DType::f32);
    std::memcpy(out.raw_data(), c.data_ptr(), out.nbytes());
    return out;
}

struct TorchLeNet : TorchBenchModel {
    torch::nn::Conv2d c1{torch::nn::Conv2dOptions(1, 6, 5).padding(2)}, c2{torch::nn::Conv2dOptions(6, 16, 5)};
    torch::nn::Linear f1{400, 120}, f2{120, 84}, f3{84, 10};
    TorchLeNet() {
        register_module("c1", c1);
        register_module("c2", c2);
        register_module("f1", f1);
        register_module("f2", f2);
        register_module("f3", f3);
    }
    torch::Tensor forward(torch::Tensor x) override {
        x = torch::max_pool2d(torch::relu(c1(x)), 2);
        x = torch::max_pool2d(torch::relu(c2(x)), 2).flatten(1);
        return f3(torch::relu(f2(torch::relu(f1(x)))));
    }
};

/// Copies Strata's initial parameters into `net`, by position: both register their
/// modules and parameters in the same order, and the shapes are checked one by one.
void copy_parameters(torch::nn::Module &net, const std::vector<std::pair<std::string, Tensor>> &strata_parameters,
                     const std::string &model) {
    std::vector<torch::Tensor> params = net.parameters();
    if (params.size() != strata_parameters.size())
        fail("LibTorch {} has {} parameters, Strata's {}", model, params.size(), strata_parameters.size());
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) {
        const torch::Tensor value = to_torch(strata_parameters[i].second);
        if (!params[i].sizes().equals(value.sizes()))
            fail("LibTorch {} parameter {} has another shape than Strata's '{}'", model, i, strata_parameters[i].first);
        params[i].copy_(value);
    }
}

std::shared_ptr<TorchLeNet> lenet_with(const WorkloadData &data) {
    auto net = std::make_shared<TorchLeNet>();
    copy_parameters(*net, data.parameters, "LeNet");
    return net;
}

/// The LibTorch twin of a benchmark model, with the weights Strata's starts from.
std::shared_ptr<TorchBenchModel> model_with(const std::string &name) {
    auto net = make_torch_model(name);
    std::vector<std::pair<std::string, Tensor>> strata_parameters;
    for (const auto &[key, value] : make_bench_model(name)->named_parameters()) strata_parameters.emplace_back(key, value);
    copy_parameters(*net, strata_parameters, name);
    return net;
}

/// Makes the workload's network, with the initial weights Strata's starts from.
using NetFactory = std::function<std::shared_ptr<TorchBenchModel>()>;

/// The loss and the gradients of one cross-entropy step of a fresh network in double
/// precision: the reference both engines' f32 results are judged against.
std::vector<Tensor> precise_step(const NetFactory &make_net, const WorkloadData &data) {
    auto net = make_net();
    net->to(torch::kFloat64);
    torch::Tensor loss = torch::nn::functional::cross_entropy(
        net->forward(to_torch(data.inputs.at("x")).to(torch::kFloat64)), to_torch(data.inputs.at("labels")).to(torch::kInt64));
    loss.backward();
    std::vector<Tensor> results = {from_torch(loss)};
    for (const torch::Tensor &p : net->parameters()) results.push_back(from_torch(p.grad()));
    return results;
}

/// A cross-entropy training step with `make_optimizer`, as Strata's bench step runs it.
EngineCase train_case(const NetFactory &make_net,
                      const std::function<std::shared_ptr<torch::optim::Optimizer>(TorchBenchModel &)> &make_optimizer,
                      const WorkloadData &data) {
    auto net = make_net();
    auto optimizer = make_optimizer(*net);
    const torch::Tensor x = to_torch(data.inputs.at("x"));
    const torch::Tensor labels = to_torch(data.inputs.at("labels")).to(torch::kInt64);
    auto step = [net, optimizer, x, labels] {
        optimizer->zero_grad();
        torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(x), labels);
        loss.backward();
        optimizer->step();
        return loss;
    };
    EngineCase c;
    c.first_results = [net, step] {
        std::vector<Tensor> results = {from_torch(step())};
        // Gradients, as Strata's side reports them (bench/strata_case.cpp says why).
        for (const torch::Tensor &p : net->parameters()) results.push_back(from_torch(p.grad()));
        return results;
    };
    c.precise_results = [make_net, &data] { return precise_step(make_net, data); };
    c.run = step;
    return c;
}

EngineCase infer_case(const NetFactory &make_net, const WorkloadData &data) {
    auto net = make_net();
    net->eval();
    const torch::Tensor x = to_torch(data.inputs.at("x"));
    auto forward = [net, x] {
        torch::NoGradGuard no_grad;
        return net->forward(x);
    };
    EngineCase c;
    c.first_results = [forward] { return std::vector<Tensor>{from_torch(forward())}; };
    c.precise_results = [make_net, x] {
        auto precise = make_net();
        precise->to(torch::kFloat64);
        precise->eval();
        torch::NoGradGuard no_grad;
        return std::vector<Tensor>{from_torch(precise->forward(x.to(torch::kFloat64)))};
    };
    c.run = forward;
    return c;
}

/// The optimizer make_bench_optimizer gives Strata for `model`.
std::shared_ptr<torch::optim::Optimizer> make_optimizer(const std::string &model, TorchBenchModel &net) {
    if (model == "lenet" || model == "resnet20")
        return std::make_shared<torch::optim::SGD>(net.parameters(),
                                                   torch::optim::SGDOptions(kLeNetLearningRate).momentum(kLeNetMomentum));
    return std::make_shared<torch::optim::Adam>(net.parameters(), torch::optim::AdamOptions(1e-3));
}

EngineCase conv_or_pool(const Workload &w, const WorkloadData &data) {
    const bool backward = w.backward, is_conv = w.family == Family::conv;
    const torch::Tensor x = to_torch(data.inputs.at("x")).requires_grad_(backward);
    const torch::Tensor weight = is_conv ? to_torch(data.inputs.at("w")).requires_grad_(backward) : torch::Tensor();
    const torch::Tensor grad_y = backward ? to_torch(data.inputs.at("grad_y")) : torch::Tensor();
    const int64_t stride = w.stride, padding = w.padding;
    const bool one_d = w.input.size() == 3;
    auto call = [=]() -> std::vector<torch::Tensor> {
        torch::AutoGradMode grad_mode(backward);
        torch::Tensor y = !is_conv ? torch::max_pool2d(x, {2, 2})
                          : one_d  ? torch::conv1d(x, weight, {}, stride, padding)
                                   : torch::conv2d(x, weight, {}, stride, padding);
        if (!backward) return {y};
        std::vector<torch::Tensor> out = {y};
        // Fresh gradients each call (no accumulation into .grad).
        const std::vector<torch::Tensor> wrt = is_conv ? std::vector<torch::Tensor>{x, weight} : std::vector{x};
        for (const torch::Tensor &g : torch::autograd::grad({y}, wrt, {grad_y})) out.push_back(g);
        return out;
    };
    EngineCase c;
    c.first_results = [call] {
        std::vector<Tensor> results;
        for (const torch::Tensor &t : call()) results.push_back(from_torch(t));
        return results;
    };
    c.run = call;
    return c;
}

}  // namespace

std::string libtorch_version() { return TORCH_VERSION; }

void set_libtorch_threads(int threads) { torch::set_num_threads(threads); }

EngineCase make_libtorch_case(const Workload &workload, const WorkloadData &data) {
    try {
        switch (workload.family) {
        case Family::lenet_train:
        case Family::lenet_infer:
        case Family::model_train:
        case Family::model_infer: {
            const bool lenet = workload.family == Family::lenet_train || workload.family == Family::lenet_infer;
            const std::string model = lenet ? "lenet" : workload.model;
            const NetFactory make_net = [lenet, model, &data]() -> std::shared_ptr<TorchBenchModel> {
                return lenet ? lenet_with(data) : model_with(model);
            };
            if (workload.family == Family::lenet_infer || workload.family == Family::model_infer)
                return infer_case(make_net, data);
            return train_case(make_net, [model](TorchBenchModel &net) { return make_optimizer(model, net); }, data);
        }
        case Family::conv:
        case Family::max_pool: return conv_or_pool(workload, data);
        }
    } catch (const c10::Error &e) {
        fail("LibTorch failed on '{}': {}", workload.name, e.what_without_backtrace());
    }
    STRATA_ASSERT(false, "unknown workload family");
}

}  // namespace strata::bench
