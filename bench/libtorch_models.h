#pragma once
/// \file
/// The benchmark models of frontend/models written with LibTorch's modules, each
/// registering its parameters in the same order and with the same shapes as Strata's, so
/// the same initial weights can be copied in and both engines train the same network.
/// Only bench/libtorch_peer.cpp includes this (it needs <torch/torch.h>).

#include <torch/torch.h>

#include <memory>
#include <string>

namespace strata::bench {

/// A model with one input and one output (logits).
struct TorchBenchModel : torch::nn::Module {
    virtual torch::Tensor forward(torch::Tensor x) = 0;
};

/// "resnet20", "phasenet" or "gpd", at the options the benchmarks use (models.h's defaults).
std::shared_ptr<TorchBenchModel> make_torch_model(const std::string &name);

}  // namespace strata::bench
