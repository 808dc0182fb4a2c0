#pragma once
/// \file
/// Normalisation modules, as torch.nn.BatchNorm1d / BatchNorm2d and LayerNorm.
///
///     nn::BatchNorm2d bn(16);
///     nn::BatchNorm1d bn(nn::BatchNormOptions(64).momentum(0.01).affine(false));
///     nn::LayerNorm ln(nn::LayerNormOptions({128}).eps(1e-6));
///
/// Batch norm in training mode normalises with the batch statistics and
/// registers the running-statistics update with the graph (`Graph::update`),
/// so each run of the compiled graph moves running_mean / running_var as
/// PyTorch does; in eval mode it normalises with the running statistics.

#include "frontend/functional.h"
#include "frontend/nn/module.h"
#include "frontend/nn/options.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace strata::nn {

/// Options of BatchNorm1d and BatchNorm2d.
struct BatchNormOptions {
    /* implicit */ BatchNormOptions(int64_t num_features) : num_features_(num_features) {}

    /// C, the channel dim of the input [N, C, ...].
    STRATA_ARG(int64_t, num_features);
    /// Added to the variance for numerical stability.
    STRATA_ARG(double, eps) = 1e-5;
    /// running = (1 - momentum) * running + momentum * batch statistic; in [0, 1].
    STRATA_ARG(double, momentum) = 0.1;
    /// Whether to learn a per-channel scale (weight, starting at 1) and shift (bias, at 0).
    STRATA_ARG(bool, affine) = true;
    /// Whether to keep running statistics (buffers running_mean, running_var);
    /// without them the batch statistics are used in eval mode too.
    STRATA_ARG(bool, track_running_stats) = true;
    /// The dtype of weight, bias and the running statistics (f32 or f64); `Module::to` converts them later.
    STRATA_ARG(DType, dtype) = DType::f32;
};

using BatchNorm1dOptions = BatchNormOptions;
using BatchNorm2dOptions = BatchNormOptions;

/// BatchNorm1d (input [N, C] or [N, C, L]) and BatchNorm2d (input [N, C, H, W]).
/// Parameters weight, bias [C]; buffers running_mean (0), running_var (1) [C].
template <size_t D> class BatchNormNdImpl : public Module {
public:
    explicit BatchNormNdImpl(int64_t num_features) : BatchNormNdImpl(BatchNormOptions(num_features)) {}
    explicit BatchNormNdImpl(const BatchNormOptions &options);

    /// weight = 1, bias = 0, running_mean = 0, running_var = 1.
    void reset_parameters();
    SymTensor forward(const SymTensor &input) override;
    std::string extra_repr() const override;

protected:
    void refresh_tensor_members() override;

public:
    BatchNormOptions options;
    /// Undefined when options.affine() is false.
    Tensor weight, bias;
    /// Undefined when options.track_running_stats() is false.
    Tensor running_mean, running_var;
    /// PyTorch's count of training batches (i32, 0-d), kept so that a PyTorch state dict loads
    /// and saves whole (nn/state_dict.h). Not a registered buffer: Strata's momentum is a number,
    /// so no computation reads it; each TrainStep step adds one (not saved in Strata's checkpoints).
    /// Undefined when options.track_running_stats() is false.
    Tensor num_batches_tracked;
};

using BatchNorm1dImpl = BatchNormNdImpl<1>;
using BatchNorm2dImpl = BatchNormNdImpl<2>;
STRATA_MODULE(BatchNorm1d);
STRATA_MODULE(BatchNorm2d);

struct LayerNormOptions {
    /* implicit */ LayerNormOptions(Ints normalized_shape) : normalized_shape_(std::move(normalized_shape)) {}

    /// The trailing dims normalised over (e.g. {C} or {C, H, W}).
    STRATA_ARG(Ints, normalized_shape);
    STRATA_ARG(double, eps) = 1e-5;
    /// Whether to learn a per-element scale (weight, starting at 1) and shift (bias, at 0).
    STRATA_ARG(bool, elementwise_affine) = true;
    /// Whether the learned shift exists (with elementwise_affine).
    STRATA_ARG(bool, bias) = true;
    /// The dtype of the weight and bias (f32 or f64); `Module::to` converts them later.
    STRATA_ARG(DType, dtype) = DType::f32;
};

/// Normalises each sample over its trailing `normalized_shape` dims.
/// weight and bias have shape normalized_shape.
class LayerNormImpl : public Module {
public:
    explicit LayerNormImpl(Ints normalized_shape)
        : LayerNormImpl(LayerNormOptions(std::move(normalized_shape))) {}
    explicit LayerNormImpl(const LayerNormOptions &options);

    void reset_parameters();
    SymTensor forward(const SymTensor &input) override;
    std::string extra_repr() const override;

protected:
    void refresh_tensor_members() override;

public:
    LayerNormOptions options;
    Tensor weight, bias;
};

STRATA_MODULE(LayerNorm);

extern template class BatchNormNdImpl<1>;
extern template class BatchNormNdImpl<2>;

}  // namespace strata::nn
