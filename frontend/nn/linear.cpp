#include "frontend/nn/linear.h"

#include "frontend/functional.h"
#include "frontend/nn/init.h"

#include <strata/error.h>

namespace strata::nn {

LinearImpl::LinearImpl(const LinearOptions &options_) : Module("Linear"), options(options_) {
    if (options.in_features() <= 0 || options.out_features() <= 0)
        fail("Linear: in_features and out_features must be positive, got in_features={}, out_features={}",
             options.in_features(), options.out_features());
    detail::check_parameter_dtype("Linear", options.dtype());
    weight = register_parameter("weight",
                                Tensor::empty({options.out_features(), options.in_features()}, options.dtype()));
    if (options.bias()) bias = register_parameter("bias", Tensor::empty({options.out_features()}, options.dtype()));
    reset_parameters();
}

void LinearImpl::reset_parameters() {
    init::default_weight_init_(weight);
    if (bias.defined()) init::default_bias_init_(bias, weight);
}

void LinearImpl::refresh_tensor_members() {
    weight = registered_tensor("weight");
    bias = registered_tensor("bias");
}

SymTensor LinearImpl::forward(const SymTensor &input) {
    if (input.dim() < 1 || input.size(-1) != options.in_features())
        fail("Linear({}, {}): expected an input whose last dim is {}, got shape {}", options.in_features(),
             options.out_features(), options.in_features(), shape_str(input.shape()));
    const SymTensor w = param(input, "weight");
    const SymTensor b = bias.defined() ? param(input, "bias") : SymTensor();
    return linear(input, w, b);
}

std::string LinearImpl::extra_repr() const {
    return fmt::format("in_features={}, out_features={}, bias={}", options.in_features(),
                       options.out_features(), options.bias() ? "true" : "false");
}

}  // namespace strata::nn
