#include "frontend/nn/normalization.h"

#include "frontend/nn/init.h"

#include <strata/error.h>

namespace strata::nn {

// ---- BatchNormNdImpl ----

template <size_t D>
BatchNormNdImpl<D>::BatchNormNdImpl(const BatchNormOptions &options_)
    : Module(D == 1 ? "BatchNorm1d" : "BatchNorm2d"), options(options_) {
    const std::string module = name();
    if (options.num_features() <= 0)
        fail("{}: num_features must be positive, got {}", module, options.num_features());
    if (!(options.eps() >= 0.0)) fail("{}: eps must be >= 0, got {}", module, options.eps());
    if (!(options.momentum() >= 0.0 && options.momentum() <= 1.0))
        fail("{}: momentum must be in [0, 1], got {}", module, options.momentum());
    detail::check_parameter_dtype(module, options.dtype());
    const Shape shape{options.num_features()};
    if (options.affine()) {
        weight = register_parameter("weight", Tensor::empty(shape, options.dtype()));
        bias = register_parameter("bias", Tensor::empty(shape, options.dtype()));
    }
    if (options.track_running_stats()) {
        running_mean = register_buffer("running_mean", Tensor::empty(shape, options.dtype()));
        running_var = register_buffer("running_var", Tensor::empty(shape, options.dtype()));
        num_batches_tracked = Tensor::zeros({}, DType::i32);
    }
    reset_parameters();
}

template <size_t D> void BatchNormNdImpl<D>::reset_parameters() {
    if (weight.defined()) init::ones_(weight);
    if (bias.defined()) init::zeros_(bias);
    if (running_mean.defined()) init::zeros_(running_mean);
    if (running_var.defined()) init::ones_(running_var);
    if (num_batches_tracked.defined()) num_batches_tracked.set_flat(0, 0.0);
}

template <size_t D> void BatchNormNdImpl<D>::refresh_tensor_members() {
    weight = registered_tensor("weight");
    bias = registered_tensor("bias");
    running_mean = registered_tensor("running_mean");
    running_var = registered_tensor("running_var");
    // num_batches_tracked is an integer counter: to(dtype) leaves it as it is.
}

template <size_t D> SymTensor BatchNormNdImpl<D>::forward(const SymTensor &input) {
    const bool rank_ok = D == 1 ? (input.dim() == 2 || input.dim() == 3) : input.dim() == 4;
    if (!rank_ok)
        fail("{}({}): expected {}, got shape {}", name(), options.num_features(),
             D == 1 ? "a 2-d input [N, C] or a 3-d input [N, C, L]" : "a 4-d input [N, C, H, W]",
             shape_str(input.shape()));
    if (input.size(1) != options.num_features())
        fail("{}({}): expected {} channels (dim 1), got shape {}", name(), options.num_features(),
             options.num_features(), shape_str(input.shape()));

    const bool tracking = options.track_running_stats();
    // Without running statistics there is nothing else to normalise with, even in eval mode.
    const bool use_batch_stats = is_training() || !tracking;
    const SymTensor mean = tracking ? param(input, "running_mean") : SymTensor();
    const SymTensor var = tracking ? param(input, "running_var") : SymTensor();
    const SymTensor w = options.affine() ? param(input, "weight") : SymTensor();
    const SymTensor b = options.affine() ? param(input, "bias") : SymTensor();
    BatchNormResult result =
        batch_norm(input, mean, var, w, b, use_batch_stats, options.momentum(), options.eps());
    if (is_training() && tracking) {
        STRATA_ASSERT(result.running_mean.defined() && result.running_var.defined(),
                      "batch_norm in training mode must return the updated running statistics");
        Graph &graph = input.graph();
        graph.update(full_name("running_mean"), result.running_mean);
        graph.update(full_name("running_var"), result.running_var);
    }
    return result.output;
}

template <size_t D> std::string BatchNormNdImpl<D>::extra_repr() const {
    return fmt::format("{}, eps={}, momentum={}, affine={}, track_running_stats={}", options.num_features(),
                       options.eps(), options.momentum(), options.affine() ? "true" : "false",
                       options.track_running_stats() ? "true" : "false");
}

template class BatchNormNdImpl<1>;
template class BatchNormNdImpl<2>;

// ---- LayerNormImpl ----

LayerNormImpl::LayerNormImpl(const LayerNormOptions &options_) : Module("LayerNorm"), options(options_) {
    const Ints &shape = options.normalized_shape();
    if (shape.empty()) fail("LayerNorm: normalized_shape must have at least one dim, got []");
    for (int64_t e : shape)
        if (e <= 0) fail("LayerNorm: normalized_shape must have positive extents, got {}", shape_str(shape));
    if (!(options.eps() >= 0.0)) fail("LayerNorm: eps must be >= 0, got {}", options.eps());
    detail::check_parameter_dtype("LayerNorm", options.dtype());
    if (options.elementwise_affine()) {
        weight = register_parameter("weight", Tensor::empty(shape, options.dtype()));
        if (options.bias()) bias = register_parameter("bias", Tensor::empty(shape, options.dtype()));
    }
    reset_parameters();
}

void LayerNormImpl::reset_parameters() {
    if (weight.defined()) init::ones_(weight);
    if (bias.defined()) init::zeros_(bias);
}

void LayerNormImpl::refresh_tensor_members() {
    weight = registered_tensor("weight");
    bias = registered_tensor("bias");
}

SymTensor LayerNormImpl::forward(const SymTensor &input) {
    const Ints &shape = options.normalized_shape();
    const int64_t n = static_cast<int64_t>(shape.size());
    bool ok = input.dim() >= n;
    for (int64_t i = 0; ok && i < n; ++i) ok = input.size(i - n) == shape[static_cast<size_t>(i)];
    if (!ok)
        fail("LayerNorm({}): expected an input whose trailing dims are {}, got shape {}", shape_str(shape),
             shape_str(shape), shape_str(input.shape()));
    const SymTensor w = weight.defined() ? param(input, "weight") : SymTensor();
    const SymTensor b = bias.defined() ? param(input, "bias") : SymTensor();
    return layer_norm(input, shape, w, b, options.eps());
}

std::string LayerNormImpl::extra_repr() const {
    return fmt::format("{}, eps={}, elementwise_affine={}", detail::tuple_str(options.normalized_shape()),
                       options.eps(), options.elementwise_affine() ? "true" : "false");
}

}  // namespace strata::nn
