#pragma once
/// \file
/// Pooling modules, as torch.nn.MaxPool1d/2d, AvgPool1d/2d and
/// AdaptiveAvgPool1d/2d (no parameters).
///
///     nn::MaxPool2d pool(2);                                   // kernel 2, stride 2
///     nn::AvgPool1d pool(nn::AvgPool1dOptions(5).stride(1).padding(2).count_include_pad(false));
///     nn::AdaptiveAvgPool2d gap(nn::AdaptiveAvgPool2dOptions({1, 1}));

#include "frontend/functional.h"
#include "frontend/nn/module.h"
#include "frontend/nn/options.h"

#include <cstddef>
#include <string>

namespace strata::nn {

template <size_t D> class MaxPoolNdOptions {
public:
    /* implicit */ MaxPoolNdOptions(ExpandingArray<D> kernel_size)
        : kernel_size_(kernel_size), stride_(kernel_size) {}

    STRATA_ARG(ExpandingArray<D>, kernel_size);
    /// Defaults to the kernel size.
    STRATA_ARG(ExpandingArray<D>, stride);
    /// Implicit -inf padding on both sides; at most half the (dilated) kernel.
    STRATA_ARG(ExpandingArray<D>, padding) = 0;
    STRATA_ARG(ExpandingArray<D>, dilation) = 1;
    /// Round the output size up instead of down.
    STRATA_ARG(bool, ceil_mode) = false;
};

template <size_t D> class AvgPoolNdOptions {
public:
    /* implicit */ AvgPoolNdOptions(ExpandingArray<D> kernel_size)
        : kernel_size_(kernel_size), stride_(kernel_size) {}

    STRATA_ARG(ExpandingArray<D>, kernel_size);
    /// Defaults to the kernel size.
    STRATA_ARG(ExpandingArray<D>, stride);
    /// Implicit zero padding on both sides; at most half the kernel.
    STRATA_ARG(ExpandingArray<D>, padding) = 0;
    STRATA_ARG(bool, ceil_mode) = false;
    /// Whether the zero padding counts in the divisor.
    STRATA_ARG(bool, count_include_pad) = true;
};

template <size_t D> class AdaptiveAvgPoolNdOptions {
public:
    /* implicit */ AdaptiveAvgPoolNdOptions(ExpandingArray<D> output_size) : output_size_(output_size) {}

    /// The output's spatial size, whatever the input's.
    STRATA_ARG(ExpandingArray<D>, output_size);
};

using MaxPool1dOptions = MaxPoolNdOptions<1>;
using MaxPool2dOptions = MaxPoolNdOptions<2>;
using AvgPool1dOptions = AvgPoolNdOptions<1>;
using AvgPool2dOptions = AvgPoolNdOptions<2>;
using AdaptiveAvgPool1dOptions = AdaptiveAvgPoolNdOptions<1>;
using AdaptiveAvgPool2dOptions = AdaptiveAvgPoolNdOptions<2>;

/// Max over each window; input [N, C, spatial...] or [C, spatial...].
template <size_t D> class MaxPoolNdImpl : public Module {
public:
    explicit MaxPoolNdImpl(ExpandingArray<D> kernel_size) : MaxPoolNdImpl(MaxPoolNdOptions<D>(kernel_size)) {}
    explicit MaxPoolNdImpl(const MaxPoolNdOptions<D> &options);
    SymTensor forward(const SymTensor &input) override;
    std::string extra_repr() const override;

    MaxPoolNdOptions<D> options;
};

/// Mean over each window.
template <size_t D> class AvgPoolNdImpl : public Module {
public:
    explicit AvgPoolNdImpl(ExpandingArray<D> kernel_size) : AvgPoolNdImpl(AvgPoolNdOptions<D>(kernel_size)) {}
    explicit AvgPoolNdImpl(const AvgPoolNdOptions<D> &options);
    SymTensor forward(const SymTensor &input) override;
    std::string extra_repr() const override;

    AvgPoolNdOptions<D> options;
};

/// Mean over windows chosen so the output has `output_size` (PyTorch's start
/// floor(i * in / out), end ceil((i + 1) * in / out)).
template <size_t D> class AdaptiveAvgPoolNdImpl : public Module {
public:
    explicit AdaptiveAvgPoolNdImpl(ExpandingArray<D> output_size)
        : AdaptiveAvgPoolNdImpl(AdaptiveAvgPoolNdOptions<D>(output_size)) {}
    explicit AdaptiveAvgPoolNdImpl(const AdaptiveAvgPoolNdOptions<D> &options);
    SymTensor forward(const SymTensor &input) override;
    std::string extra_repr() const override;

    AdaptiveAvgPoolNdOptions<D> options;
};

using MaxPool1dImpl = MaxPoolNdImpl<1>;
using MaxPool2dImpl = MaxPoolNdImpl<2>;
using AvgPool1dImpl = AvgPoolNdImpl<1>;
using AvgPool2dImpl = AvgPoolNdImpl<2>;
using AdaptiveAvgPool1dImpl = AdaptiveAvgPoolNdImpl<1>;
using AdaptiveAvgPool2dImpl = AdaptiveAvgPoolNdImpl<2>;
STRATA_MODULE(MaxPool1d);
STRATA_MODULE(MaxPool2d);
STRATA_MODULE(AvgPool1d);
STRATA_MODULE(AvgPool2d);
STRATA_MODULE(AdaptiveAvgPool1d);
STRATA_MODULE(AdaptiveAvgPool2d);

extern template class MaxPoolNdImpl<1>;
extern template class MaxPoolNdImpl<2>;
extern template class AvgPoolNdImpl<1>;
extern template class AvgPoolNdImpl<2>;
extern template class AdaptiveAvgPoolNdImpl<1>;
extern template class AdaptiveAvgPoolNdImpl<2>;

}  // namespace strata::nn
