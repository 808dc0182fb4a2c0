#include "frontend/nn/init.h"

#include <strata/error.h>

#include <cmath>

namespace strata::nn::init {

namespace {

int64_t fan_for_mode(const Tensor &tensor, const std::string &mode, const char *function) {
    auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
    if (mode == "fan_in") return fan_in;
    if (mode == "fan_out") return fan_out;
    fail("init::{}: mode must be \"fan_in\" or \"fan_out\", got \"{}\"", function, mode);
}

void check_float(const Tensor &tensor, const char *function) {
    if (!tensor.defined()) fail("init::{}: the tensor is undefined", function);
    if (!is_float(tensor.dtype()))
        fail("init::{}: expected a floating-point tensor (f32 or f64), got {}", function,
             dtype_name(tensor.dtype()));
}

}  // namespace

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor &tensor) {
    if (!tensor.defined()) fail("init::calculate_fan_in_and_fan_out: the tensor is undefined");
    if (tensor.dim() < 2)
        fail("init::calculate_fan_in_and_fan_out: fan in and fan out need a tensor of at least 2 dims, got "
             "shape {}",
             shape_str(tensor.shape()));
    int64_t receptive_field = 1;
    for (int64_t d = 2; d < tensor.dim(); ++d) receptive_field *= tensor.size(d);
    return {tensor.size(1) * receptive_field, tensor.size(0) * receptive_field};
}

double calculate_gain(const std::string &nonlinearity, double param) {
    if (nonlinearity == "linear" || nonlinearity == "conv1d" || nonlinearity == "conv2d" ||
        nonlinearity == "conv3d" || nonlinearity == "conv_transpose1d" ||
        nonlinearity == "conv_transpose2d" || nonlinearity == "conv_transpose3d" || nonlinearity == "sigmoid")
        return 1.0;
    if (nonlinearity == "tanh") return 5.0 / 3.0;
    if (nonlinearity == "relu") return std::sqrt(2.0);
    if (nonlinearity == "leaky_relu") {
        // PyTorch's default slope when no parameter is given.
        const double slope = param < 0.0 ? 0.01 : param;
        return std::sqrt(2.0 / (1.0 + slope * slope));
    }
    if (nonlinearity == "selu") return 3.0 / 4.0;
    fail("init::calculate_gain: unsupported nonlinearity \"{}\" (expected linear, conv1d, conv2d, "
         "conv_transpose1d, conv_transpose2d, sigmoid, tanh, relu, leaky_relu or selu)",
         nonlinearity);
}

Tensor &uniform_(Tensor &tensor, double low, double high, Generator &gen) {
    check_float(tensor, "uniform_");
    if (!(low <= high)) fail("init::uniform_: low ({}) must not exceed high ({})", low, high);
    // Tensor::rand keeps f32 values inside [low, high); copy into the registered storage.
    tensor.copy_from(Tensor::rand(tensor.shape(), gen, tensor.dtype(), low, high));
    return tensor;
}

Tensor &normal_(Tensor &tensor, double mean, double std, Generator &gen) {
    check_float(tensor, "normal_");
    if (!(std >= 0.0)) fail("init::normal_: std must be >= 0, got {}", std);
    tensor.copy_from(Tensor::randn(tensor.shape(), gen, tensor.dtype(), mean, std));
    return tensor;
}

Tensor &constant_(Tensor &tensor, double value) {
    check_float(tensor, "constant_");
    tensor.copy_from(Tensor::full(tensor.shape(), value, tensor.dtype()));
    return tensor;
}

Tensor &zeros_(Tensor &tensor) { return constant_(tensor, 0.0); }
Tensor &ones_(Tensor &tensor) { return constant_(tensor, 1.0); }

Tensor &kaiming_uniform_(Tensor &tensor, double a, const std::string &mode, const std::string &nonlinearity,
                         Generator &gen) {
    check_float(tensor, "kaiming_uniform_");
    const int64_t fan = fan_for_mode(tensor, mode, "kaiming_uniform_");
    if (fan == 0) fail("init::kaiming_uniform_: cannot initialise a tensor with zero elements");
    const double std = calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
    const double bound = std::sqrt(3.0) * std;
    return uniform_(tensor, -bound, bound, gen);
}

Tensor &kaiming_normal_(Tensor &tensor, double a, const std::string &mode, const std::string &nonlinearity,
                        Generator &gen) {
    check_float(tensor, "kaiming_normal_");
    const int64_t fan = fan_for_mode(tensor, mode, "kaiming_normal_");
    if (fan == 0) fail("init::kaiming_normal_: cannot initialise a tensor with zero elements");
    const double std = calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
    return normal_(tensor, 0.0, std, gen);
}

Tensor &xavier_uniform_(Tensor &tensor, double gain, Generator &gen) {
    check_float(tensor, "xavier_uniform_");
    auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
    if (fan_in + fan_out == 0) fail("init::xavier_uniform_: cannot initialise a tensor with zero elements");
    const double std = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
    const double bound = std::sqrt(3.0) * std;
    return uniform_(tensor, -bound, bound, gen);
}

Tensor &xavier_normal_(Tensor &tensor, double gain, Generator &gen) {
    check_float(tensor, "xavier_normal_");
    auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
    if (fan_in + fan_out == 0) fail("init::xavier_normal_: cannot initialise a tensor with zero elements");
    const double std = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
    return normal_(tensor, 0.0, std, gen);
}

Tensor &default_weight_init_(Tensor &weight, Generator &gen) {
    return kaiming_uniform_(weight, std::sqrt(5.0), "fan_in", "leaky_relu", gen);
}

Tensor &default_bias_init_(Tensor &bias, const Tensor &weight, Generator &gen) {
    const int64_t fan_in = calculate_fan_in_and_fan_out(weight).first;
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    return uniform_(bias, -bound, bound, gen);
}

}  // namespace strata::nn::init
