#include "frontend/nn/pooling.h"

#include <strata/error.h>

namespace strata::nn {

namespace {

template <size_t D> std::string pool_name(const char *kind) { return fmt::format("{}{}d", kind, D); }

/// Fails unless `input` is [N, C, spatial...] or [C, spatial...].
void check_input(const std::string &module, const SymTensor &input, size_t dims) {
    const int64_t spatial = static_cast<int64_t>(dims);
    if (input.dim() != spatial + 1 && input.dim() != spatial + 2)
        fail("{}: expected a {}-d or {}-d input ({}), got shape {}", module, spatial + 1, spatial + 2,
             dims == 1 ? "[N, C, L] or [C, L]" : "[N, C, H, W] or [C, H, W]", shape_str(input.shape()));
}

}  // namespace

// ---- MaxPoolNdImpl ----

template <size_t D>
MaxPoolNdImpl<D>::MaxPoolNdImpl(const MaxPoolNdOptions<D> &options_)
    : Module(pool_name<D>("MaxPool")), options(options_) {
    const std::string module = name();
    detail::check_positive(module.c_str(), "kernel_size", options.kernel_size().vec(), D);
    detail::check_positive(module.c_str(), "stride", options.stride().vec(), D);
    detail::check_positive(module.c_str(), "dilation", options.dilation().vec(), D);
    detail::check_non_negative(module.c_str(), "padding", options.padding().vec(), D);
    for (size_t d = 0; d < D; ++d) {
        const int64_t effective_kernel = (options.kernel_size()[d] - 1) * options.dilation()[d] + 1;
        if (options.padding()[d] > effective_kernel / 2)
            fail("{}: padding should be at most half of the effective kernel size, got padding={}, "
                 "kernel_size={} and dilation={}",
                 module, shape_str(options.padding().vec()), shape_str(options.kernel_size().vec()),
                 shape_str(options.dilation().vec()));
    }
}

template <size_t D> SymTensor MaxPoolNdImpl<D>::forward(const SymTensor &input) {
    check_input(name(), input, D);
    MaxPoolOptions pool;
    pool.stride = options.stride().vec();
    pool.padding = options.padding().vec();
    pool.dilation = options.dilation().vec();
    pool.ceil_mode = options.ceil_mode();
    if constexpr (D == 1)
        return max_pool1d(input, options.kernel_size().vec(), pool);
    else
        return max_pool2d(input, options.kernel_size().vec(), pool);
}

template <size_t D> std::string MaxPoolNdImpl<D>::extra_repr() const {
    return fmt::format("kernel_size={}, stride={}, padding={}, dilation={}, ceil_mode={}",
                       detail::tuple_str(options.kernel_size().vec()),
                       detail::tuple_str(options.stride().vec()), detail::tuple_str(options.padding().vec()),
                       detail::tuple_str(options.dilation().vec()), options.ceil_mode() ? "true" : "false");
}

// ---- AvgPoolNdImpl ----

template <size_t D>
AvgPoolNdImpl<D>::AvgPoolNdImpl(const AvgPoolNdOptions<D> &options_)
    : Module(pool_name<D>("AvgPool")), options(options_) {
    const std::string module = name();
    detail::check_positive(module.c_str(), "kernel_size", options.kernel_size().vec(), D);
    detail::check_positive(module.c_str(), "stride", options.stride().vec(), D);
    detail::check_non_negative(module.c_str(), "padding", options.padding().vec(), D);
    for (size_t d = 0; d < D; ++d)
        if (options.padding()[d] > options.kernel_size()[d] / 2)
            fail("{}: padding should be at most half of the kernel size, got padding={} and kernel_size={}",
                 module, shape_str(options.padding().vec()), shape_str(options.kernel_size().vec()));
}

template <size_t D> SymTensor AvgPoolNdImpl<D>::forward(const SymTensor &input) {
    check_input(name(), input, D);
    AvgPoolOptions pool;
    pool.stride = options.stride().vec();
    pool.padding = options.padding().vec();
    pool.ceil_mode = options.ceil_mode();
    pool.count_include_pad = options.count_include_pad();
    if constexpr (D == 1)
        return avg_pool1d(input, options.kernel_size().vec(), pool);
    else
        return avg_pool2d(input, options.kernel_size().vec(), pool);
}

template <size_t D> std::string AvgPoolNdImpl<D>::extra_repr() const {
    return fmt::format("kernel_size={}, stride={}, padding={}, ceil_mode={}, count_include_pad={}",
                       detail::tuple_str(options.kernel_size().vec()),
                       detail::tuple_str(options.stride().vec()), detail::tuple_str(options.padding().vec()),
                       options.ceil_mode() ? "true" : "false",
                       options.count_include_pad() ? "true" : "false");
}

// ---- AdaptiveAvgPoolNdImpl ----

template <size_t D>
AdaptiveAvgPoolNdImpl<D>::AdaptiveAvgPoolNdImpl(const AdaptiveAvgPoolNdOptions<D> &options_)
    : Module(pool_name<D>("AdaptiveAvgPool")), options(options_) {
    detail::check_positive(name().c_str(), "output_size", options.output_size().vec(), D);
}

template <size_t D> SymTensor AdaptiveAvgPoolNdImpl<D>::forward(const SymTensor &input) {
    check_input(name(), input, D);
    if constexpr (D == 1)
        return adaptive_avg_pool1d(input, options.output_size().vec());
    else
        return adaptive_avg_pool2d(input, options.output_size().vec());
}

template <size_t D> std::string AdaptiveAvgPoolNdImpl<D>::extra_repr() const {
    return "output_size=" + detail::tuple_str(options.output_size().vec());
}

template class MaxPoolNdImpl<1>;
template class MaxPoolNdImpl<2>;
template class AvgPoolNdImpl<1>;
template class AvgPoolNdImpl<2>;
template class AdaptiveAvgPoolNdImpl<1>;
template class AdaptiveAvgPoolNdImpl<2>;

}  // namespace strata::nn
