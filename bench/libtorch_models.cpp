// LibTorch twins of frontend/models/models.cpp. The registration order of every module
// and parameter follows Strata's, because the peer copies weights by position.

#include "bench/libtorch_models.h"

#include <strata/error.h>

#include <fmt/format.h>

#include <vector>

namespace strata::bench {
namespace {

namespace tnn = torch::nn;

// ---- ResNet-20 (models::ResNetOptions defaults: width 16, 3 stages of 3 blocks) ----

struct TorchBasicBlock : tnn::Module {
    tnn::Conv2d conv1{nullptr}, conv2{nullptr}, shortcut{nullptr};
    tnn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, shortcut_bn{nullptr};

    TorchBasicBlock(int64_t in, int64_t out, int64_t stride) {
        conv1 = register_module("conv1", tnn::Conv2d(tnn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
        bn1 = register_module("bn1", tnn::BatchNorm2d(out));
        conv2 = register_module("conv2", tnn::Conv2d(tnn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
        bn2 = register_module("bn2", tnn::BatchNorm2d(out));
        if (stride != 1 || in != out) {
            shortcut = register_module("shortcut", tnn::Conv2d(tnn::Conv2dOptions(in, out, 1).stride(stride).bias(false)));
            shortcut_bn = register_module("shortcut_bn", tnn::BatchNorm2d(out));
        }
    }
    torch::Tensor forward(const torch::Tensor &x) {
        torch::Tensor y = bn2(conv2(torch::relu(bn1(conv1(x)))));
        return torch::relu(y + (shortcut ? shortcut_bn(shortcut(x)) : x));
    }
};

struct TorchResNet20 : TorchBenchModel {
    tnn::Conv2d stem{nullptr};
    tnn::BatchNorm2d stem_bn{nullptr};
    std::vector<std::shared_ptr<TorchBasicBlock>> blocks;
    tnn::Linear head{nullptr};

    TorchResNet20() {
        const int64_t width = 16, blocks_per_stage = 3, classes = 10;
        stem = register_module("stem", tnn::Conv2d(tnn::Conv2dOptions(3, width, 3).padding(1).bias(false)));
        stem_bn = register_module("stem_bn", tnn::BatchNorm2d(width));
        auto stages = register_module("stages", std::make_shared<tnn::Module>());
        int64_t in = width;
        for (int64_t stage = 0; stage < 3; ++stage) {
            const int64_t out = width << stage;
            for (int64_t b = 0; b < blocks_per_stage; ++b) {
                blocks.push_back(std::make_shared<TorchBasicBlock>(in, out, b == 0 && stage > 0 ? 2 : 1));
                stages->register_module(fmt::format("{}_{}", stage, b), blocks.back());
                in = out;
            }
        }
        head = register_module("head", tnn::Linear(in, classes));
    }
    torch::Tensor forward(torch::Tensor x) override {
        x = torch::relu(stem_bn(stem(x)));
        for (auto &block : blocks) x = block->forward(x);
        return head(torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
    }
};

// ---- PhaseNet (models::PhaseNetOptions defaults) ----

struct TorchPhaseNet : TorchBenchModel {
    const std::vector<int64_t> channels = {8, 11, 16, 22, 32};
    const int64_t kernel = 7, stride = 4, classes = 3;
    tnn::Conv1d input_conv{nullptr}, output_conv{nullptr};
    tnn::BatchNorm1d input_bn{nullptr};
    std::vector<tnn::Conv1d> level_convs, down_convs, up_convs;
    std::vector<tnn::BatchNorm1d> level_bns, down_bns, upsample_bns, up_bns;
    std::vector<tnn::ConvTranspose1d> upsamples;

    TorchPhaseNet() {
        const auto &c = channels;
        const int64_t pad = kernel / 2;
        input_conv = register_module("input_conv", tnn::Conv1d(tnn::Conv1dOptions(3, c[0], kernel).padding(pad)));
        input_bn = register_module("input_bn", tnn::BatchNorm1d(c[0]));
        for (size_t i = 0; i + 1 < c.size(); ++i) {
            const std::string n = std::to_string(i);
            level_convs.push_back(register_module("level_conv" + n, tnn::Conv1d(tnn::Conv1dOptions(c[i], c[i], kernel).padding(pad))));
            level_bns.push_back(register_module("level_bn" + n, tnn::BatchNorm1d(c[i])));
            down_convs.push_back(register_module(
                "down_conv" + n, tnn::Conv1d(tnn::Conv1dOptions(c[i], c[i + 1], kernel).stride(stride).padding(pad))));
            down_bns.push_back(register_module("down_bn" + n, tnn::BatchNorm1d(c[i + 1])));
            upsamples.push_back(register_module(
                "upsample" + n,
                tnn::ConvTranspose1d(tnn::ConvTranspose1dOptions(c[i + 1], c[i], kernel).stride(stride).padding(1))));
            upsample_bns.push_back(register_module("upsample_bn" + n, tnn::BatchNorm1d(c[i])));
            up_convs.push_back(register_module("up_conv" + n, tnn::Conv1d(tnn::Conv1dOptions(2 * c[i], c[i], kernel).padding(pad))));
            up_bns.push_back(register_module("up_bn" + n, tnn::BatchNorm1d(c[i])));
        }
        output_conv = register_module("output_conv", tnn::Conv1d(tnn::Conv1dOptions(c[0], classes, 1)));
    }
    torch::Tensor forward(torch::Tensor x) override {
        x = torch::relu(input_bn(input_conv(x)));
        std::vector<torch::Tensor> skips;
        for (size_t i = 0; i < level_convs.size(); ++i) {
            x = torch::relu(level_bns[i](level_convs[i](x)));
            skips.push_back(x);
            x = torch::relu(down_bns[i](down_convs[i](x)));
        }
        for (size_t i = level_convs.size(); i-- > 0;) {
            x = torch::relu(upsample_bns[i](upsamples[i](x)));
            x = x.narrow(2, 0, skips[i].size(2));
            x = torch::relu(up_bns[i](up_convs[i](torch::cat({skips[i], x}, 1))));
        }
        return output_conv(x);
    }
};

// ---- GPD (models::GPDOptions defaults) ----

struct TorchGPD : TorchBenchModel {
    tnn::Sequential features{nullptr}, classifier{nullptr};

    TorchGPD() {
        const std::vector<int64_t> channels = {32, 64, 128, 256}, kernels = {21, 15, 11, 9}, dense = {200, 200};
        features = register_module("features", tnn::Sequential());
        int64_t in = 3, length = 400;
        for (size_t i = 0; i < channels.size(); ++i) {
            features->push_back(tnn::Conv1d(tnn::Conv1dOptions(in, channels[i], kernels[i]).padding(kernels[i] / 2)));
            features->push_back(tnn::BatchNorm1d(channels[i]));
            features->push_back(tnn::ReLU());
            features->push_back(tnn::MaxPool1d(2));
            in = channels[i];
            length /= 2;
        }
        classifier = register_module("classifier", tnn::Sequential());
        classifier->push_back(tnn::Flatten());
        int64_t width = in * length;
        for (int64_t d : dense) {
            classifier->push_back(tnn::Linear(width, d));
            classifier->push_back(tnn::BatchNorm1d(d));
            classifier->push_back(tnn::ReLU());
            width = d;
        }
        classifier->push_back(tnn::Linear(width, 3));
    }
    torch::Tensor forward(torch::Tensor x) override { return classifier->forward(features->forward(x)); }
};

}  // namespace

std::shared_ptr<TorchBenchModel> make_torch_model(const std::string &name) {
    if (name == "resnet20") return std::make_shared<TorchResNet20>();
    if (name == "phasenet") return std::make_shared<TorchPhaseNet>();
    if (name == "gpd") return std::make_shared<TorchGPD>();
    fail("bench: no LibTorch twin of model '{}' (resnet20, phasenet, gpd)", name);
}

}  // namespace strata::bench
