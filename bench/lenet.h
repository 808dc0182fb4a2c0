#pragma once
/// \file
/// LeNet-5 as the benchmarks build it (Fashion-MNIST 1x28x28 in, 10 classes out):
/// conv 5x5 1->6 pad 2, ReLU, max-pool 2, conv 5x5 6->16, ReLU, max-pool 2,
/// then 400 -> 120 -> 84 -> 10 with ReLUs between. LibTorch builds the same.

#include "frontend/nn/container.h"

namespace strata::bench {

/// A new LeNet-5 with PyTorch's default init from the default generator.
nn::Sequential make_lenet(int64_t classes = 10);

/// Multiply-adds per image: conv1 28x28x6 outputs x 25, conv2 10x10x16 x 150,
/// and the three linear layers.
constexpr double kLeNetConv1Macs = 28 * 28 * 6 * 25;
constexpr double kLeNetForwardMacs = kLeNetConv1Macs + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10;

}  // namespace strata::bench
