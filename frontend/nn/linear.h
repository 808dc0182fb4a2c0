#pragma once
/// \file
/// `nn::Linear`: y = x W^T + b, as torch.nn.Linear.
///
///     nn::Linear fc(nn::LinearOptions(400, 120).bias(false));
///     nn::Linear fc2(120, 84);

#include "frontend/nn/module.h"
#include "frontend/nn/options.h"

#include <cstdint>
#include <string>

namespace strata::nn {

struct LinearOptions {
    LinearOptions(int64_t in_features, int64_t out_features)
        : in_features_(in_features), out_features_(out_features) {}

    /// Size of the last dim of the input.
    STRATA_ARG(int64_t, in_features);
    /// Size of the last dim of the output.
    STRATA_ARG(int64_t, out_features);
    /// Whether to add a learnable bias.
    STRATA_ARG(bool, bias) = true;
    /// The dtype of the weights and biases (f32 or f64); `Module::to` converts them later.
    STRATA_ARG(DType, dtype) = DType::f32;
};

/// Applies x W^T + b to the last dim of x ([..., in] -> [..., out]).
/// weight [out, in] and bias [out] start as U(-1/sqrt(in), 1/sqrt(in)).
class LinearImpl : public Module {
public:
    LinearImpl(int64_t in_features, int64_t out_features)
        : LinearImpl(LinearOptions(in_features, out_features)) {}
    explicit LinearImpl(const LinearOptions &options);

    /// Draws new weights (and bias) from the default generator.
    void reset_parameters();
    SymTensor forward(const SymTensor &input) override;
    std::string extra_repr() const override;

protected:
    void refresh_tensor_members() override;

public:
    LinearOptions options;
    Tensor weight;
    /// Undefined when options.bias() is false.
    Tensor bias;
};

STRATA_MODULE(Linear);

}  // namespace strata::nn
