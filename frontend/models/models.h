#pragma once
/// \file
/// The models geoscience users train, written with Strata's own `nn` modules
/// (torchvision.models' role): used by the examples, the benchmarks and the
/// tests, which build small variants through the options.
///
///     models::ResNet20 net;                                  // CIFAR layout, 10 classes
///     models::PhaseNet picker(models::PhaseNetOptions());    // 1-D U-Net, 3 channels in, 3 classes per sample
///     models::GPD gpd;                                        // Ross et al. (2018)

#include "frontend/nn.h"

#include <cstdint>
#include <vector>

namespace strata::models {

/// ResNet for 32x32 images (He et al. 2016, section 4.2): a 3x3 conv, three
/// stages of `blocks` basic blocks with `width`, 2x`width`, 4x`width` channels
/// (the first block of stages 2 and 3 halves the size; its shortcut is a 1x1
/// conv with stride 2 and batch norm), global average pool and a linear layer.
/// ResNet-20 is blocks = 3; `stages` < 3 gives the smaller nets tests use.
struct ResNetOptions {
    int64_t in_channels = 3, width = 16, blocks = 3, classes = 10, stages = 3;
};

class BasicBlockImpl : public nn::Module {
public:
    BasicBlockImpl(int64_t in, int64_t out, int64_t stride);
    SymTensor forward(const SymTensor &x) override;

private:
    nn::Conv2d conv1{nullptr}, conv2{nullptr}, shortcut{nullptr};
    nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, shortcut_bn{nullptr};
};
STRATA_MODULE(BasicBlock);

class ResNetImpl : public nn::Module {
public:
    explicit ResNetImpl(const ResNetOptions &options = {});
    SymTensor forward(const SymTensor &x) override;

private:
    nn::Conv2d stem{nullptr};
    nn::BatchNorm2d stem_bn{nullptr};
    nn::Sequential stages{nullptr};
    nn::Linear head{nullptr};
};
STRATA_MODULE(ResNet);

/// PhaseNet-style 1-D U-Net (Zhu & Beroza 2019): per level a conv + batch
/// norm + relu, then a strided conv down; on the way up a transposed conv,
/// cropped to the skip connection's length, concatenated with it, and a conv.
/// Output: `classes` logits per sample (noise, P, S), [N, classes, L].
struct PhaseNetOptions {
    int64_t in_channels = 3, classes = 3, kernel = 7, stride = 4;
    std::vector<int64_t> channels = {8, 11, 16, 22, 32};
};

class PhaseNetImpl : public nn::Module {
public:
    explicit PhaseNetImpl(const PhaseNetOptions &options = {});
    SymTensor forward(const SymTensor &x) override;

private:
    PhaseNetOptions options_;
    nn::Conv1d input_conv{nullptr};
    nn::BatchNorm1d input_bn{nullptr};
    std::vector<nn::Conv1d> down_convs, level_convs, up_convs;
    std::vector<nn::BatchNorm1d> down_bns, level_bns, up_bns, upsample_bns;
    std::vector<nn::ConvTranspose1d> upsamples;
    nn::Conv1d output_conv{nullptr};
};
STRATA_MODULE(PhaseNet);

/// The GPD picker (Ross et al. 2018): four conv + batch norm + relu + max
/// pool blocks on 3-component windows, then three dense layers; classes P, S, noise.
struct GPDOptions {
    int64_t in_channels = 3, length = 400, classes = 3;
    std::vector<int64_t> channels = {32, 64, 128, 256};
    std::vector<int64_t> kernels = {21, 15, 11, 9};
    std::vector<int64_t> dense = {200, 200};
};

class GPDImpl : public nn::Module {
public:
    explicit GPDImpl(const GPDOptions &options = {});
    SymTensor forward(const SymTensor &x) override;

private:
    nn::Sequential features{nullptr}, classifier{nullptr};
};
STRATA_MODULE(GPD);

}  // namespace strata::models
