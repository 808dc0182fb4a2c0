// batch_norm and layer_norm, composed from IR primitives (the autodiff pass
// differentiates them like any other program).

#include "frontend/functional/common.h"

namespace strata {

namespace {
/// A [C] tensor reshaped to broadcast along dim 1 of a rank-`rank` tensor.
SymTensor per_channel(const SymTensor &v, int64_t rank) {
    Ints shape(static_cast<size_t>(rank), 1);
    shape[1] = v.numel();
    return reshape(v, shape);
}

void check_channel_vector(const char *what, const SymTensor &v, int64_t channels) {
    if (v.defined() && v.shape() != Shape{channels})
        fail("batch_norm: {} must have shape [{}], got {}", what, channels, shape_str(v.shape()));
}
}  // namespace

BatchNormResult batch_norm(const SymTensor &x, const SymTensor &running_mean, const SymTensor &running_var,
                           const SymTensor &weight, const SymTensor &bias, bool training, double momentum,
                           double eps) {
    if (!x.defined()) fail("batch_norm: the input tensor is undefined");
    if (x.dim() < 2) fail("batch_norm: input must be [N, C, ...], got shape {}", shape_str(x.shape()));
    const int64_t rank = x.dim(), channels = x.size(1);
    check_channel_vector("running_mean", running_mean, channels);
    check_channel_vector("running_var", running_var, channels);
    check_channel_vector("weight", weight, channels);
    check_channel_vector("bias", bias, channels);
    if (!training && (!running_mean.defined() || !running_var.defined()))
        fail("batch_norm: evaluation mode needs running_mean and running_var");
    const int64_t count = x.numel() / channels;

    BatchNormResult result;
    if (training) {
        if (count <= 1)
            fail("batch_norm: expected more than 1 value per channel when training, got input shape {}",
                 shape_str(x.shape()));
        // The output is one op (its gradient two fused ops); the statistics are computed once and
        // shared by the output, the running-stat updates and the backward ops.
        Graph &g = x.graph();
        SymTensor w = weight.defined() ? weight : g.constant(1.0, {channels}, x.dtype());
        SymTensor b = bias.defined() ? bias : g.constant(0.0, {channels}, x.dtype());
        SymTensor stats = g.make(ir::Op::batch_norm_stats, {x});
        result.output = g.make(ir::Op::batch_norm_train, {x, w, b, stats}, {{"eps", eps}});
        if (running_mean.defined()) {
            // PyTorch updates the running variance with the unbiased estimate.
            SymTensor batch_mean = reshape(slice(stats, 0, 0, 1), {channels});
            SymTensor batch_var = reshape(slice(stats, 0, 1, 2), {channels});
            SymTensor unbiased = batch_var * (static_cast<double>(count) / (count - 1));
            result.running_mean = running_mean * (1.0 - momentum) + batch_mean * momentum;
            result.running_var = running_var * (1.0 - momentum) + unbiased * momentum;
        }
        return result;
    }
    SymTensor y = (x - per_channel(running_mean, rank)) * rsqrt(per_channel(running_var, rank) + eps);
    if (weight.defined()) y = y * per_channel(weight, rank);
    if (bias.defined()) y = y + per_channel(bias, rank);
    result.output = y;
    return result;
}

SymTensor layer_norm(const SymTensor &x, const Ints &normalized_shape, const SymTensor &weight,
                     const SymTensor &bias, double eps) {
    if (!x.defined()) fail("layer_norm: the input tensor is undefined");
    const size_t k = normalized_shape.size();
    const Shape &shape = x.shape();
    if (k == 0 || k > shape.size() || !std::equal(normalized_shape.begin(), normalized_shape.end(), shape.end() - static_cast<long>(k)))
        fail("layer_norm: normalized_shape {} must match the trailing dims of the input shape {}",
             shape_str(normalized_shape), shape_str(shape));
    for (const SymTensor *p : {&weight, &bias})
        if (p->defined() && p->shape() != normalized_shape)
            fail("layer_norm: weight and bias must have shape {}, got {}", shape_str(normalized_shape),
                 shape_str(p->shape()));
    Ints dims;
    for (size_t i = shape.size() - k; i < shape.size(); ++i) dims.push_back(static_cast<int64_t>(i));
    SymTensor mu = mean(x, dims, true);
    SymTensor centered = x - mu;
    SymTensor var = mean(centered * centered, dims, true);
    SymTensor y = centered * rsqrt(var + eps);
    if (weight.defined()) y = y * weight;
    if (bias.defined()) y = y + bias;
    return y;
}

}  // namespace strata
