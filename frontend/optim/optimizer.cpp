#include "frontend/optim/optimizer.h"

#include "frontend/functional.h"

#include <cmath>

namespace strata::optim {

Optimizer::Optimizer(double lr) : lr_(lr) { set_lr(lr); }
Optimizer::~Optimizer() = default;

void Optimizer::set_lr(double lr) {
    if (!(lr >= 0.0) || !std::isfinite(lr)) fail("optimizer: learning rate must be finite and >= 0, got {}", lr);
    lr_ = lr;
}

void Optimizer::set_initial_lr(double lr) {
    if (!(lr >= 0.0) || !std::isfinite(lr))
        fail("optimizer: initial learning rate must be finite and >= 0, got {}", lr);
    initial_lr_ = lr;
    has_initial_lr_ = true;
}

void Optimizer::build(Graph &g, const std::vector<ParamSlot> &params) {
    for (const ParamSlot &p : params) {
        if (!is_float(p.value.dtype())) fail("optimizer: parameter '{}' is not a float tensor", p.name);
        build_param(g, p);
    }
}

std::map<std::string, Tensor> Optimizer::next_step_inputs(DType dtype) const {
    std::map<std::string, Tensor> inputs;
    for (const auto &[name, value] : step_scalars(steps_ + 1)) inputs["optim." + name] = Tensor::full({}, value, dtype);
    return inputs;
}

SymTensor Optimizer::input(Graph &g, const std::string &name, const SymTensor &like) {
    const std::string full = "optim." + name;
    if (const ir::Node *existing = g.program().find_source(full)) return {&g, existing};
    return g.input(full, {}, like.dtype());
}

SymTensor Optimizer::state(Graph &g, const ParamSlot &p, const std::string &slot) {
    const std::string key = p.name + "." + slot;
    auto it = state_.find(key);
    if (it == state_.end()) it = state_.emplace(key, Tensor::zeros(p.value.shape(), p.value.dtype())).first;
    return g.parameter("optim." + key, it->second);
}

void Optimizer::restore_state(const std::string &key, const Tensor &value) {
    auto it = state_.find(key);
    if (it == state_.end()) state_.emplace(key, value.clone());
    else it->second.copy_from(value);  // in place: a compiled step holds this storage
}

void Optimizer::update_state(Graph &g, const ParamSlot &p, const std::string &slot, const SymTensor &value) {
    g.update("optim." + p.name + "." + slot, value);
}

SymTensor clip_grad_norm(std::vector<ParamSlot> &params, double max_norm) {
    if (params.empty()) fail("clip_grad_norm: no parameters");
    if (!(max_norm > 0.0)) fail("clip_grad_norm: max_norm must be positive, got {}", max_norm);
    SymTensor total;
    for (const ParamSlot &p : params) {
        SymTensor sq = sum(p.grad * p.grad);
        total = total.defined() ? total + sq : sq;
    }
    SymTensor norm = sqrt(total);
    SymTensor scale = minimum(max_norm / (norm + 1e-6), norm.graph().constant(1.0, {}, norm.dtype()));
    for (ParamSlot &p : params) p.grad = p.grad * scale;
    return norm;
}

}  // namespace strata::optim
