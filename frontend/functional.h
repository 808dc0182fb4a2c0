#pragma once
/// \file
/// The functional ops of the DSL, with PyTorch's names, argument order,
/// defaults and semantics (torch.* and torch.nn.functional.*). Dimensions may
/// be negative (counted from the end). Scalars combine with tensors of any
/// float dtype and take the tensor's dtype.

#include "frontend/graph.h"

#include <optional>
#include <string>
#include <vector>

namespace strata {

using Ints = std::vector<int64_t>;

// ---- autodiff ----
/// d loss / d w for each w (torch.autograd.grad); loss must be a scalar.
std::vector<SymTensor> grad(const SymTensor &loss, const std::vector<SymTensor> &wrt);

// ---- pointwise ----
SymTensor operator+(const SymTensor &a, const SymTensor &b);
SymTensor operator-(const SymTensor &a, const SymTensor &b);
SymTensor operator*(const SymTensor &a, const SymTensor &b);
SymTensor operator/(const SymTensor &a, const SymTensor &b);
SymTensor operator-(const SymTensor &a);
SymTensor operator+(const SymTensor &a, double b);
SymTensor operator-(const SymTensor &a, double b);
SymTensor operator*(const SymTensor &a, double b);
SymTensor operator/(const SymTensor &a, double b);
SymTensor operator+(double a, const SymTensor &b);
SymTensor operator-(double a, const SymTensor &b);
SymTensor operator*(double a, const SymTensor &b);
SymTensor operator/(double a, const SymTensor &b);
SymTensor operator==(const SymTensor &a, const SymTensor &b);
SymTensor operator!=(const SymTensor &a, const SymTensor &b);
SymTensor operator<(const SymTensor &a, const SymTensor &b);
SymTensor operator<=(const SymTensor &a, const SymTensor &b);
SymTensor operator>(const SymTensor &a, const SymTensor &b);
SymTensor operator>=(const SymTensor &a, const SymTensor &b);
SymTensor operator&&(const SymTensor &a, const SymTensor &b);
SymTensor operator||(const SymTensor &a, const SymTensor &b);
SymTensor operator!(const SymTensor &a);

/// a + alpha * b (torch.add); alpha must be integral for i32 tensors and 1 for bool.
SymTensor add(const SymTensor &a, const SymTensor &b, double alpha = 1.0);
/// a - alpha * b (torch.sub).
SymTensor sub(const SymTensor &a, const SymTensor &b, double alpha = 1.0);
SymTensor mul(const SymTensor &a, const SymTensor &b);
SymTensor div(const SymTensor &a, const SymTensor &b);
SymTensor neg(const SymTensor &x);
SymTensor pow(const SymTensor &a, const SymTensor &b);
SymTensor pow(const SymTensor &a, double exponent);
SymTensor exp(const SymTensor &x);
SymTensor log(const SymTensor &x);
SymTensor sqrt(const SymTensor &x);
SymTensor rsqrt(const SymTensor &x);
SymTensor abs(const SymTensor &x);
SymTensor maximum(const SymTensor &a, const SymTensor &b);
SymTensor minimum(const SymTensor &a, const SymTensor &b);
SymTensor eq(const SymTensor &a, const SymTensor &b);
SymTensor ne(const SymTensor &a, const SymTensor &b);
SymTensor lt(const SymTensor &a, const SymTensor &b);
SymTensor le(const SymTensor &a, const SymTensor &b);
SymTensor gt(const SymTensor &a, const SymTensor &b);
SymTensor ge(const SymTensor &a, const SymTensor &b);
/// torch.where(condition, x, y); condition is bool.
SymTensor where(const SymTensor &condition, const SymTensor &x, const SymTensor &y);
/// x.to(dtype): float to int truncates toward zero; to bool is x != 0.
SymTensor cast(const SymTensor &x, DType dtype);
SymTensor erf(const SymTensor &x);

// ---- activations ----
SymTensor relu(const SymTensor &x);
SymTensor leaky_relu(const SymTensor &x, double negative_slope = 0.01);
SymTensor elu(const SymTensor &x, double alpha = 1.0);
/// approximate: "none" (erf) or "tanh".
SymTensor gelu(const SymTensor &x, const std::string &approximate = "none");
SymTensor sigmoid(const SymTensor &x);
SymTensor tanh(const SymTensor &x);
SymTensor softplus(const SymTensor &x, double beta = 1.0, double threshold = 20.0);
/// Zeroes elements with probability p and scales the rest by 1/(1-p) when
/// training; the identity otherwise. The mask is a fixed function of `seed`
/// and, when given, of `step` (an i32 scalar such as `Graph::run_counter()`),
/// so that every run of a compiled training step draws a new mask.
SymTensor dropout(const SymTensor &x, double p = 0.5, bool training = true, int64_t seed = 0,
                  const SymTensor &step = {});

// ---- linear algebra ----
/// torch.matmul, including 1-d operands and broadcast batch dims.
SymTensor matmul(const SymTensor &a, const SymTensor &b);
/// x @ weight^T + bias; bias may be undefined.
SymTensor linear(const SymTensor &x, const SymTensor &weight, const SymTensor &bias = {});

// ---- convolution ----
/// Padding of a convolution: per-dim values (one value applies to every
/// dim), "valid", "same", or asymmetric {lo_0, hi_0, lo_1, hi_1, ...}.
struct Padding {
    Padding() : values{0} {}
    Padding(int p) : values{p} {}
    Padding(int64_t p) : values{p} {}
    Padding(std::initializer_list<int64_t> p) : values(p) {}
    Padding(const Ints &p) : values(p) {}
    Padding(const char *mode) : mode(mode) {}
    Padding(const std::string &mode) : mode(mode) {}
    std::string mode;  ///< "", "same" or "valid"
    Ints values;
};

struct ConvOptions {
    Ints stride = {1};
    Padding padding{};  // an initializer, so designated initializers that omit it do not warn
    Ints dilation = {1};
    int64_t groups = 1;
    /// zeros, reflect, replicate or circular.
    std::string padding_mode = "zeros";
};

/// input [N, C_in, L] (or unbatched [C_in, L]), weight [C_out, C_in/groups, K].
SymTensor conv1d(const SymTensor &input, const SymTensor &weight, const SymTensor &bias = {},
                 const ConvOptions &options = {});
/// input [N, C_in, H, W] (or unbatched), weight [C_out, C_in/groups, KH, KW].
SymTensor conv2d(const SymTensor &input, const SymTensor &weight, const SymTensor &bias = {},
                 const ConvOptions &options = {});

struct ConvTransposeOptions {
    Ints stride = {1};
    Ints padding = {0};
    Ints output_padding = {0};
    int64_t groups = 1;
    Ints dilation = {1};
};

/// weight [C_in, C_out/groups, K...].
SymTensor conv_transpose1d(const SymTensor &input, const SymTensor &weight, const SymTensor &bias = {},
                           const ConvTransposeOptions &options = {});
SymTensor conv_transpose2d(const SymTensor &input, const SymTensor &weight, const SymTensor &bias = {},
                           const ConvTransposeOptions &options = {});

// ---- pooling ----
struct MaxPoolOptions {
    Ints stride = {};  ///< empty: the kernel size
    Ints padding = {0};
    Ints dilation = {1};
    bool ceil_mode = false;
    /// The dtype of max_poolNd_with_indices' indices: i32, or i64 as PyTorch returns them.
    DType indices_dtype = DType::i32;
};
struct AvgPoolOptions {
    Ints stride = {};  ///< empty: the kernel size
    Ints padding = {0};
    bool ceil_mode = false;
    bool count_include_pad = true;
    /// Divides every window's sum by this instead of its size (torch's avg_pool2d
    /// divisor_override; accepted for 1-d too). Not zero.
    std::optional<int64_t> divisor_override = std::nullopt;
};
SymTensor max_pool1d(const SymTensor &input, const Ints &kernel_size, const MaxPoolOptions &options = {});
SymTensor max_pool2d(const SymTensor &input, const Ints &kernel_size, const MaxPoolOptions &options = {});
SymTensor avg_pool1d(const SymTensor &input, const Ints &kernel_size, const AvgPoolOptions &options = {});
SymTensor avg_pool2d(const SymTensor &input, const Ints &kernel_size, const AvgPoolOptions &options = {});
/// max_poolNd with return_indices=True (F.max_poolNd_with_indices): the pooled values and, for
/// each, the position of its maximum in the input plane (l, or h * W + w), as i32 or, with
/// options.indices_dtype = i64, as PyTorch's int64.
struct MaxPoolWithIndices {
    SymTensor output, indices;
};
MaxPoolWithIndices max_pool1d_with_indices(const SymTensor &input, const Ints &kernel_size,
                                           const MaxPoolOptions &options = {});
MaxPoolWithIndices max_pool2d_with_indices(const SymTensor &input, const Ints &kernel_size,
                                           const MaxPoolOptions &options = {});
struct MaxUnpoolOptions {
    Ints stride = {};  ///< empty: the kernel size
    Ints padding = {0};
    /// Spatial output size (the last dims of a full size are taken too); empty: (L - 1) * stride
    /// - 2 * padding + kernel_size, and a given size must lie within stride of that, as in PyTorch.
    Ints output_size = {};
};
/// torch.nn.functional.max_unpoolNd: each value of input at its index (from max_poolNd_with_indices
/// with the same kernel_size, stride and padding) in a zero output. An index outside its own window
/// fails the run, naming it (PyTorch accepts any index in the plane; Strata gathers per window).
SymTensor max_unpool1d(const SymTensor &input, const SymTensor &indices, const Ints &kernel_size,
                       const MaxUnpoolOptions &options = {});
SymTensor max_unpool2d(const SymTensor &input, const SymTensor &indices, const Ints &kernel_size,
                       const MaxUnpoolOptions &options = {});
SymTensor adaptive_avg_pool1d(const SymTensor &input, const Ints &output_size);
/// output_size {1, 1} is global average pooling.
SymTensor adaptive_avg_pool2d(const SymTensor &input, const Ints &output_size);

// ---- resampling ----
/// torch.nn.functional.interpolate's arguments. Give `size` or `scale_factor` (one value for every
/// spatial dim, or one per dim), not both.
struct InterpolateOptions {
    Ints size = {};
    std::vector<double> scale_factor = {};
    /// "nearest" (3-d or 4-d input), "linear" (3-d), "bilinear" (4-d), or "area" (adaptive average pooling).
    std::string mode = "nearest";
    /// Linear modes only (PyTorch's None is false): corner pixels' centres align, else half-pixel coordinates.
    std::optional<bool> align_corners = std::nullopt;
    /// true: the output size floor(in * scale_factor) decides the coordinates, not the factor itself.
    std::optional<bool> recompute_scale_factor = std::nullopt;
};
/// torch.nn.functional.interpolate on a batched input [N, C, L] or [N, C, H, W], with PyTorch's output
/// sizes (trunc(in * scale_factor)) and coordinate rules (nearest: floor(o * scale), PyTorch's legacy
/// "nearest", not "nearest-exact"). Differentiable (upsample_*_grad).
SymTensor interpolate(const SymTensor &input, const InterpolateOptions &options);
/// torch.nn.functional.upsample (PyTorch's deprecated name for interpolate).
SymTensor upsample(const SymTensor &input, const InterpolateOptions &options);

// ---- reductions ----
/// Sum over `dims` (all dims when empty).
SymTensor sum(const SymTensor &x, const Ints &dims = {}, bool keepdim = false);
SymTensor mean(const SymTensor &x, const Ints &dims = {}, bool keepdim = false);
/// Maximum values over `dims` (all dims when empty), like torch.amax.
SymTensor max(const SymTensor &x, const Ints &dims = {}, bool keepdim = false);
/// Index of the first maximum along `dim` (i32).
SymTensor argmax(const SymTensor &x, int64_t dim, bool keepdim = false);
SymTensor softmax(const SymTensor &x, int64_t dim);
SymTensor log_softmax(const SymTensor &x, int64_t dim);

// ---- shape ----
/// One extent may be -1.
SymTensor reshape(const SymTensor &x, const Ints &shape);
SymTensor flatten(const SymTensor &x, int64_t start_dim = 0, int64_t end_dim = -1);
SymTensor permute(const SymTensor &x, const Ints &dims);
SymTensor transpose(const SymTensor &x, int64_t dim0, int64_t dim1);
/// Broadcast to `shape` (-1 keeps an extent), like Tensor.expand.
SymTensor expand(const SymTensor &x, const Ints &shape);
/// x[start:end:step] along dim, with Python's negative indices and clamping.
SymTensor slice(const SymTensor &x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
/// torch.cat.
SymTensor concat(const std::vector<SymTensor> &xs, int64_t dim = 0);
/// torch.nn.functional.pad: pad = {last_lo, last_hi, second_last_lo, ...};
/// mode constant, reflect, replicate or circular.
SymTensor pad(const SymTensor &x, const Ints &pad, const std::string &mode = "constant", double value = 0.0);
/// Removes / inserts a dim of extent 1.
SymTensor squeeze(const SymTensor &x, int64_t dim);
SymTensor unsqueeze(const SymTensor &x, int64_t dim);

// ---- normalisation ----
struct BatchNormResult {
    SymTensor output;
    /// Only when training: the updated running statistics (PyTorch's
    /// momentum rule, unbiased variance).
    SymTensor running_mean, running_var;
};
/// x [N, C, ...]; running stats, weight and bias [C] (weight/bias may be undefined).
BatchNormResult batch_norm(const SymTensor &x, const SymTensor &running_mean, const SymTensor &running_var,
                           const SymTensor &weight, const SymTensor &bias, bool training,
                           double momentum = 0.1, double eps = 1e-5);
/// Normalises over the trailing dims `normalized_shape`.
SymTensor layer_norm(const SymTensor &x, const Ints &normalized_shape, const SymTensor &weight = {},
                     const SymTensor &bias = {}, double eps = 1e-5);

// ---- losses ----
/// reduction: "mean", "sum" or "none".
struct CrossEntropyOptions {
    std::string reduction = "mean";
    int64_t ignore_index = -100;
    double label_smoothing = 0.0;
    /// PyTorch's class `weight`, [C] in the logits' dtype (undefined: every class 1). The mean
    /// divides by the summed weights of the targets not ignored; smoothing weighs class c by weight[c].
    SymTensor weight = {};
};
/// logits [N, C] or [N, C, d...]; target i32 or i64 (PyTorch's) class indices [N] or [N, d...].
SymTensor cross_entropy(const SymTensor &logits, const SymTensor &target, const CrossEntropyOptions &options = {});

struct NllLossOptions {
    std::string reduction = "mean";
    int64_t ignore_index = -100;
    /// Class weight [C], as for cross_entropy.
    SymTensor weight = {};
};
/// log_probs [N, C, ...]; target i32 or i64.
SymTensor nll_loss(const SymTensor &log_probs, const SymTensor &target, const std::string &reduction = "mean",
                   int64_t ignore_index = -100);
SymTensor nll_loss(const SymTensor &log_probs, const SymTensor &target, const NllLossOptions &options);
SymTensor mse_loss(const SymTensor &input, const SymTensor &target, const std::string &reduction = "mean");

struct BceWithLogitsOptions {
    std::string reduction = "mean";
    /// Rescales each element's loss; broadcasts to the input's shape.
    SymTensor weight = {};
    /// The weight of positive targets, l = 1 + (pos_weight - 1) t on the log sigmoid(x) term;
    /// broadcasts to the input ([C] for [N, C] inputs: one per class).
    SymTensor pos_weight = {};
};
SymTensor binary_cross_entropy_with_logits(const SymTensor &input, const SymTensor &target,
                                           const std::string &reduction = "mean");
SymTensor binary_cross_entropy_with_logits(const SymTensor &input, const SymTensor &target,
                                           const BceWithLogitsOptions &options);

}  // namespace strata
