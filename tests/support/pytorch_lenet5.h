#pragma once
// LeNet-5 as PyTorch's fixture scripts define it (tests/fixtures/pytorch/make_fixtures.py and
// tests/fixtures/onnx/make_models.py), with PyTorch's module names, so their state dicts load
// into it by name.

#include "frontend/nn.h"

namespace strata::testing {

struct PyTorchLeNet5Impl : nn::Module {
    PyTorchLeNet5Impl() : nn::Module("LeNet5") {
        conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)));
        conv2 = register_module("conv2", nn::Conv2d(6, 16, 5));
        fc1 = register_module("fc1", nn::Linear(16 * 5 * 5, 120));
        fc2 = register_module("fc2", nn::Linear(120, 84));
        fc3 = register_module("fc3", nn::Linear(84, 10));
    }
    SymTensor forward(const SymTensor &x) override {
        SymTensor h = max_pool2d(relu(conv1(x)), {2});
        h = flatten(max_pool2d(relu(conv2(h)), {2}), 1);
        return fc3(relu(fc2(relu(fc1(h)))));
    }
    nn::Conv2d conv1{nullptr}, conv2{nullptr};
    nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};
};
STRATA_MODULE(PyTorchLeNet5);

}  // namespace strata::testing
