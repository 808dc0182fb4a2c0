/// Issue 21's "Done when" for training: the real-model fixtures' PyTorch state_dicts
/// (tests/fixtures/onnx/make_models.py) load by name into the same architectures written with
/// Strata's nn modules, and three SGD steps (lr 0.01, momentum 0.9, train mode) in f64 from
/// those weights give PyTorch's f64 loss before each step and PyTorch's weights after the last
/// (every state_dict entry of at most 4096 elements, recorded as "after.KEY").

#include "frontend/nn.h"
#include "frontend/nn/state_dict.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/train_step.h"

#include <catch2/catch.hpp>

#include "tests/support/pytorch_lenet5.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <memory>
#include <vector>
#include <string>

using namespace strata;
using strata::testing::PyTorchLeNet5;

namespace {

const std::string fixtures = std::string(STRATA_SOURCE_DIR) + "/tests/fixtures/onnx/";

/// Picker1d of make_models.py: per-sample P / S / noise logits from two joined branches.
struct Picker1dImpl : nn::Module {
    Picker1dImpl() : nn::Module("Picker1d") {
        conv1 = register_module("conv1", nn::Conv1d(nn::Conv1dOptions(3, 8, 7).padding(3)));
        bn1 = register_module("bn1", nn::BatchNorm1d(8));
        wide = register_module("wide", nn::Conv1d(nn::Conv1dOptions(8, 8, 7).padding(3)));
        narrow = register_module("narrow", nn::Conv1d(nn::Conv1dOptions(8, 8, 3).padding(1).bias(false)));
        bn2 = register_module("bn2", nn::BatchNorm1d(16));
        up = register_module("up", nn::ConvTranspose1d(nn::ConvTranspose1dOptions(16, 8, 2).stride(2)));
        head = register_module("head", nn::Conv1d(8, 3, 1));
    }
    SymTensor forward(const SymTensor &input) override {
        SymTensor x = leaky_relu(bn1(conv1(input)), 0.1);
        x = max_pool1d(x, {2});
        x = relu(bn2(concat({wide(x), narrow(x)}, 1)));
        return head(relu(up(x)));
    }
    nn::Conv1d conv1{nullptr}, wide{nullptr}, narrow{nullptr}, head{nullptr};
    nn::BatchNorm1d bn1{nullptr}, bn2{nullptr};
    nn::ConvTranspose1d up{nullptr};
};
STRATA_MODULE(Picker1d);

/// BasicBlock of make_models.py: option-A shortcut (subsample, pad the channels with zeros).
struct BasicBlockImpl : nn::Module {
    BasicBlockImpl(int64_t planes_in, int64_t planes, int64_t stride)
        : nn::Module("BasicBlock"), pad_channels(planes - planes_in), stride(stride) {
        conv1 = register_module(
            "conv1", nn::Conv2d(nn::Conv2dOptions(planes_in, planes, 3).stride(stride).padding(1).bias(false)));
        bn1 = register_module("bn1", nn::BatchNorm2d(planes));
        conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(planes, planes, 3).padding(1).bias(false)));
        bn2 = register_module("bn2", nn::BatchNorm2d(planes));
    }
    SymTensor forward(const SymTensor &x) override {
        SymTensor out = bn2(conv2(relu(bn1(conv1(x)))));
        SymTensor shortcut = x;
        if (stride != 1 || pad_channels != 0) {
            const int64_t end = std::numeric_limits<int64_t>::max();
            shortcut = slice(slice(x, 2, 0, end, 2), 3, 0, end, 2);
            shortcut = pad(shortcut, {0, 0, 0, 0, pad_channels / 2, pad_channels / 2});
        }
        return relu(out + shortcut);
    }
    int64_t pad_channels, stride;
    nn::Conv2d conv1{nullptr}, conv2{nullptr};
    nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
};

/// PyTorch's nn.Sequential of three blocks: children named "0", "1", "2".
struct ResNetLayerImpl : nn::Module {
    ResNetLayerImpl(int64_t planes_in, int64_t planes, int64_t stride) : nn::Module("Sequential") {
        for (int b = 0; b < 3; ++b) {
            blocks.push_back(register_module(std::to_string(b), std::make_shared<BasicBlockImpl>(
                                                                     b == 0 ? planes_in : planes, planes, b == 0 ? stride : 1)));
        }
    }
    SymTensor forward(const SymTensor &x) override {
        SymTensor h = x;
        for (const auto &block : blocks) h = block->forward(h);
        return h;
    }
    std::vector<std::shared_ptr<BasicBlockImpl>> blocks;
};

/// The CIFAR ResNet-20 of make_models.py.
struct FixtureResNet20Impl : nn::Module {
    FixtureResNet20Impl() : nn::Module("ResNet20") {
        conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(3, 16, 3).padding(1).bias(false)));
        bn1 = register_module("bn1", nn::BatchNorm2d(16));
        layer1 = register_module("layer1", std::make_shared<ResNetLayerImpl>(16, 16, 1));
        layer2 = register_module("layer2", std::make_shared<ResNetLayerImpl>(16, 32, 2));
        layer3 = register_module("layer3", std::make_shared<ResNetLayerImpl>(32, 64, 2));
        linear = register_module("linear", nn::Linear(64, 10));
    }
    SymTensor forward(const SymTensor &x) override {
        SymTensor out = relu(bn1(conv1(x)));
        out = layer3->forward(layer2->forward(layer1->forward(out)));
        return linear(flatten(avg_pool2d(out, {8}), 1));
    }
    nn::Conv2d conv1{nullptr};
    nn::BatchNorm2d bn1{nullptr};
    std::shared_ptr<ResNetLayerImpl> layer1, layer2, layer3;
    nn::Linear linear{nullptr};
};
STRATA_MODULE(FixtureResNet20);

/// UNet1d of make_models.py: ConvTranspose1d, a crop to the skip's length, Concat; an mse_loss fixture.
struct FixtureUNet1dImpl : nn::Module {
    FixtureUNet1dImpl() : nn::Module("UNet1d") {
        enc = register_module("enc", nn::Conv1d(nn::Conv1dOptions(2, 8, 5).padding(2)));
        mid = register_module("mid", nn::Conv1d(nn::Conv1dOptions(8, 16, 3).padding(1)));
        up = register_module("up", nn::ConvTranspose1d(nn::ConvTranspose1dOptions(16, 8, 4).stride(2)));
        dec = register_module("dec", nn::Conv1d(nn::Conv1dOptions(16, 8, 3).padding(1)));
        out = register_module("out", nn::Conv1d(8, 1, 1));
    }
    SymTensor forward(const SymTensor &x) override {
        SymTensor skip = tanh(enc(x));
        SymTensor y = relu(mid(max_pool1d(skip, {2})));
        y = slice(up(y), 2, 1, 1 + skip.shape()[2]);  // crop 46 samples to the skip's 45
        y = elu(dec(concat({skip, y}, 1)));
        return out(y);
    }
    nn::Conv1d enc{nullptr}, mid{nullptr}, dec{nullptr}, out{nullptr};
    nn::ConvTranspose1d up{nullptr};
};
STRATA_MODULE(FixtureUNet1d);

/// UNet2d of make_models.py: nearest (scale 2) and bilinear (scale 2; align_corners to a size)
/// upsampling between Conv2d, MaxPool2d, AvgPool2d and skip Concats; an mse_loss fixture.
struct FixtureUNet2dImpl : nn::Module {
    FixtureUNet2dImpl() : nn::Module("UNet2d") {
        enc1 = register_module("enc1", nn::Conv2d(nn::Conv2dOptions(2, 4, 3).padding(1)));
        enc2 = register_module("enc2", nn::Conv2d(nn::Conv2dOptions(4, 8, 3).padding(1)));
        bottom = register_module("bottom", nn::Conv2d(nn::Conv2dOptions(8, 8, 3).padding(1)));
        dec2 = register_module("dec2", nn::Conv2d(nn::Conv2dOptions(16, 4, 3).padding(1)));
        dec1 = register_module("dec1", nn::Conv2d(nn::Conv2dOptions(8, 4, 3).padding(1)));
        out = register_module("out", nn::Conv2d(4, 1, 1));
        upsample = register_module("upsample", nn::Upsample(nn::UpsampleOptions().scale_factor({2}).mode("nearest")));
    }
    SymTensor forward(const SymTensor &x) override {
        const SymTensor s1 = relu(enc1(x));                                // 12 x 12
        const SymTensor s2 = relu(enc2(max_pool2d(s1, {2})));              // 6 x 6
        const SymTensor b = sigmoid(bottom(avg_pool2d(s2, {2})));          // 3 x 3
        SymTensor y = relu(dec2(concat({s2, upsample(b)}, 1)));            // nearest, 6 x 6
        InterpolateOptions twice;
        twice.scale_factor = {2};
        twice.mode = "bilinear";
        twice.align_corners = false;
        y = relu(dec1(concat({s1, interpolate(y, twice)}, 1)));            // 12 x 12
        InterpolateOptions to_9x9;
        to_9x9.size = {9, 9};
        to_9x9.mode = "bilinear";
        to_9x9.align_corners = true;
        return out(interpolate(y, to_9x9));
    }
    nn::Conv2d enc1{nullptr}, enc2{nullptr}, bottom{nullptr}, dec2{nullptr}, dec1{nullptr}, out{nullptr};
    nn::Upsample upsample{nullptr};
};
STRATA_MODULE(FixtureUNet2d);

/// Every "after.KEY" of the record (PyTorch's state_dict entry KEY after the three steps) equals
/// the model's KEY to `tolerance` of the tensor's largest magnitude (exactly for integers).
void check_weights_follow_pytorch(const nn::Module &model, const SafetensorsFile &record, double tolerance) {
    const NamedTensors ours = nn::state_dict(model);
    int checked = 0;
    for (const auto &[key, theirs] : record.tensors) {
        if (key.rfind("after.", 0) != 0) continue;
        const std::string name = key.substr(6);
        INFO("state_dict entry " << name);
        const auto it = std::find_if(ours.begin(), ours.end(), [&](const auto &entry) { return entry.first == name; });
        REQUIRE(it != ours.end());
        const Tensor &mine = it->second;
        REQUIRE(mine.shape() == theirs.shape());
        double diff = 0, scale = 0;
        for (int64_t i = 0; i < mine.numel(); ++i) {
            diff = std::max(diff, std::fabs(mine.get_flat(i) - theirs.get_flat(i)));
            scale = std::max(scale, std::fabs(theirs.get_flat(i)));
        }
        INFO(std::setprecision(17) << "max difference " << diff << ", largest magnitude " << scale);
        if (theirs.dtype() == DType::f64) CHECK(diff <= tolerance * std::max(scale, 1e-300));
        else CHECK(diff == 0);
        ++checked;
    }
    CHECK(checked > 0);
}

/// Loads NAME_state.safetensors strictly into `model`, converts it to f64 and runs the three
/// recorded SGD steps; each step's loss must be PyTorch's to `tolerance` (relative).
void check_sgd_follows_pytorch(nn::Module &model, const std::string &name, double tolerance) {
    const nn::IncompatibleKeys keys = nn::load_state_dict(model, fixtures + name + "_state.safetensors", {.strict = true});
    REQUIRE(keys.empty());
    model.to(DType::f64);
    model.train();
    const SafetensorsFile record = read_safetensors(fixtures + name + "_sgd.safetensors");
    REQUIRE(record.metadata.count("loss_kind") == 1);
    const std::string loss_kind = record.metadata.at("loss_kind");
    REQUIRE((loss_kind == "cross_entropy" || loss_kind == "mse_loss"));
    const Tensor &input0 = *record.find("input_0");
    const Tensor &target0 = *record.find("target_0");
    REQUIRE(input0.dtype() == DType::f64);
    optim::SGD sgd(optim::SGDOptions(0.01).momentum(0.9));
    TrainStep step(model, sgd, input0.shape(), target0.shape(), target0.dtype(),
                   [loss_kind](const SymTensor &y, const SymTensor &t) {
                       return loss_kind == "cross_entropy" ? cross_entropy(y, t) : mse_loss(y, t);
                   });
    for (int i = 0; i < 3; ++i) {
        INFO(name << " step " << i);
        const Tensor *input = record.find("input_" + std::to_string(i));
        const Tensor *target = record.find("target_" + std::to_string(i));
        const Tensor *expected = record.find("loss_" + std::to_string(i));
        REQUIRE((input && target && expected));
        const double theirs = expected->item();
        const double ours = step.step(*input, *target).loss;
        INFO(std::setprecision(17) << "Strata " << ours << " PyTorch " << theirs);
        CHECK(std::fabs(ours - theirs) <= tolerance * std::fabs(theirs));
    }
    check_weights_follow_pytorch(model, record, tolerance);
}

}  // namespace

TEST_CASE("LeNet-5: PyTorch's state_dict loads by name and SGD in f64 follows PyTorch's losses",
          "[nn][state_dict][pytorch_fixture]") {
    PyTorchLeNet5 net;
    check_sgd_follows_pytorch(*net, "lenet5", 1e-10);
}

TEST_CASE("Picker1d with BatchNorm: PyTorch's state_dict loads by name and SGD in f64 follows PyTorch's losses",
          "[nn][state_dict][pytorch_fixture]") {
    Picker1d net;
    check_sgd_follows_pytorch(*net, "picker1d", 1e-10);
}

TEST_CASE("ResNet-20: PyTorch's state_dict loads by name and SGD in f64 follows PyTorch's losses",
          "[nn][state_dict][pytorch_fixture]") {
    FixtureResNet20 net;
    check_sgd_follows_pytorch(*net, "resnet20", 1e-9);
}

TEST_CASE("UNet1d with mse_loss: PyTorch's state_dict loads by name and SGD in f64 follows PyTorch's losses",
          "[nn][state_dict][pytorch_fixture]") {
    FixtureUNet1d net;
    check_sgd_follows_pytorch(*net, "unet1d", 1e-10);
}

TEST_CASE("UNet2d with nearest and bilinear upsampling: PyTorch's state_dict loads by name and SGD in f64 follows "
          "PyTorch's losses",
          "[nn][state_dict][pytorch_fixture]") {
    FixtureUNet2d net;
    check_sgd_follows_pytorch(*net, "unet2d", 1e-10);
}
