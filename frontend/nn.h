#pragma once
/// \file
/// Every nn module, the init functions and the default generator, in one include:
///
///     #include "frontend/nn.h"
///     using namespace strata;
///     manual_seed(0);
///     nn::Sequential net(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)), nn::ReLU(), nn::MaxPool2d(2),
///                        nn::Flatten(), nn::Linear(6 * 14 * 14, 10));
///     Graph g;
///     auto y = net(g.input("x", {64, 1, 28, 28}));   // [64, 10]

#include "frontend/nn/activation.h"
#include "frontend/nn/container.h"
#include "frontend/nn/conv.h"
#include "frontend/nn/dropout.h"
#include "frontend/nn/flatten.h"
#include "frontend/nn/init.h"
#include "frontend/nn/linear.h"
#include "frontend/nn/module.h"
#include "frontend/nn/normalization.h"
#include "frontend/nn/options.h"
#include "frontend/nn/ordered_dict.h"
#include "frontend/nn/pooling.h"
#include "frontend/nn/state_dict.h"
#include "frontend/nn/upsample.h"
#include "runtime/random.h"
