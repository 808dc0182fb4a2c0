#pragma once
/// \file
/// `nn::Flatten`, as torch.nn.Flatten: merges dims start_dim..end_dim
/// (by default every dim but the batch dim: [N, C, H, W] -> [N, C*H*W]).
///
///     nn::Flatten flat;
///     nn::Flatten flat(nn::FlattenOptions().start_dim(2));

#include "frontend/functional.h"
#include "frontend/nn/module.h"
#include "frontend/nn/options.h"

#include <cstdint>
#include <string>

namespace strata::nn {

struct FlattenOptions {
    FlattenOptions() = default;
    /// First dim to merge; negative counts from the end.
    STRATA_ARG(int64_t, start_dim) = 1;
    /// Last dim to merge (inclusive); negative counts from the end.
    STRATA_ARG(int64_t, end_dim) = -1;
};

class FlattenImpl : public Module {
public:
    explicit FlattenImpl(const FlattenOptions &options_ = {}) : Module("Flatten"), options(options_) {}

    SymTensor forward(const SymTensor &input) override {
        return flatten(input, options.start_dim(), options.end_dim());
    }
    std::string extra_repr() const override {
        return fmt::format("start_dim={}, end_dim={}", options.start_dim(), options.end_dim());
    }

    FlattenOptions options;
};

STRATA_MODULE(Flatten);

}  // namespace strata::nn
