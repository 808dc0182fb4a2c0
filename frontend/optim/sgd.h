#pragma once
/// \file
/// SGD with momentum, dampening, Nesterov and weight decay (torch.optim.SGD).

#include "frontend/optim/optimizer.h"

namespace strata::optim {

struct SGDOptions {
    explicit SGDOptions(double lr) : lr_(lr) {}
    SGDOptions &momentum(double v) { momentum_ = v; return *this; }
    SGDOptions &dampening(double v) { dampening_ = v; return *this; }
    SGDOptions &nesterov(bool v) { nesterov_ = v; return *this; }
    SGDOptions &weight_decay(double v) { weight_decay_ = v; return *this; }
    double lr_, momentum_ = 0, dampening_ = 0, weight_decay_ = 0;
    bool nesterov_ = false;
};

class SGD : public Optimizer {
public:
    explicit SGD(const SGDOptions &options);
    const SGDOptions &options() const { return options_; }

protected:
    void build_param(Graph &g, const ParamSlot &p) override;
    std::map<std::string, double> step_scalars(int64_t t) const override;

private:
    SGDOptions options_;
};

}  // namespace strata::optim
