#include "bench/workloads.h"

#include "frontend/nn.h"
#include "bench/lenet.h"

#include <strata/error.h>

#include <fmt/format.h>

namespace strata::bench {
namespace {

int64_t product(const Shape &shape, size_t from = 0) {
    int64_t n = 1;
    for (size_t i = from; i < shape.size(); ++i) n *= shape[i];
    return n;
}

Workload conv(std::string name, std::string description, Shape input, Shape weight, int64_t stride, int64_t padding,
              bool backward) {
    Workload w{std::move(name), std::move(description), Family::conv, std::move(input), std::move(weight)};
    w.stride = stride;
    w.padding = padding;
    w.backward = backward;
    // Each output element is a dot product of C_in x K... multiply-adds; the
    // input and weight gradients are that many again each.
    const double macs = static_cast<double>(product(output_shape(w)) * product(w.weight, 1));
    w.flops = 2 * macs * (backward ? 3 : 1);
    return w;
}

Workload max_pool_fwdbwd() {
    Workload w{"maxpool_fwdbwd", "max_pool2d 2x2, N8 C64 56x56, forward + input gradient", Family::max_pool,
               {8, 64, 56, 56}, {}};
    w.backward = true;
    // Forward reads x, writes y; backward reads x and grad_y, writes grad_x.
    const double x = 4.0 * product(w.input), y = 4.0 * product(output_shape(w));
    w.bytes = (x + y) + (x + y + x);
    return w;
}

Workload lenet(Family family, int64_t batch) {
    const bool train = family == Family::lenet_train;
    Workload w{train ? "lenet_train" : fmt::format("lenet_infer{}", batch),
               train ? "LeNet-5 training step, batch 64, cross-entropy, SGD momentum"
                     : fmt::format("LeNet-5 inference, batch {}", batch),
               family,
               {batch, 1, 28, 28},
               {}};
    w.images = batch;
    // Training: forward + every weight gradient + every input gradient but the first layer's.
    const double macs = train ? 3 * kLeNetForwardMacs - kLeNetConv1Macs : kLeNetForwardMacs;
    w.flops = 2 * macs * static_cast<double>(batch);
    return w;
}

/// A training step or the inference of a model of frontend/models, at the
/// sizes its users train it (models.h describes each).
Workload model(const std::string &name, bool train) {
    struct Spec {
        Shape input;
        const char *what;
    };
    static const std::map<std::string, Spec> specs = {
        {"resnet20", {{64, 3, 32, 32}, "ResNet-20 (CIFAR layout), batch 64 of 3x32x32, batch norm, SGD momentum"}},
        {"phasenet", {{32, 3, 3001}, "PhaseNet-style 1-D U-Net, batch 32 of 3x3001, per-sample classes, Adam"}},
        {"gpd", {{64, 3, 400}, "GPD picker, batch 64 of 3x400, 4 conv+BN+pool, 3 dense, Adam"}},
    };
    const Spec &spec = specs.at(name);
    Workload w{fmt::format("{}_{}", name, train ? "train" : "infer"),
               fmt::format("{}{}", train ? "training step: " : "inference: ", spec.what),
               train ? Family::model_train : Family::model_infer, spec.input, {}};
    w.model = name;
    w.images = spec.input[0];
    return w;
}

}  // namespace

Shape output_shape(const Workload &w) {
    Shape out = {w.input[0]};
    if (w.family == Family::max_pool) {
        out.push_back(w.input[1]);
        for (size_t d = 2; d < w.input.size(); ++d) out.push_back(w.input[d] / 2);
        return out;
    }
    STRATA_ASSERT(w.family == Family::conv, "output_shape of a LeNet workload");
    out.push_back(w.weight[0]);
    for (size_t d = 2; d < w.input.size(); ++d)
        out.push_back((w.input[d] + 2 * w.padding - w.weight[d]) / w.stride + 1);
    return out;
}

const std::vector<Workload> &all_workloads() {
    static const std::vector<Workload> workloads = [] {
        const Shape conv2d_x = {8, 64, 56, 56}, conv2d_w = {64, 64, 3, 3};
        const Shape conv1d_x = {32, 3, 4000}, conv1d_w = {32, 3, 16};
        return std::vector<Workload>{
            lenet(Family::lenet_train, 64),
            lenet(Family::lenet_infer, 64),
            lenet(Family::lenet_infer, 1),
            conv("conv2d_fwd", "conv2d 3x3 pad 1, N8 64->64 56x56, forward", conv2d_x, conv2d_w, 1, 1, false),
            conv("conv2d_fwdbwd", "conv2d 3x3 pad 1, N8 64->64 56x56, forward + input and weight gradients",
                 conv2d_x, conv2d_w, 1, 1, true),
            conv("conv1d_s1_fwd", "conv1d k16 stride 1, N32 3->32 L4000, forward", conv1d_x, conv1d_w, 1, 0, false),
            conv("conv1d_s1_fwdbwd", "conv1d k16 stride 1, N32 3->32 L4000, forward + input and weight gradients",
                 conv1d_x, conv1d_w, 1, 0, true),
            conv("conv1d_s4_fwd", "conv1d k16 stride 4, N32 3->32 L4000, forward", conv1d_x, conv1d_w, 4, 0, false),
            conv("conv1d_s4_fwdbwd", "conv1d k16 stride 4, N32 3->32 L4000, forward + input and weight gradients",
                 conv1d_x, conv1d_w, 4, 0, true),
            max_pool_fwdbwd(),
            model("resnet20", true), model("resnet20", false),
            model("phasenet", true), model("phasenet", false),
            model("gpd", true), model("gpd", false),
        };
    }();
    return workloads;
}

const Workload &find_workload(const std::string &name) {
    std::vector<std::string> names;
    for (const Workload &w : all_workloads()) {
        if (w.name == name) return w;
        names.push_back(w.name);
    }
    fail("strata bench: unknown workload '{}'; expected one of: {}", name, fmt::join(names, ", "));
}

WorkloadData make_data(const Workload &w) {
    WorkloadData data;
    Generator gen(1);
    data.inputs["x"] = Tensor::randn(w.input, gen);
    switch (w.family) {
    case Family::lenet_train: {
        Tensor labels = Tensor::empty({w.input[0]}, DType::i32);
        for (int64_t i = 0; i < w.input[0]; ++i) labels.data<int32_t>()[i] = static_cast<int32_t>(i % 10);
        data.inputs["labels"] = labels;
    }
        [[fallthrough]];
    case Family::lenet_infer: {
        // PyTorch's default init, from a fixed seed.
        manual_seed(0);
        nn::Sequential net = make_lenet();
        for (const auto &[name, value] : net->named_parameters()) data.parameters.emplace_back(name, value.clone());
        break;
    }
    case Family::conv: {
        // Scaled like PyTorch's init so outputs stay O(1).
        const double fan_in = static_cast<double>(product(w.weight, 1));
        data.inputs["w"] = Tensor::randn(w.weight, gen, DType::f32, 0.0, 1.0 / std::sqrt(fan_in));
        if (w.backward) data.inputs["grad_y"] = Tensor::randn(output_shape(w), gen);
        break;
    }
    case Family::max_pool:
        if (w.backward) data.inputs["grad_y"] = Tensor::randn(output_shape(w), gen);
        break;
    case Family::model_train: {
        // PhaseNet labels every sample (noise, P, S); the others label each window.
        const Shape shape = w.model == "phasenet" ? Shape{w.input[0], w.input[2]} : Shape{w.input[0]};
        const int64_t classes = w.model == "resnet20" ? 10 : 3;
        Tensor labels = Tensor::empty(shape, DType::i32);
        for (int64_t i = 0; i < labels.numel(); ++i) labels.data<int32_t>()[i] = static_cast<int32_t>((i * 7 + i / 5) % classes);
        data.inputs["labels"] = labels;
        break;
    }
    case Family::model_infer: break;
    }
    return data;
}

}  // namespace strata::bench
