#pragma once
/// \file
/// Adam and AdamW with PyTorch's update equations (torch.optim.Adam / AdamW).

#include "frontend/optim/optimizer.h"

namespace strata::optim {

struct AdamOptions {
    explicit AdamOptions(double lr = 1e-3) : lr_(lr) {}
    AdamOptions &betas(double beta1, double beta2) { beta1_ = beta1; beta2_ = beta2; return *this; }
    AdamOptions &eps(double v) { eps_ = v; return *this; }
    AdamOptions &weight_decay(double v) { weight_decay_ = v; return *this; }
    double lr_, beta1_ = 0.9, beta2_ = 0.999, eps_ = 1e-8, weight_decay_ = 0;
};

/// AdamW's options: PyTorch's default weight decay for AdamW is 1e-2.
struct AdamWOptions : AdamOptions {
    explicit AdamWOptions(double lr = 1e-3) : AdamOptions(lr) { weight_decay_ = 1e-2; }
};

/// Adam: weight decay is an L2 term added to the gradient.
class Adam : public Optimizer {
public:
    explicit Adam(const AdamOptions &options);
    const AdamOptions &options() const { return options_; }

protected:
    void build_param(Graph &g, const ParamSlot &p) override;
    std::map<std::string, double> step_scalars(int64_t t) const override;
    /// True for AdamW: decoupled weight decay.
    virtual bool decoupled() const { return false; }

private:
    AdamOptions options_;
};

/// AdamW: weight decay shrinks the parameter directly (default 1e-2).
class AdamW : public Adam {
public:
    explicit AdamW(const AdamOptions &options = AdamWOptions()) : Adam(options) {}

protected:
    bool decoupled() const override { return true; }
};

}  // namespace strata::optim
