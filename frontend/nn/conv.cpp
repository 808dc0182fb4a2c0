#include "frontend/nn/conv.h"

#include "frontend/nn/init.h"

#include <strata/error.h>

namespace strata::nn {

namespace {

template <size_t D> const char *conv_name() { return D == 1 ? "Conv1d" : "Conv2d"; }
template <size_t D> const char *conv_transpose_name() {
    return D == 1 ? "ConvTranspose1d" : "ConvTranspose2d";
}

/// The checks shared by convolutions and transposed convolutions.
void check_channels(const char *module, int64_t in_channels, int64_t out_channels, int64_t groups) {
    if (in_channels <= 0) fail("{}: in_channels must be positive, got {}", module, in_channels);
    if (out_channels <= 0) fail("{}: out_channels must be positive, got {}", module, out_channels);
    if (groups <= 0) fail("{}: groups must be positive, got {}", module, groups);
    if (in_channels % groups != 0)
        fail("{}: in_channels ({}) must be divisible by groups ({})", module, in_channels, groups);
    if (out_channels % groups != 0)
        fail("{}: out_channels ({}) must be divisible by groups ({})", module, out_channels, groups);
}

/// Fails unless `input` is [N, C, spatial...] or [C, spatial...] with C = `channels`.
void check_input(const std::string &module, const SymTensor &input, size_t dims, int64_t channels) {
    const int64_t rank = input.dim();
    const int64_t spatial = static_cast<int64_t>(dims);
    const char *layout = dims == 1 ? "[N, C, L] or [C, L]" : "[N, C, H, W] or [C, H, W]";
    if (rank != spatial + 1 && rank != spatial + 2)
        fail("{}: expected a {}-d or {}-d input {}, got shape {}", module, spatial + 1, spatial + 2, layout,
             shape_str(input.shape()));
    if (input.size(-spatial - 1) != channels)
        fail("{}: expected {} input channels (dim {} of {}), got shape {}", module, channels,
             rank - spatial - 1, layout, shape_str(input.shape()));
}

Shape weight_shape(int64_t dim0, int64_t dim1, const Ints &kernel_size) {
    Shape shape{dim0, dim1};
    shape.insert(shape.end(), kernel_size.begin(), kernel_size.end());
    return shape;
}

std::string padding_repr(const Padding &padding, size_t dims) {
    if (!padding.mode.empty()) return "padding=" + padding.mode;
    Ints values = padding.values.size() == 1 ? Ints(dims, padding.values[0]) : padding.values;
    for (int64_t v : values)
        if (v != 0) return "padding=" + detail::tuple_str(values);
    return "";
}

}  // namespace

// ---- ConvNdImpl ----

template <size_t D>
ConvNdImpl<D>::ConvNdImpl(const ConvNdOptions<D> &options_) : Module(conv_name<D>()), options(options_) {
    const char *module = conv_name<D>();
    check_channels(module, options.in_channels(), options.out_channels(), options.groups());
    detail::check_positive(module, "kernel_size", options.kernel_size().vec(), D);
    detail::check_positive(module, "stride", options.stride().vec(), D);
    detail::check_positive(module, "dilation", options.dilation().vec(), D);
    const Padding &padding = options.padding();
    if (padding.mode == "same") {
        for (int64_t s : options.stride())
            if (s != 1)
                fail("{}: padding=\"same\" needs stride 1 (as in PyTorch), got stride {}", module,
                     shape_str(options.stride().vec()));
    } else if (!padding.mode.empty() && padding.mode != "valid") {
        fail("{}: padding must be a number, a list, \"same\" or \"valid\", got \"{}\"", module, padding.mode);
    } else if (padding.mode.empty()) {
        const size_t n = padding.values.size();
        if (n != 1 && n != D && n != 2 * D)
            fail("{}: padding must have 1, {} or {} (asymmetric lo/hi) values, got {}", module, D, 2 * D,
                 shape_str(padding.values));
        for (int64_t p : padding.values)
            if (p < 0) fail("{}: padding must be >= 0, got {}", module, shape_str(padding.values));
    }
    const std::string &mode = options.padding_mode();
    if (mode != "zeros" && mode != "reflect" && mode != "replicate" && mode != "circular")
        fail("{}: padding_mode must be \"zeros\", \"reflect\", \"replicate\" or \"circular\", got \"{}\"",
             module, mode);

    detail::check_parameter_dtype(module, options.dtype());
    weight = register_parameter(
        "weight", Tensor::empty(weight_shape(options.out_channels(), options.in_channels() / options.groups(),
                                             options.kernel_size().vec()),
                                options.dtype()));
    if (options.bias()) bias = register_parameter("bias", Tensor::empty({options.out_channels()}, options.dtype()));
    reset_parameters();
}

template <size_t D> void ConvNdImpl<D>::reset_parameters() {
    init::default_weight_init_(weight);
    if (bias.defined()) init::default_bias_init_(bias, weight);
}

template <size_t D> void ConvNdImpl<D>::refresh_tensor_members() {
    weight = registered_tensor("weight");
    bias = registered_tensor("bias");
}

template <size_t D> SymTensor ConvNdImpl<D>::forward(const SymTensor &input) {
    check_input(fmt::format("{}({})", name(), extra_repr()), input, D, options.in_channels());
    ConvOptions conv;
    conv.stride = options.stride().vec();
    conv.padding = options.padding();
    conv.dilation = options.dilation().vec();
    conv.groups = options.groups();
    conv.padding_mode = options.padding_mode();
    const SymTensor w = param(input, "weight");
    const SymTensor b = bias.defined() ? param(input, "bias") : SymTensor();
    if constexpr (D == 1)
        return conv1d(input, w, b, conv);
    else
        return conv2d(input, w, b, conv);
}

template <size_t D> std::string ConvNdImpl<D>::extra_repr() const {
    std::string out = fmt::format("{}, {}, kernel_size={}, stride={}", options.in_channels(),
                                  options.out_channels(), detail::tuple_str(options.kernel_size().vec()),
                                  detail::tuple_str(options.stride().vec()));
    const std::string padding = padding_repr(options.padding(), D);
    if (!padding.empty()) out += ", " + padding;
    if (options.dilation() != ExpandingArray<D>(1))
        out += ", dilation=" + detail::tuple_str(options.dilation().vec());
    if (options.groups() != 1) out += fmt::format(", groups={}", options.groups());
    if (!options.bias()) out += ", bias=false";
    if (options.padding_mode() != "zeros") out += ", padding_mode=" + options.padding_mode();
    return out;
}

// ---- ConvTransposeNdImpl ----

template <size_t D>
ConvTransposeNdImpl<D>::ConvTransposeNdImpl(const ConvTransposeNdOptions<D> &options_)
    : Module(conv_transpose_name<D>()), options(options_) {
    const char *module = conv_transpose_name<D>();
    check_channels(module, options.in_channels(), options.out_channels(), options.groups());
    detail::check_positive(module, "kernel_size", options.kernel_size().vec(), D);
    detail::check_positive(module, "stride", options.stride().vec(), D);
    detail::check_positive(module, "dilation", options.dilation().vec(), D);
    detail::check_non_negative(module, "padding", options.padding().vec(), D);
    detail::check_non_negative(module, "output_padding", options.output_padding().vec(), D);
    for (size_t d = 0; d < D; ++d)
        if (options.output_padding()[d] >= options.stride()[d] &&
            options.output_padding()[d] >= options.dilation()[d])
            fail("{}: output_padding must be smaller than either stride or dilation, got output_padding={}, "
                 "stride={}, dilation={}",
                 module, shape_str(options.output_padding().vec()), shape_str(options.stride().vec()),
                 shape_str(options.dilation().vec()));
    if (options.padding_mode() != "zeros")
        fail("{}: only padding_mode \"zeros\" is supported (as in PyTorch), got \"{}\"", module,
             options.padding_mode());

    detail::check_parameter_dtype(module, options.dtype());
    weight = register_parameter(
        "weight", Tensor::empty(weight_shape(options.in_channels(), options.out_channels() / options.groups(),
                                             options.kernel_size().vec()),
                                options.dtype()));
    if (options.bias()) bias = register_parameter("bias", Tensor::empty({options.out_channels()}, options.dtype()));
    reset_parameters();
}

template <size_t D> void ConvTransposeNdImpl<D>::reset_parameters() {
    // calculate_fan_in_and_fan_out reads dim 1 (C_out / groups), as PyTorch does.
    init::default_weight_init_(weight);
    if (bias.defined()) init::default_bias_init_(bias, weight);
}

template <size_t D> void ConvTransposeNdImpl<D>::refresh_tensor_members() {
    weight = registered_tensor("weight");
    bias = registered_tensor("bias");
}

template <size_t D> SymTensor ConvTransposeNdImpl<D>::forward(const SymTensor &input) {
    check_input(fmt::format("{}({})", name(), extra_repr()), input, D, options.in_channels());
    ConvTransposeOptions conv;
    conv.stride = options.stride().vec();
    conv.padding = options.padding().vec();
    conv.output_padding = options.output_padding().vec();
    conv.groups = options.groups();
    conv.dilation = options.dilation().vec();
    const SymTensor w = param(input, "weight");
    const SymTensor b = bias.defined() ? param(input, "bias") : SymTensor();
    if constexpr (D == 1)
        return conv_transpose1d(input, w, b, conv);
    else
        return conv_transpose2d(input, w, b, conv);
}

template <size_t D> std::string ConvTransposeNdImpl<D>::extra_repr() const {
    std::string out = fmt::format("{}, {}, kernel_size={}, stride={}", options.in_channels(),
                                  options.out_channels(), detail::tuple_str(options.kernel_size().vec()),
                                  detail::tuple_str(options.stride().vec()));
    const ExpandingArray<D> zero(0), one(1);
    if (options.padding() != zero) out += ", padding=" + detail::tuple_str(options.padding().vec());
    if (options.output_padding() != zero)
        out += ", output_padding=" + detail::tuple_str(options.output_padding().vec());
    if (options.dilation() != one) out += ", dilation=" + detail::tuple_str(options.dilation().vec());
    if (options.groups() != 1) out += fmt::format(", groups={}", options.groups());
    if (!options.bias()) out += ", bias=false";
    return out;
}

template class ConvNdImpl<1>;
template class ConvNdImpl<2>;
template class ConvTransposeNdImpl<1>;
template class ConvTransposeNdImpl<2>;

}  // namespace strata::nn
