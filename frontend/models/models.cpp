#include "frontend/models/models.h"

#include <strata/error.h>

#include <fmt/format.h>

namespace strata::models {

// ---- ResNet ----

BasicBlockImpl::BasicBlockImpl(int64_t in, int64_t out, int64_t stride) {
    conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
    bn1 = register_module("bn1", nn::BatchNorm2d(out));
    conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
    bn2 = register_module("bn2", nn::BatchNorm2d(out));
    if (stride != 1 || in != out) {
        shortcut = register_module("shortcut", nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)));
        shortcut_bn = register_module("shortcut_bn", nn::BatchNorm2d(out));
    }
}

SymTensor BasicBlockImpl::forward(const SymTensor &x) {
    SymTensor y = relu(bn1(conv1(x)));
    y = bn2(conv2(y));
    return relu(y + (shortcut.is_empty() ? x : shortcut_bn(shortcut(x))));
}

ResNetImpl::ResNetImpl(const ResNetOptions &o) : nn::Module("ResNet") {
    if (o.width < 1 || o.blocks < 1 || o.classes < 1 || o.in_channels < 1 || o.stages < 1 || o.stages > 8)
        fail("ResNet: width, blocks, classes and in_channels must be positive and stages 1 to 8 (got {}, {}, {}, {}, {})",
             o.width, o.blocks, o.classes, o.in_channels, o.stages);
    stem = register_module("stem", nn::Conv2d(nn::Conv2dOptions(o.in_channels, o.width, 3).padding(1).bias(false)));
    stem_bn = register_module("stem_bn", nn::BatchNorm2d(o.width));
    stages = register_module("stages", nn::Sequential());
    int64_t in = o.width;
    for (int64_t stage = 0; stage < o.stages; ++stage) {
        const int64_t out = o.width << stage;
        for (int64_t b = 0; b < o.blocks; ++b) {
            stages->push_back(fmt::format("{}_{}", stage, b), BasicBlock(in, out, b == 0 && stage > 0 ? 2 : 1));
            in = out;
        }
    }
    head = register_module("head", nn::Linear(in, o.classes));
}

SymTensor ResNetImpl::forward(const SymTensor &x) {
    SymTensor y = stages->forward(relu(stem_bn(stem(x))));
    return head(flatten(adaptive_avg_pool2d(y, {1, 1}), 1));
}

// ---- PhaseNet ----

PhaseNetImpl::PhaseNetImpl(const PhaseNetOptions &o) : nn::Module("PhaseNet"), options_(o) {
    const auto &c = o.channels;
    if (c.size() < 2) fail("PhaseNet: needs at least two levels of channels, got {}", c.size());
    const int64_t k = o.kernel, pad = o.kernel / 2;
    input_conv = register_module("input_conv", nn::Conv1d(nn::Conv1dOptions(o.in_channels, c[0], k).padding(pad)));
    input_bn = register_module("input_bn", nn::BatchNorm1d(c[0]));
    for (size_t i = 0; i + 1 < c.size(); ++i) {
        const std::string n = std::to_string(i);
        level_convs.push_back(register_module("level_conv" + n, nn::Conv1d(nn::Conv1dOptions(c[i], c[i], k).padding(pad))));
        level_bns.push_back(register_module("level_bn" + n, nn::BatchNorm1d(c[i])));
        down_convs.push_back(register_module(
            "down_conv" + n, nn::Conv1d(nn::Conv1dOptions(c[i], c[i + 1], k).stride(o.stride).padding(pad))));
        down_bns.push_back(register_module("down_bn" + n, nn::BatchNorm1d(c[i + 1])));
        upsamples.push_back(register_module(
            "upsample" + n, nn::ConvTranspose1d(nn::ConvTranspose1dOptions(c[i + 1], c[i], k).stride(o.stride).padding(1))));
        upsample_bns.push_back(register_module("upsample_bn" + n, nn::BatchNorm1d(c[i])));
        up_convs.push_back(register_module("up_conv" + n, nn::Conv1d(nn::Conv1dOptions(2 * c[i], c[i], k).padding(pad))));
        up_bns.push_back(register_module("up_bn" + n, nn::BatchNorm1d(c[i])));
    }
    output_conv = register_module("output_conv", nn::Conv1d(nn::Conv1dOptions(c[0], o.classes, 1)));
}

SymTensor PhaseNetImpl::forward(const SymTensor &input) {
    SymTensor x = relu(input_bn(input_conv(input)));
    std::vector<SymTensor> skips;
    for (size_t i = 0; i < level_convs.size(); ++i) {
        x = relu(level_bns[i](level_convs[i](x)));
        skips.push_back(x);
        x = relu(down_bns[i](down_convs[i](x)));
    }
    for (size_t i = level_convs.size(); i-- > 0;) {
        x = relu(upsample_bns[i](upsamples[i](x)));
        const int64_t length = skips[i].shape().back();
        if (x.shape().back() < length)
            fail("PhaseNet: the upsampled length {} is shorter than the skip connection's {}", x.shape().back(), length);
        x = slice(x, 2, 0, length);
        x = relu(up_bns[i](up_convs[i](concat({skips[i], x}, 1))));
    }
    return output_conv(x);
}

// ---- GPD ----

GPDImpl::GPDImpl(const GPDOptions &o) : nn::Module("GPD") {
    if (o.channels.size() != o.kernels.size() || o.channels.empty())
        fail("GPD: channels ({}) and kernels ({}) must be non-empty lists of the same length", o.channels.size(),
             o.kernels.size());
    features = register_module("features", nn::Sequential());
    int64_t in = o.in_channels, length = o.length;
    for (size_t i = 0; i < o.channels.size(); ++i) {
        features->push_back(nn::Conv1d(nn::Conv1dOptions(in, o.channels[i], o.kernels[i]).padding(o.kernels[i] / 2)));
        features->push_back(nn::BatchNorm1d(o.channels[i]));
        features->push_back(nn::ReLU());
        features->push_back(nn::MaxPool1d(2));
        in = o.channels[i];
        length /= 2;
    }
    if (length < 1) fail("GPD: a window of {} samples is too short for {} pooling layers", o.length, o.channels.size());
    classifier = register_module("classifier", nn::Sequential());
    classifier->push_back(nn::Flatten());
    int64_t width = in * length;
    for (int64_t d : o.dense) {
        classifier->push_back(nn::Linear(width, d));
        classifier->push_back(nn::BatchNorm1d(d));
        classifier->push_back(nn::ReLU());
        width = d;
    }
    classifier->push_back(nn::Linear(width, o.classes));
}

SymTensor GPDImpl::forward(const SymTensor &x) { return classifier->forward(features->forward(x)); }

}  // namespace strata::models
