// Adam and AdamW (betas, eps, weight decay) against torch.optim.Adam / AdamW's update written out in
// double, step by step; their option errors.
#include "frontend/optim/adam.h"
#include "tests/optim_test_helpers.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

using namespace strata;
using namespace strata::optim_test;

namespace {

/// torch.optim.Adam / AdamW's algorithm (the docs' pseudo-code, single-tensor form), in double:
///     AdamW: p *= 1 - lr * wd            Adam: g += wd * p
///     m = beta1 m + (1 - beta1) g,       v = beta2 v + (1 - beta2) g^2
///     step_size = lr / (1 - beta1^t),    denom = sqrt(v) / sqrt(1 - beta2^t) + eps
///     p -= step_size * m / denom
struct AdamReference {
    double lr, beta1, beta2, eps, weight_decay;
    bool decoupled;
    std::vector<Vec> m, v;
    int64_t t = 0;

    void step(std::vector<Vec> &params, const std::vector<Vec> &grads) {
        ++t;
        m.resize(params.size());
        v.resize(params.size());
        const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(t));
        const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(t));
        const double step_size = lr / bias_correction1;
        for (size_t k = 0; k < params.size(); ++k) {
            m[k].resize(params[k].size(), 0.0);
            v[k].resize(params[k].size(), 0.0);
            for (size_t i = 0; i < params[k].size(); ++i) {
                double &p = params[k][i];
                double g = grads[k][i];
                if (weight_decay != 0) {
                    if (decoupled)
                        p *= 1 - lr * weight_decay;
                    else
                        g += weight_decay * p;
                }
                m[k][i] = beta1 * m[k][i] + (1 - beta1) * g;
                v[k][i] = beta2 * v[k][i] + (1 - beta2) * g * g;
                const double denom = std::sqrt(v[k][i]) / std::sqrt(bias_correction2) + eps;
                p -= step_size * m[k][i] / denom;
            }
        }
    }
};

AdamReference reference_for(const optim::AdamOptions &o, bool decoupled) {
    return {o.lr_, o.beta1_, o.beta2_, o.eps_, o.weight_decay_, decoupled, {}, {}, 0};
}

struct AdamCase {
    std::string name;
    optim::AdamOptions options;
    bool adamw;
};

}  // namespace

TEST_CASE("Adam and AdamW variants match torch.optim step by step (f64)", "[optim][adam]") {
    const std::vector<AdamCase> cases = {
        {"Adam defaults", optim::AdamOptions(0.01), false},
        {"Adam betas and eps", optim::AdamOptions(0.02).betas(0.8, 0.95).eps(1e-3), false},
        {"Adam weight decay (L2)", optim::AdamOptions(0.01).weight_decay(0.1), false},
        {"AdamW defaults (weight decay 1e-2)", optim::AdamWOptions(0.01), true},
        {"AdamW weight decay and betas", optim::AdamWOptions(0.05).betas(0.5, 0.9).weight_decay(0.3), true},
    };
    for (const AdamCase &c : cases) {
        INFO("case: " << c.name);
        Affine model(affine_w0, affine_b0);
        std::unique_ptr<optim::Adam> adam =
            c.adamw ? std::make_unique<optim::AdamW>(c.options) : std::make_unique<optim::Adam>(c.options);
        TrainStep step = affine_step(model, *adam);
        AdamReference ref = reference_for(c.options, c.adamw);
        std::vector<Vec> params = {affine_w0, affine_b0};
        for (int s = 1; s <= 5; ++s) {
            INFO("step " << s);
            if (s == 4) {
                adam->set_lr(c.options.lr_ * 3);
                ref.lr = c.options.lr_ * 3;
            }
            const double want_loss = affine_loss(params[0], params[1]);
            ref.step(params, affine_grads(params[0], params[1]));
            const TrainStep::Result r = step.step(affine_input(), affine_target());
            CHECK(r.loss == Approx(want_loss).epsilon(1e-12));
            check_close(model->weight, params[0], 1e-12);
            check_close(model->bias, params[1], 1e-12);
        }
        check_close(adam->state().at("weight.exp_avg"), ref.m[0], 1e-12);
        check_close(adam->state().at("bias.exp_avg_sq"), ref.v[1], 1e-12);
    }
}

TEST_CASE("AdamW's default weight decay is PyTorch's 1e-2 and Adam's is 0", "[optim][adam]") {
    CHECK(optim::AdamW().options().weight_decay_ == 0.01);
    CHECK(optim::AdamW().options().lr_ == 1e-3);
    CHECK(optim::Adam(optim::AdamOptions()).options().weight_decay_ == 0.0);
    const optim::AdamOptions o = optim::AdamOptions();
    CHECK(o.beta1_ == 0.9);
    CHECK(o.beta2_ == 0.999);
    CHECK(o.eps_ == 1e-8);
}

TEST_CASE("AdamW trains nn::Linear in f32", "[optim][adam]") {
    nn::Linear fc = make_linear();
    const optim::AdamOptions options = optim::AdamWOptions(0.01).weight_decay(0.1);
    optim::AdamW adamw(options);
    TrainStep step = linear_step(fc, adamw);
    AdamReference ref = reference_for(options, true);
    // f32 against the double reference: a few ulps per step, well inside 1e-5.
    check_linear_training(fc, step, ref);
}

TEST_CASE("Adam option errors", "[optim][adam][errors]") {
    using Catch::Contains;
    CHECK_THROWS_WITH(optim::Adam(optim::AdamOptions(-1e-3)),
                      Contains("learning rate must be finite and >= 0, got -0.001"));
    CHECK_THROWS_WITH(optim::Adam(optim::AdamOptions().betas(1.0, 0.999)),
                      Contains("Adam: betas must be in [0, 1), got (1, 0.999)"));
    CHECK_THROWS_WITH(optim::AdamW(optim::AdamWOptions().betas(0.9, -0.1)),
                      Contains("betas must be in [0, 1)"));
    CHECK_THROWS_WITH(optim::Adam(optim::AdamOptions().eps(-1e-8)), Contains("eps must be >= 0, got -1e-08"));
    CHECK_THROWS_WITH(optim::AdamW(optim::AdamWOptions().weight_decay(-0.5)),
                      Contains("weight_decay must be >= 0, got -0.5"));
}
