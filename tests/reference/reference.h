#pragma once
// Naive references: plain loops computed in double, the trusted oracle that
// every compiled op is checked against. Each takes and returns runtime
// Tensors (any dtype in, f64 out unless stated). They follow PyTorch's
// documented semantics and share no code with Strata's lowering.
//
// Attributes are given in full (one value per spatial dim): expanding a
// single value to every dim is the frontend's job, which the tests exercise.

#include "runtime/tensor.h"

#include <functional>
#include <string>
#include <vector>

namespace strata::reference {

using Ints = std::vector<int64_t>;

// ---- resampling (resample.cpp) ----

/// F.interpolate(mode="nearest") of x [N, C, L] or [N, C, H, W] to spatial `size`; `scales` per spatial
/// dim, 0 for none. The source position uses PyTorch's CPU arithmetic in x's dtype (float for f32).
Tensor upsample_nearest(const Tensor &x, const Shape &size, const std::vector<double> &scales);
/// F.interpolate(mode="linear" / "bilinear") likewise, with align_corners.
Tensor upsample_linear(const Tensor &x, const Shape &size, bool align_corners, const std::vector<double> &scales);

// ---- comparison (compare.cpp) ----

/// The largest |a - b| over all elements (shapes must match).
double max_abs_diff(const Tensor &a, const Tensor &b);
/// Checks |actual - expected| <= rtol * (|expected| + max|expected|) for every
/// element (NaN must meet NaN, infinities must match exactly). Returns "" when
/// close, otherwise a description of the shapes or the worst element.
std::string mismatch(const Tensor &actual, const Tensor &expected, double rtol);

// ---- pointwise (pointwise.cpp) ----

/// f applied to every element.
Tensor map(const Tensor &x, const std::function<double(double)> &f);
/// f applied with NumPy broadcasting of a and b.
Tensor map2(const Tensor &a, const Tensor &b, const std::function<double(double, double)> &f);
/// where(condition, x, y) with broadcasting of all three.
Tensor where(const Tensor &condition, const Tensor &x, const Tensor &y);
/// x.to(dtype) in PyTorch's rules (float to int truncates, to bool is != 0); result in `dtype`.
Tensor cast(const Tensor &x, DType dtype);

// Scalar activations, PyTorch's formulas.
double gelu(double x, const std::string &approximate = "none");
double softplus(double x, double beta = 1.0, double threshold = 20.0);
double elu(double x, double alpha = 1.0);
double leaky_relu(double x, double negative_slope = 0.01);
double sigmoid(double x);

// ---- reductions (reduction.cpp) ----

/// Over `dims` (every dim when empty), negative dims allowed.
Tensor sum(const Tensor &x, const Ints &dims = {}, bool keepdim = false);
Tensor mean(const Tensor &x, const Ints &dims = {}, bool keepdim = false);
Tensor max(const Tensor &x, const Ints &dims = {}, bool keepdim = false);
/// Index of the first maximum (as f64 values).
Tensor argmax(const Tensor &x, int64_t dim, bool keepdim = false);
Tensor softmax(const Tensor &x, int64_t dim);
Tensor log_softmax(const Tensor &x, int64_t dim);

// ---- matmul (matmul.cpp) ----

/// torch.matmul: 1-d operands, broadcast batch dims.
Tensor matmul(const Tensor &a, const Tensor &b);
/// x @ weight^T + bias (bias may be undefined).
Tensor linear(const Tensor &x, const Tensor &weight, const Tensor &bias = {});

// ---- layout (layout.cpp) ----

/// One extent may be -1.
Tensor reshape(const Tensor &x, const Ints &shape);
Tensor permute(const Tensor &x, const Ints &dims);
/// Broadcast to `shape`; -1 keeps an extent.
Tensor expand(const Tensor &x, const Ints &shape);
/// x[start:end:step] along dim with Python's negative indices and clamping.
Tensor slice(const Tensor &x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor concat(const std::vector<Tensor> &xs, int64_t dim);
/// torch.nn.functional.pad: {last_lo, last_hi, second_last_lo, ...};
/// constant (negative amounts crop), reflect, replicate or circular.
Tensor pad(const Tensor &x, const Ints &amounts, const std::string &mode = "constant", double value = 0.0);

// ---- convolution (conv.cpp) ----

struct ConvArgs {
    Ints stride;      ///< one per spatial dim
    Ints padding_lo;  ///< one per spatial dim
    Ints padding_hi;  ///< one per spatial dim
    Ints dilation;    ///< one per spatial dim
    int64_t groups = 1;
    std::string padding_mode = "zeros";  ///< zeros, reflect, replicate, circular
};
/// PyTorch's padding='same': total = dilation * (k - 1), lo = total / 2, hi = total - lo.
void same_padding(const Ints &kernel, const Ints &dilation, Ints *lo, Ints *hi);
/// x [N, C_in, L], weight [C_out, C_in/groups, K], bias [C_out] or undefined.
Tensor conv1d(const Tensor &x, const Tensor &weight, const Tensor &bias, const ConvArgs &args);
/// x [N, C_in, H, W], weight [C_out, C_in/groups, KH, KW].
Tensor conv2d(const Tensor &x, const Tensor &weight, const Tensor &bias, const ConvArgs &args);

struct ConvTransposeArgs {
    Ints stride, padding, output_padding, dilation;  ///< one per spatial dim
    int64_t groups = 1;
};
/// x [N, C_in, L], weight [C_in, C_out/groups, K].
Tensor conv_transpose1d(const Tensor &x, const Tensor &weight, const Tensor &bias,
                        const ConvTransposeArgs &args);
/// x [N, C_in, H, W], weight [C_in, C_out/groups, KH, KW].
Tensor conv_transpose2d(const Tensor &x, const Tensor &weight, const Tensor &bias,
                        const ConvTransposeArgs &args);

// ---- pooling (pool.cpp) ----

struct PoolArgs {
    Ints kernel, stride, padding;  ///< one per spatial dim
    Ints dilation;                 ///< max pooling only; empty means 1
    bool ceil_mode = false;
    bool count_include_pad = true;  ///< average pooling only
    int64_t divisor_override = 0;   ///< average pooling only; 0 means none
};
/// PyTorch's pooled length, including the ceil_mode rule.
int64_t pool_output_size(int64_t length, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation,
                         bool ceil_mode);
Tensor max_pool1d(const Tensor &x, const PoolArgs &args);
Tensor max_pool2d(const Tensor &x, const PoolArgs &args);
Tensor avg_pool1d(const Tensor &x, const PoolArgs &args);
Tensor avg_pool2d(const Tensor &x, const PoolArgs &args);
/// return_indices: the position (l, or h * W + w) of each window's max, i32 (ties: the first; NaN: the last NaN).
Tensor max_pool1d_indices(const Tensor &x, const PoolArgs &args);
Tensor max_pool2d_indices(const Tensor &x, const PoolArgs &args);
/// max_unpool: x [N, C, ...] scattered to its indices in planes of `output_size` (the later one wins).
Tensor max_unpool(const Tensor &x, const Tensor &indices, const Shape &output_size);
Tensor adaptive_avg_pool1d(const Tensor &x, int64_t output_size);
Tensor adaptive_avg_pool2d(const Tensor &x, const Ints &output_size);

// ---- normalisation (normalization.cpp) ----

struct BatchNormResult {
    Tensor output, running_mean, running_var;  ///< running stats only when training
};
/// x [N, C, ...]; running stats, weight and bias [C] (weight/bias may be undefined).
BatchNormResult batch_norm(const Tensor &x, const Tensor &running_mean, const Tensor &running_var,
                           const Tensor &weight, const Tensor &bias, bool training, double momentum = 0.1,
                           double eps = 1e-5);
/// Normalises over the trailing `normalized_dims` dims.
Tensor layer_norm(const Tensor &x, int64_t normalized_dims, const Tensor &weight = {},
                  const Tensor &bias = {}, double eps = 1e-5);

// ---- losses (losses.cpp) ----

/// logits [N, C, d...], target [N, d...] class indices; reduction mean, sum or none; weight
/// [C] or undefined (PyTorch's weighted mean divides by the summed weights of valid targets).
Tensor cross_entropy(const Tensor &logits, const Tensor &target, const std::string &reduction = "mean",
                     int64_t ignore_index = -100, double label_smoothing = 0.0, const Tensor &weight = {});
Tensor nll_loss(const Tensor &log_probs, const Tensor &target, const std::string &reduction = "mean",
                int64_t ignore_index = -100, const Tensor &weight = {});
Tensor mse_loss(const Tensor &input, const Tensor &target, const std::string &reduction = "mean");
/// weight and pos_weight (either may be undefined) broadcast to the input.
Tensor binary_cross_entropy_with_logits(const Tensor &input, const Tensor &target,
                                        const std::string &reduction = "mean", const Tensor &weight = {},
                                        const Tensor &pos_weight = {});

}  // namespace strata::reference
