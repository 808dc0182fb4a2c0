#include "bench/strata_case.h"

#include "bench/lenet.h"
#include "frontend/functional.h"
#include "frontend/graph.h"
#include "frontend/nn.h"
#include "frontend/models/models.h"
#include "frontend/optim/adam.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/train_step.h"

#include <strata/error.h>
#include <strata/stopwatch.h>

#include <chrono>
#include <memory>

namespace strata::bench {
namespace {

/// Appends the gradient of every parameter of the step just run (the first), read back
/// from the optimizer's state: SGD's momentum buffer is the gradient after one step
/// (PyTorch's rule) and Adam's exp_avg is (1 - beta1) x gradient. Gradients, not updated
/// parameters, are what engines can be compared on: Adam's first update is about
/// lr x sign(gradient), which flips on any rounding of a near-zero gradient.
void append_first_step_gradients(nn::Module &model, const optim::Optimizer &optimizer, std::vector<Tensor> &out) {
    const auto *adam = dynamic_cast<const optim::Adam *>(&optimizer);
    const std::string key = adam ? "exp_avg" : "momentum_buffer";
    for (const auto &[name, value] : model.named_parameters()) {
        const auto state = optimizer.state().find(name + "." + key);
        if (state == optimizer.state().end()) fail("bench: the optimizer has no {} for '{}'", key, name);
        Tensor gradient = state->second.clone();
        if (adam) {
            Tensor as_f64 = gradient.to(DType::f64);
            double *g = as_f64.data<double>();
            for (int64_t i = 0; i < as_f64.numel(); ++i) g[i] /= 1.0 - adam->options().beta1_;
            gradient = as_f64.to(gradient.dtype());
        }
        out.push_back(gradient);
    }
}

/// The LeNet of `data` (its parameters copied in, so every engine starts equal).
std::shared_ptr<nn::Sequential> lenet_with(const WorkloadData &data) {
    auto net = std::make_shared<nn::Sequential>(make_lenet());
    auto params = (*net)->named_parameters();
    for (const auto &[name, value] : data.parameters) params[name].copy_from(value);
    return net;
}

/// The first step's loss and gradients of `net` (already in f64) with `make_optimizer`'s
/// optimizer: Strata's double-precision twin of a training workload.
std::vector<Tensor> precise_first_step(nn::Module &net, optim::Optimizer &optimizer, const Tensor &x,
                                       const Tensor &labels, const std::string &schedule) {
    auto step = cross_entropy_step(net, optimizer, x.shape(), labels.shape(), schedule);
    std::vector<Tensor> results = {Tensor::full({}, step->step(x.to(DType::f64), labels).loss, DType::f64)};
    append_first_step_gradients(net, optimizer, results);
    return results;
}

/// The outputs of `net` (already in f64, eval mode) on `x`: the twin of an inference workload.
std::vector<Tensor> precise_outputs(nn::Module &net, const Tensor &x, const std::string &schedule) {
    Graph graph;
    graph.output("logits", net.forward(graph.input("x", x.shape(), DType::f64)));
    codegen::CompileOptions options;
    options.schedule = schedule;
    return {graph.compile(options).run({{"x", x.to(DType::f64)}}).at("logits")};
}

EngineCase lenet_train(const WorkloadData &data, const std::string &schedule) {
    const auto start = std::chrono::steady_clock::now();
    auto net = lenet_with(data);
    auto sgd = std::make_shared<optim::SGD>(optim::SGDOptions(kLeNetLearningRate).momentum(kLeNetMomentum));
    const Tensor &images = data.inputs.at("x"), &labels = data.inputs.at("labels");
    auto step = cross_entropy_step(**net, *sgd, images.shape(), labels.shape(), schedule);
    EngineCase c;
    c.compile_seconds = seconds_since(start);
    c.first_results = [net, step, sgd, images, labels] {
        std::vector<Tensor> results = {Tensor::full({}, step->step(images, labels).loss)};
        append_first_step_gradients(**net, *sgd, results);
        return results;
    };
    c.run = [net, sgd, step, images, labels] { step->step(images, labels); };
    c.precise_results = [&data, images, labels, schedule] {
        auto twin = lenet_with(data);
        (*twin)->to(DType::f64);
        optim::SGD sgd(optim::SGDOptions(kLeNetLearningRate).momentum(kLeNetMomentum));
        return precise_first_step(**twin, sgd, images, labels, schedule);
    };
    return c;
}

/// A compiled graph with its inputs bound; `run` calls it, `first_results` returns its outputs.
EngineCase graph_case(const std::shared_ptr<Graph> &graph, std::map<std::string, Tensor> inputs,
                      const std::string &schedule, std::chrono::steady_clock::time_point start,
                      std::shared_ptr<nn::Sequential> keep_alive = {}) {
    codegen::CompileOptions options;
    options.schedule = schedule;
    auto compiled = std::make_shared<CompiledGraph>(graph->compile(options));
    EngineCase c;
    c.compile_seconds = seconds_since(start);
    const std::vector<std::string> names = compiled->executable().output_names();
    c.first_results = [compiled, inputs, names] {
        std::map<std::string, Tensor> outputs = compiled->run(inputs);
        std::vector<Tensor> results;
        for (const std::string &name : names) results.push_back(outputs.at(name));
        return results;
    };
    c.run = [graph, compiled, inputs, keep_alive] { compiled->run(inputs); };
    return c;
}

EngineCase lenet_infer(const WorkloadData &data, const std::string &schedule) {
    const auto start = std::chrono::steady_clock::now();
    auto net = lenet_with(data);
    (*net)->eval();
    auto graph = std::make_shared<Graph>();
    const Tensor &x = data.inputs.at("x");
    graph->output("logits", (*net)->forward(graph->input("x", x.shape())));
    EngineCase c = graph_case(graph, {{"x", x}}, schedule, start, net);
    c.precise_results = [&data, x, schedule] {
        auto twin = lenet_with(data);
        (*twin)->eval();
        (*twin)->to(DType::f64);
        return precise_outputs(**twin, x, schedule);
    };
    return c;
}

EngineCase conv_or_pool(const Workload &w, const WorkloadData &data, const std::string &schedule) {
    const auto start = std::chrono::steady_clock::now();
    auto graph = std::make_shared<Graph>();
    const SymTensor x = graph->input("x", w.input);
    std::map<std::string, Tensor> inputs = {{"x", data.inputs.at("x")}};
    std::vector<SymTensor> wrt = {x};
    SymTensor y;
    if (w.family == Family::conv) {
        const SymTensor weight = graph->input("w", w.weight);
        inputs["w"] = data.inputs.at("w");
        wrt.push_back(weight);
        ConvOptions options;
        options.stride = {w.stride};
        options.padding = Ints{w.padding};
        y = w.input.size() == 3 ? conv1d(x, weight, {}, options) : conv2d(x, weight, {}, options);
    } else {
        y = max_pool2d(x, {2, 2});
    }
    graph->output("y", y);
    if (w.backward) {
        // The gradients of sum(y * grad_y): what backpropagating grad_y through y gives.
        const SymTensor grad_y = graph->input("grad_y", y.shape());
        inputs["grad_y"] = data.inputs.at("grad_y");
        const std::vector<SymTensor> grads = graph->gradients(sum(y * grad_y), wrt);
        graph->output("grad_x", grads[0]);
        if (grads.size() > 1) graph->output("grad_w", grads[1]);
    }
    return graph_case(graph, inputs, schedule, start);
}

EngineCase model_train(const Workload &w, const WorkloadData &data, const std::string &schedule) {
    const auto start = std::chrono::steady_clock::now();
    auto net = make_bench_model(w.model);
    auto optimizer = make_bench_optimizer(w.model);
    const Tensor &x = data.inputs.at("x"), &labels = data.inputs.at("labels");
    auto step = cross_entropy_step(*net, *optimizer, x.shape(), labels.shape(), schedule);
    EngineCase c;
    c.compile_seconds = seconds_since(start);
    c.first_results = [net, optimizer, step, x, labels] {
        std::vector<Tensor> results = {Tensor::full({}, step->step(x, labels).loss)};
        append_first_step_gradients(*net, *optimizer, results);
        return results;
    };
    c.run = [net, optimizer, step, x, labels] { step->step(x, labels); };
    c.precise_results = [model = w.model, x, labels, schedule] {
        auto twin = make_bench_model(model);
        twin->to(DType::f64);
        auto optimizer = make_bench_optimizer(model);
        return precise_first_step(*twin, *optimizer, x, labels, schedule);
    };
    return c;
}

EngineCase model_infer(const Workload &w, const WorkloadData &data, const std::string &schedule) {
    const auto start = std::chrono::steady_clock::now();
    auto net = make_bench_model(w.model);
    net->eval();
    auto graph = std::make_shared<Graph>();
    const Tensor &x = data.inputs.at("x");
    graph->output("logits", net->forward(graph->input("x", x.shape())));
    EngineCase c = graph_case(graph, {{"x", x}}, schedule, start);
    auto run = c.run;
    c.run = [run, net] { run(); };
    c.precise_results = [model = w.model, x, schedule] {
        auto twin = make_bench_model(model);
        twin->eval();
        twin->to(DType::f64);
        return precise_outputs(*twin, x, schedule);
    };
    return c;
}

}  // namespace

std::shared_ptr<TrainStep> cross_entropy_step(nn::Module &model, optim::Optimizer &optimizer, const Shape &input,
                                              const Shape &labels, const std::string &schedule) {
    TrainStepOptions options;
    options.compile.schedule = schedule;
    return std::make_shared<TrainStep>(
        model, optimizer, input, labels, DType::i32,
        [](const SymTensor &y, const SymTensor &t) { return cross_entropy(y, t); }, options);
}

std::shared_ptr<nn::Module> make_bench_model(const std::string &name, int64_t extra_classes) {
    manual_seed(0);
    if (name == "lenet") return make_lenet(10 + extra_classes).ptr();
    if (name == "resnet20") {
        models::ResNetOptions o;
        o.classes += extra_classes;
        return models::ResNet(o).ptr();
    }
    if (name == "phasenet") {
        models::PhaseNetOptions o;
        o.classes += extra_classes;
        return models::PhaseNet(o).ptr();
    }
    if (name == "gpd") {
        models::GPDOptions o;
        o.classes += extra_classes;
        return models::GPD(o).ptr();
    }
    fail("bench: unknown model '{}' (lenet, resnet20, phasenet, gpd)", name);
}

std::shared_ptr<optim::Optimizer> make_bench_optimizer(const std::string &name) {
    if (name == "lenet" || name == "resnet20")
        return std::make_shared<optim::SGD>(optim::SGDOptions(kLeNetLearningRate).momentum(kLeNetMomentum));
    return std::make_shared<optim::Adam>(optim::AdamOptions(1e-3));
}

EngineCase make_strata_case(const Workload &workload, const WorkloadData &data, const std::string &schedule) {
    switch (workload.family) {
    case Family::lenet_train: return lenet_train(data, schedule);
    case Family::lenet_infer: return lenet_infer(data, schedule);
    case Family::conv:
    case Family::max_pool: return conv_or_pool(workload, data, schedule);
    case Family::model_train: return model_train(workload, data, schedule);
    case Family::model_infer: return model_infer(workload, data, schedule);
    }
    STRATA_ASSERT(false, "unknown workload family");
}

}  // namespace strata::bench
