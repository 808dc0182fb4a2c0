#pragma once
// Shared by test_optim_sgd.cpp and test_optim_adam.cpp: two tiny models whose gradients are
// known in closed form, so each optimizer's steps can be written out by hand in double.
//
//  - Affine (f64): y = x * weight + bias over the last dim, loss sum((y - t)^2), so
//      d/dweight = sum_n 2 (y_n - t_n) x_n,   d/dbias = sum_n 2 (y_n - t_n).
//    The compiled step runs in double: results agree with the reference to ~1e-13.
//  - nn::Linear (f32): y = x W^T + b, loss mean((y - t)^2) over all N*O elements, so with
//    dy = 2 (y - t) / (N O):  dW = dy^T x,  db = sum_n dy_n. Compared with a stated f32 tolerance.

#include "frontend/functional.h"
#include "frontend/nn.h"
#include "frontend/train/train_step.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

namespace strata::optim_test {

using Vec = std::vector<double>;

/// y = x * weight + bias with f64 parameters [3].
struct AffineImpl : nn::Module {
    AffineImpl(const Vec &w, const Vec &b) : nn::Module("Affine") {
        weight = register_parameter("weight", Tensor::from_vector<double>(w));
        bias = register_parameter("bias", Tensor::from_vector<double>(b));
    }
    SymTensor forward(const SymTensor &x) override { return x * param(x, "weight") + param(x, "bias"); }
    Tensor weight, bias;
};
STRATA_MODULE(Affine);

/// The fixed batch of the Affine problem: N = 2 rows of D = 3.
inline const Vec affine_x = {1.0, 2.0, -1.0, 0.5, -1.0, 3.0};
inline const Vec affine_t = {0.5, 1.0, 0.0, 1.0, -2.0, 1.0};
inline const Vec affine_w0 = {0.3, -0.2, 0.5};
inline const Vec affine_b0 = {0.1, 0.0, -0.1};

/// The gradients of sum((x * w + b - t)^2) at (w, b): {dw, db}.
inline std::vector<Vec> affine_grads(const Vec &w, const Vec &b) {
    Vec gw(3, 0.0), gb(3, 0.0);
    for (size_t n = 0; n < 2; ++n)
        for (size_t d = 0; d < 3; ++d) {
            const double x = affine_x[n * 3 + d], r = x * w[d] + b[d] - affine_t[n * 3 + d];
            gw[d] += 2 * r * x;
            gb[d] += 2 * r;
        }
    return {gw, gb};
}

/// sum((x * w + b - t)^2) at (w, b).
inline double affine_loss(const Vec &w, const Vec &b) {
    double loss = 0;
    for (size_t n = 0; n < 2; ++n)
        for (size_t d = 0; d < 3; ++d) {
            const double r = affine_x[n * 3 + d] * w[d] + b[d] - affine_t[n * 3 + d];
            loss += r * r;
        }
    return loss;
}

/// A compiled training step of the Affine model (sum of squares) with `optimizer`.
inline TrainStep affine_step(Affine &model, optim::Optimizer &optimizer, double clip_grad_norm = 0) {
    TrainStepOptions options;
    options.clip_grad_norm = clip_grad_norm;
    return TrainStep(
        *model, optimizer, {2, 3}, {2, 3}, DType::f64,
        [](const SymTensor &y, const SymTensor &t) { return mse_loss(y, t, "sum"); }, options);
}

inline Tensor affine_input() { return Tensor::from_vector<double>(affine_x, {2, 3}); }
inline Tensor affine_target() { return Tensor::from_vector<double>(affine_t, {2, 3}); }

/// The Linear problem: N = 4 rows, 3 inputs, 2 outputs.
inline const Vec linear_x = {0.5, -1.0, 2.0, 1.5, 0.25, -0.5, -2.0, 1.0, 0.0, 0.75, 0.5, -1.25};
inline const Vec linear_t = {1.0, -1.0, 0.5, 2.0, -0.5, 0.0, 1.5, -2.0};
inline const Vec linear_w0 = {0.2, -0.4, 0.1, 0.3, 0.05, -0.25};
inline const Vec linear_b0 = {0.1, -0.2};

/// The gradients of mean((x W^T + b - t)^2) at (W, b): {dW, db}.
inline std::vector<Vec> linear_grads(const Vec &w, const Vec &b) {
    const size_t N = 4, I = 3, O = 2;
    Vec gw(O * I, 0.0), gb(O, 0.0);
    for (size_t n = 0; n < N; ++n)
        for (size_t o = 0; o < O; ++o) {
            double y = b[o];
            for (size_t i = 0; i < I; ++i) y += linear_x[n * I + i] * w[o * I + i];
            const double dy = 2 * (y - linear_t[n * O + o]) / static_cast<double>(N * O);
            for (size_t i = 0; i < I; ++i) gw[o * I + i] += dy * linear_x[n * I + i];
            gb[o] += dy;
        }
    return {gw, gb};
}

/// An nn::Linear(3, 2) holding the f32 values of linear_w0 / linear_b0.
inline nn::Linear make_linear() {
    nn::Linear fc(3, 2);
    for (size_t i = 0; i < linear_w0.size(); ++i) fc->weight.set_flat(static_cast<int64_t>(i), linear_w0[i]);
    for (size_t i = 0; i < linear_b0.size(); ++i) fc->bias.set_flat(static_cast<int64_t>(i), linear_b0[i]);
    return fc;
}

inline TrainStep linear_step(nn::Linear &fc, optim::Optimizer &optimizer) {
    return TrainStep(*fc, optimizer, {4, 3}, {4, 2}, DType::f32,
                     [](const SymTensor &y, const SymTensor &t) { return mse_loss(y, t); });
}

inline Tensor linear_input() {
    return Tensor::from_vector<float>({linear_x.begin(), linear_x.end()}, {4, 3});
}
inline Tensor linear_target() {
    return Tensor::from_vector<float>({linear_t.begin(), linear_t.end()}, {4, 2});
}

inline Vec values(const Tensor &t) {
    Vec out;
    for (int64_t i = 0; i < t.numel(); ++i) out.push_back(t.get_flat(i));
    return out;
}

/// |got - want| <= rtol * max(1, |want|) for every element.
inline void check_close(const Tensor &got, const Vec &want, double rtol) {
    const Vec g = values(got);
    REQUIRE(g.size() == want.size());
    for (size_t i = 0; i < g.size(); ++i) {
        INFO("element " << i << ": got " << g[i] << ", want " << want[i]);
        CHECK(std::abs(g[i] - want[i]) <= rtol * std::max(1.0, std::abs(want[i])));
    }
}

/// Trains `fc` with `step` for four steps beside the double-precision reference
/// optimizer `ref` (anything with step(params, grads)) and checks the f32
/// parameters stay within 1e-5 relative of it after every step.
template <typename Reference> void check_linear_training(nn::Linear &fc, TrainStep &step, Reference &ref) {
    std::vector<Vec> params = {linear_w0, linear_b0};
    for (int s = 1; s <= 4; ++s) {
        INFO("step " << s);
        ref.step(params, linear_grads(params[0], params[1]));
        step.step(linear_input(), linear_target());
        check_close(fc->weight, params[0], 1e-5);
        check_close(fc->bias, params[1], 1e-5);
    }
}

}  // namespace strata::optim_test
