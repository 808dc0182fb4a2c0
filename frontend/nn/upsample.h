#pragma once
/// \file
/// nn::Upsample, as torch.nn.Upsample (no parameters): F.interpolate with fixed arguments.
///
///     nn::Upsample up(nn::UpsampleOptions().scale_factor({2}).mode("bilinear"));  // [N, C, H, W] -> [N, C, 2H, 2W]
///     nn::Upsample to_len(nn::UpsampleOptions().size({100}).mode("linear").align_corners(true));

#include "frontend/functional.h"
#include "frontend/nn/module.h"
#include "frontend/nn/options.h"

#include <optional>
#include <string>
#include <vector>

namespace strata::nn {

class UpsampleOptions {
public:
    /// The output's spatial size (one value for every dim, or one per dim); or
    STRATA_ARG(std::vector<int64_t>, size);
    /// the factor each spatial size is multiplied by (one value, or one per dim).
    STRATA_ARG(std::vector<double>, scale_factor);
    /// "nearest", "linear" ([N, C, L]), "bilinear" ([N, C, H, W]) or "area".
    STRATA_ARG(std::string, mode) = "nearest";
    /// Linear modes only; unset is false.
    STRATA_ARG(std::optional<bool>, align_corners);
    STRATA_ARG(std::optional<bool>, recompute_scale_factor);
};

/// Resamples [N, C, L] or [N, C, H, W] inputs as F.interpolate with the options' arguments.
class UpsampleImpl : public Module {
public:
    explicit UpsampleImpl(const UpsampleOptions &options = {});
    SymTensor forward(const SymTensor &input) override;
    /// "scale_factor=2.0, mode='nearest'" or "size=(5, 7), mode='bilinear'", as PyTorch prints it.
    std::string extra_repr() const override;

    UpsampleOptions options;
};
STRATA_MODULE(Upsample);

}  // namespace strata::nn
