#include "frontend/optim/adam.h"

#include "frontend/functional.h"

#include <cmath>

namespace strata::optim {

Adam::Adam(const AdamOptions &o) : Optimizer(o.lr_), options_(o) {
    if (!(o.beta1_ >= 0 && o.beta1_ < 1) || !(o.beta2_ >= 0 && o.beta2_ < 1))
        fail("Adam: betas must be in [0, 1), got ({}, {})", o.beta1_, o.beta2_);
    if (!(o.eps_ >= 0)) fail("Adam: eps must be >= 0, got {}", o.eps_);
    if (!(o.weight_decay_ >= 0)) fail("Adam: weight_decay must be >= 0, got {}", o.weight_decay_);
}

std::map<std::string, double> Adam::step_scalars(int64_t t) const {
    // As torch.optim.Adam (single-tensor, non-capturable) computes them in Python floats.
    const double bias_correction1 = 1.0 - std::pow(options_.beta1_, static_cast<double>(t));
    const double bias_correction2 = 1.0 - std::pow(options_.beta2_, static_cast<double>(t));
    return {{"lr", lr()},
            {"step_size", lr() / bias_correction1},
            {"bias_correction2_sqrt", std::sqrt(bias_correction2)}};
}

void Adam::build_param(Graph &g, const ParamSlot &p) {
    const AdamOptions &o = options_;
    SymTensor param = p.param, grad = p.grad;
    if (o.weight_decay_ != 0) {
        if (decoupled()) param = param * (1.0 - input(g, "lr", param) * o.weight_decay_);
        else grad = grad + param * o.weight_decay_;
    }
    SymTensor m = state(g, p, "exp_avg"), v = state(g, p, "exp_avg_sq");
    // PyTorch's lerp / mul-add forms, written out.
    SymTensor new_m = m + (grad - m) * (1.0 - o.beta1_);
    SymTensor new_v = v * o.beta2_ + grad * grad * (1.0 - o.beta2_);
    SymTensor denom = sqrt(new_v) / input(g, "bias_correction2_sqrt", param) + o.eps_;
    update_state(g, p, "exp_avg", new_m);
    update_state(g, p, "exp_avg_sq", new_v);
    g.update(p.name, param - input(g, "step_size", param) * (new_m / denom));
}

}  // namespace strata::optim
