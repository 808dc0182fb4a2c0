#include "frontend/nn/activation.h"

#include "frontend/functional.h"

#include <strata/error.h>

#include <cmath>

namespace strata::nn {

SymTensor ReLUImpl::forward(const SymTensor &input) { return relu(input); }

LeakyReLUImpl::LeakyReLUImpl(const LeakyReLUOptions &options_) : Module("LeakyReLU"), options(options_) {
    if (!std::isfinite(options.negative_slope()))
        fail("LeakyReLU: negative_slope must be finite, got {}", options.negative_slope());
}
SymTensor LeakyReLUImpl::forward(const SymTensor &input) {
    return leaky_relu(input, options.negative_slope());
}
std::string LeakyReLUImpl::extra_repr() const {
    return fmt::format("negative_slope={}", options.negative_slope());
}

ELUImpl::ELUImpl(const ELUOptions &options_) : Module("ELU"), options(options_) {
    if (!std::isfinite(options.alpha())) fail("ELU: alpha must be finite, got {}", options.alpha());
}
SymTensor ELUImpl::forward(const SymTensor &input) { return elu(input, options.alpha()); }
std::string ELUImpl::extra_repr() const { return fmt::format("alpha={}", options.alpha()); }

GELUImpl::GELUImpl(const GELUOptions &options_) : Module("GELU"), options(options_) {
    if (options.approximate() != "none" && options.approximate() != "tanh")
        fail("GELU: approximate must be \"none\" or \"tanh\", got \"{}\"", options.approximate());
}
SymTensor GELUImpl::forward(const SymTensor &input) { return gelu(input, options.approximate()); }
std::string GELUImpl::extra_repr() const {
    return options.approximate() == "none" ? "" : "approximate=" + options.approximate();
}

SymTensor SigmoidImpl::forward(const SymTensor &input) { return sigmoid(input); }

SymTensor TanhImpl::forward(const SymTensor &input) { return tanh(input); }

SoftplusImpl::SoftplusImpl(const SoftplusOptions &options_) : Module("Softplus"), options(options_) {
    // beta divides the result: zero or negative would not be a softplus.
    if (!(options.beta() > 0.0) || !std::isfinite(options.beta()))
        fail("Softplus: beta must be positive and finite, got {}", options.beta());
    if (std::isnan(options.threshold())) fail("Softplus: threshold must not be NaN");
}
SymTensor SoftplusImpl::forward(const SymTensor &input) {
    return softplus(input, options.beta(), options.threshold());
}
std::string SoftplusImpl::extra_repr() const {
    return fmt::format("beta={}, threshold={}", options.beta(), options.threshold());
}

}  // namespace strata::nn
