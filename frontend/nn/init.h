#pragma once
/// \file
/// Weight initialisation, as torch.nn.init. Each function fills its tensor in
/// place (the storage a module registered, so the module sees the new values)
/// and draws from `gen`, by default the process-wide generator that
/// `strata::manual_seed` reseeds.
///
/// PyTorch's default initialisation of Linear and Conv layers, which the
/// modules' constructors use, is `kaiming_uniform_(weight, std::sqrt(5.0))`,
/// i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), then the bias from the same
/// interval (`default_bias_init_`).

#include "runtime/generator.h"
#include "runtime/random.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <string>
#include <utility>

namespace strata::nn::init {

/// Fan-in and fan-out of a weight of 2 or more dims, as PyTorch computes
/// them: dim 1 times the receptive field (the product of dims 2...) for the
/// fan-in, dim 0 times it for the fan-out. (So a ConvTranspose weight
/// [C_in, C_out/groups, k...] has fan-in (C_out/groups) * prod(k).)
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor &tensor);

/// The recommended gain for a nonlinearity: "linear", "conv1d", "conv2d",
/// "conv_transpose1d", "conv_transpose2d", "sigmoid" (1), "tanh" (5/3),
/// "relu" (sqrt 2), "leaky_relu" (sqrt(2 / (1 + param^2)), param defaulting
/// to 0.01 when negative), "selu" (3/4).
double calculate_gain(const std::string &nonlinearity, double param = -1.0);

/// U(low, high).
Tensor &uniform_(Tensor &tensor, double low = 0.0, double high = 1.0, Generator &gen = default_generator());
/// N(mean, std^2).
Tensor &normal_(Tensor &tensor, double mean = 0.0, double std = 1.0, Generator &gen = default_generator());
Tensor &constant_(Tensor &tensor, double value);
Tensor &zeros_(Tensor &tensor);
Tensor &ones_(Tensor &tensor);

/// U(-b, b) with b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a);
/// `mode` is "fan_in" or "fan_out".
Tensor &kaiming_uniform_(Tensor &tensor, double a = 0.0, const std::string &mode = "fan_in",
                         const std::string &nonlinearity = "leaky_relu",
                         Generator &gen = default_generator());
/// N(0, std^2) with std = gain / sqrt(fan).
Tensor &kaiming_normal_(Tensor &tensor, double a = 0.0, const std::string &mode = "fan_in",
                        const std::string &nonlinearity = "leaky_relu", Generator &gen = default_generator());
/// U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)).
Tensor &xavier_uniform_(Tensor &tensor, double gain = 1.0, Generator &gen = default_generator());
/// N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).
Tensor &xavier_normal_(Tensor &tensor, double gain = 1.0, Generator &gen = default_generator());

/// PyTorch's default for Linear / Conv / ConvTranspose weights:
/// kaiming_uniform_(weight, a = sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
Tensor &default_weight_init_(Tensor &weight, Generator &gen = default_generator());
/// PyTorch's default for their biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with the
/// fan-in of `weight` (0 when the fan-in is 0).
Tensor &default_bias_init_(Tensor &bias, const Tensor &weight, Generator &gen = default_generator());

}  // namespace strata::nn::init
