#pragma once
/// \file
/// Activation modules (no parameters), as torch.nn.ReLU, LeakyReLU, ELU,
/// GELU, Sigmoid, Tanh and Softplus.
///
///     nn::ReLU relu;
///     nn::LeakyReLU leaky(nn::LeakyReLUOptions().negative_slope(0.2));
///     nn::GELU gelu(nn::GELUOptions().approximate("tanh"));

#include "frontend/nn/module.h"
#include "frontend/nn/options.h"

#include <string>

namespace strata::nn {

/// max(x, 0).
class ReLUImpl : public Module {
public:
    ReLUImpl() : Module("ReLU") {}
    SymTensor forward(const SymTensor &input) override;
};
STRATA_MODULE(ReLU);

struct LeakyReLUOptions {
    /* implicit */ LeakyReLUOptions(double negative_slope = 0.01) : negative_slope_(negative_slope) {}
    /// The slope for x < 0.
    STRATA_ARG(double, negative_slope);
};

/// x for x >= 0, negative_slope * x otherwise.
class LeakyReLUImpl : public Module {
public:
    explicit LeakyReLUImpl(const LeakyReLUOptions &options = {});
    SymTensor forward(const SymTensor &input) override;
    std::string extra_repr() const override;
    LeakyReLUOptions options;
};
STRATA_MODULE(LeakyReLU);

struct ELUOptions {
    /* implicit */ ELUOptions(double alpha = 1.0) : alpha_(alpha) {}
    /// The value approached as x -> -inf is -alpha.
    STRATA_ARG(double, alpha);
};

/// x for x > 0, alpha * (exp(x) - 1) otherwise.
class ELUImpl : public Module {
public:
    explicit ELUImpl(const ELUOptions &options = {});
    SymTensor forward(const SymTensor &input) override;
    std::string extra_repr() const override;
    ELUOptions options;
};
STRATA_MODULE(ELU);

struct GELUOptions {
    /* implicit */ GELUOptions(std::string approximate = "none") : approximate_(std::move(approximate)) {}
    /* implicit */ GELUOptions(const char *approximate) : approximate_(approximate) {}
    /// "none" (exact, with erf) or "tanh".
    STRATA_ARG(std::string, approximate);
};

/// x * Phi(x), Phi the standard normal CDF.
class GELUImpl : public Module {
public:
    explicit GELUImpl(const GELUOptions &options = {});
    SymTensor forward(const SymTensor &input) override;
    std::string extra_repr() const override;
    GELUOptions options;
};
STRATA_MODULE(GELU);

/// 1 / (1 + exp(-x)).
class SigmoidImpl : public Module {
public:
    SigmoidImpl() : Module("Sigmoid") {}
    SymTensor forward(const SymTensor &input) override;
};
STRATA_MODULE(Sigmoid);

/// tanh(x).
class TanhImpl : public Module {
public:
    TanhImpl() : Module("Tanh") {}
    SymTensor forward(const SymTensor &input) override;
};
STRATA_MODULE(Tanh);

struct SoftplusOptions {
    SoftplusOptions() = default;
    /// Sharpness; must be positive.
    STRATA_ARG(double, beta) = 1.0;
    /// Above beta * x > threshold the function is x (for numerical stability).
    STRATA_ARG(double, threshold) = 20.0;
};

/// log(1 + exp(beta * x)) / beta.
class SoftplusImpl : public Module {
public:
    explicit SoftplusImpl(const SoftplusOptions &options = {});
    SymTensor forward(const SymTensor &input) override;
    std::string extra_repr() const override;
    SoftplusOptions options;
};
STRATA_MODULE(Softplus);

}  // namespace strata::nn
