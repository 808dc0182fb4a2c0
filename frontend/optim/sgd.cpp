#include "frontend/optim/sgd.h"

#include "frontend/functional.h"

namespace strata::optim {

SGD::SGD(const SGDOptions &o) : Optimizer(o.lr_), options_(o) {
    if (o.momentum_ < 0) fail("SGD: momentum must be >= 0, got {}", o.momentum_);
    if (o.weight_decay_ < 0) fail("SGD: weight_decay must be >= 0, got {}", o.weight_decay_);
    if (o.nesterov_ && (o.momentum_ <= 0 || o.dampening_ != 0))
        fail("SGD: Nesterov momentum requires a momentum > 0 and zero dampening (got momentum={}, dampening={})",
             o.momentum_, o.dampening_);
}

std::map<std::string, double> SGD::step_scalars(int64_t t) const {
    // "first" selects PyTorch's first-step rule: the momentum buffer starts as the gradient.
    return {{"lr", lr()}, {"first", t == 1 ? 1.0 : 0.0}};
}

void SGD::build_param(Graph &g, const ParamSlot &p) {
    const SGDOptions &o = options_;
    SymTensor grad = p.grad;
    if (o.weight_decay_ != 0) grad = grad + p.param * o.weight_decay_;
    if (o.momentum_ != 0) {
        SymTensor buf = state(g, p, "momentum_buffer");
        SymTensor first = input(g, "first", p.param);
        SymTensor later = buf * o.momentum_ + grad * (1.0 - o.dampening_);
        SymTensor new_buf = where(first > g.constant(0.5, {}, first.dtype()), grad, later);
        update_state(g, p, "momentum_buffer", new_buf);
        grad = o.nesterov_ ? grad + new_buf * o.momentum_ : new_buf;
    }
    g.update(p.name, p.param - input(g, "lr", p.param) * grad);
}

}  // namespace strata::optim
