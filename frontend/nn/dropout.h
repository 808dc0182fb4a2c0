#pragma once
/// \file
/// `nn::Dropout`, as torch.nn.Dropout.
///
///     nn::Dropout drop(0.5);
///
/// In training mode each forward call draws a fresh mask seed (the module's
/// base seed, taken from the default generator at construction, plus a call
/// counter), so two Dropout layers, or two calls of one, drop different
/// elements. In eval mode it is the identity.

#include "frontend/nn/module.h"
#include "frontend/nn/options.h"

#include <cstdint>
#include <string>

namespace strata::nn {

struct DropoutOptions {
    /* implicit */ DropoutOptions(double p = 0.5) : p_(p) {}
    /// Probability of zeroing an element, in [0, 1].
    STRATA_ARG(double, p);
};

/// Zeroes elements with probability p and scales the others by 1 / (1 - p)
/// when training; the identity in eval mode.
class DropoutImpl : public Module {
public:
    explicit DropoutImpl(const DropoutOptions &options = {});
    SymTensor forward(const SymTensor &input) override;
    std::string extra_repr() const override;

    DropoutOptions options;

private:
    int64_t base_seed_;
    int64_t calls_ = 0;
};

STRATA_MODULE(Dropout);

}  // namespace strata::nn
