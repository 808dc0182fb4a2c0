#pragma once
/// \file
/// Convolution modules, as torch.nn.Conv1d / Conv2d / ConvTranspose1d / ConvTranspose2d.
///
///     nn::Conv2d conv(nn::Conv2dOptions(1, 6, 5).padding(2));
///     nn::Conv1d conv(nn::Conv1dOptions(3, 16, 201).padding("same").padding_mode("reflect"));
///     nn::ConvTranspose2d up(nn::ConvTranspose2dOptions(16, 8, 2).stride(2));
///
/// Weights and biases start as PyTorch's: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
/// with fan_in = (C_in / groups) * prod(kernel) for a convolution and
/// (C_out / groups) * prod(kernel) for a transposed one.

#include "frontend/functional.h"
#include "frontend/nn/module.h"
#include "frontend/nn/options.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace strata::nn {

/// Options of Conv1d (D = 1) and Conv2d (D = 2).
template <size_t D> class ConvNdOptions {
public:
    ConvNdOptions(int64_t in_channels, int64_t out_channels, ExpandingArray<D> kernel_size)
        : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(std::move(kernel_size)) {}

    STRATA_ARG(int64_t, in_channels);
    STRATA_ARG(int64_t, out_channels);
    STRATA_ARG(ExpandingArray<D>, kernel_size);
    STRATA_ARG(ExpandingArray<D>, stride) = 1;
    STRATA_ARG(ExpandingArray<D>, dilation) = 1;
    /// Input channels and output channels are split into `groups` independent groups.
    STRATA_ARG(int64_t, groups) = 1;
    STRATA_ARG(bool, bias) = true;
    /// How the padding is filled: "zeros", "reflect", "replicate" or "circular".
    STRATA_ARG(std::string, padding_mode) = "zeros";
    /// The dtype of the weights and biases (f32 or f64); `Module::to` converts them later.
    STRATA_ARG(DType, dtype) = DType::f32;

public:
    /// Padding: one value for every dim, one per dim, asymmetric
    /// {lo_0, hi_0, lo_1, hi_1, ...}, "valid" (none) or "same" (output as long
    /// as the input; stride 1 only).
    ConvNdOptions &padding(int64_t p) { return set_padding(Padding(p)); }
    ConvNdOptions &padding(int p) { return set_padding(Padding(static_cast<int64_t>(p))); }
    ConvNdOptions &padding(std::initializer_list<int64_t> p) { return set_padding(Padding(p)); }
    ConvNdOptions &padding(const Ints &p) { return set_padding(Padding(p)); }
    ConvNdOptions &padding(const std::string &mode) { return set_padding(Padding(mode)); }
    ConvNdOptions &padding(const char *mode) { return set_padding(Padding(std::string(mode))); }
    ConvNdOptions &padding(const Padding &p) { return set_padding(p); }
    const Padding &padding() const { return padding_; }

private:
    ConvNdOptions &set_padding(const Padding &p) {
        padding_ = p;
        return *this;
    }
    Padding padding_ = Padding(int64_t{0});
};

using Conv1dOptions = ConvNdOptions<1>;
using Conv2dOptions = ConvNdOptions<2>;

/// Conv1d (input [N, C_in, L] or [C_in, L]) and Conv2d (input [N, C_in, H, W]
/// or [C_in, H, W]). weight [C_out, C_in / groups, k...], bias [C_out].
template <size_t D> class ConvNdImpl : public Module {
public:
    ConvNdImpl(int64_t in_channels, int64_t out_channels, ExpandingArray<D> kernel_size)
        : ConvNdImpl(ConvNdOptions<D>(in_channels, out_channels, std::move(kernel_size))) {}
    explicit ConvNdImpl(const ConvNdOptions<D> &options);

    /// Draws new weights (and bias) from the default generator.
    void reset_parameters();
    SymTensor forward(const SymTensor &input) override;
    std::string extra_repr() const override;

protected:
    void refresh_tensor_members() override;

public:
    ConvNdOptions<D> options;
    Tensor weight;
    /// Undefined when options.bias() is false.
    Tensor bias;
};

using Conv1dImpl = ConvNdImpl<1>;
using Conv2dImpl = ConvNdImpl<2>;
STRATA_MODULE(Conv1d);
STRATA_MODULE(Conv2d);

/// Options of ConvTranspose1d (D = 1) and ConvTranspose2d (D = 2).
template <size_t D> class ConvTransposeNdOptions {
public:
    ConvTransposeNdOptions(int64_t in_channels, int64_t out_channels, ExpandingArray<D> kernel_size)
        : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(std::move(kernel_size)) {}

    STRATA_ARG(int64_t, in_channels);
    STRATA_ARG(int64_t, out_channels);
    STRATA_ARG(ExpandingArray<D>, kernel_size);
    STRATA_ARG(ExpandingArray<D>, stride) = 1;
    /// Removes dilation * (kernel_size - 1) - padding from each side of the full output.
    STRATA_ARG(ExpandingArray<D>, padding) = 0;
    /// Extra size added to one side of the output (to pick among the sizes a
    /// strided convolution maps to the same input size); must be smaller than
    /// stride or dilation.
    STRATA_ARG(ExpandingArray<D>, output_padding) = 0;
    STRATA_ARG(int64_t, groups) = 1;
    STRATA_ARG(bool, bias) = true;
    STRATA_ARG(ExpandingArray<D>, dilation) = 1;
    /// Only "zeros", as in PyTorch.
    STRATA_ARG(std::string, padding_mode) = "zeros";
    /// The dtype of the weights and biases (f32 or f64); `Module::to` converts them later.
    STRATA_ARG(DType, dtype) = DType::f32;
};

using ConvTranspose1dOptions = ConvTransposeNdOptions<1>;
using ConvTranspose2dOptions = ConvTransposeNdOptions<2>;

/// ConvTranspose1d / ConvTranspose2d: the gradient of a convolution with
/// respect to its input. weight [C_in, C_out / groups, k...], bias [C_out].
template <size_t D> class ConvTransposeNdImpl : public Module {
public:
    ConvTransposeNdImpl(int64_t in_channels, int64_t out_channels, ExpandingArray<D> kernel_size)
        : ConvTransposeNdImpl(ConvTransposeNdOptions<D>(in_channels, out_channels, std::move(kernel_size))) {}
    explicit ConvTransposeNdImpl(const ConvTransposeNdOptions<D> &options);

    void reset_parameters();
    SymTensor forward(const SymTensor &input) override;
    std::string extra_repr() const override;

protected:
    void refresh_tensor_members() override;

public:
    ConvTransposeNdOptions<D> options;
    Tensor weight;
    Tensor bias;
};

using ConvTranspose1dImpl = ConvTransposeNdImpl<1>;
using ConvTranspose2dImpl = ConvTransposeNdImpl<2>;
STRATA_MODULE(ConvTranspose1d);
STRATA_MODULE(ConvTranspose2d);

extern template class ConvNdImpl<1>;
extern template class ConvNdImpl<2>;
extern template class ConvTransposeNdImpl<1>;
extern template class ConvTransposeNdImpl<2>;

}  // namespace strata::nn
