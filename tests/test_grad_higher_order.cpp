// Gradients of gradients, in f64 under the default and the "simple" schedule:
// a Hessian-vector product of a small tanh MLP against central differences of
// its gradient, every second derivative of that MLP against finite
// differences (the gradient itself checked as a function), a gradient-penalty
// loss trained with plain SGD, and fan-out accumulation (nodes and
// parameters used several times).

#include "tests/grad_test_helpers.h"

#include <algorithm>
#include <cmath>

using namespace strata;
using testing::GradSource;
using testing::Syms;

namespace {

/// The MLP's parameters, in order: w1 [5, 4], b1 [5], w2 [3, 5], b2 [3].
std::vector<GradSource> mlp_parameters(Generator &gen) {
    return {{"w1", testing::randn64({5, 4}, gen, 0.5)},
            {"b1", testing::randn64({5}, gen, 0.5)},
            {"w2", testing::randn64({3, 5}, gen, 0.5)},
            {"b2", testing::randn64({3}, gen, 0.5)}};
}

/// mean((tanh(x w1^T + b1) w2^T + b2 - y)^2): smooth, with a non-zero Hessian everywhere.
SymTensor mlp_loss(const SymTensor &x, const SymTensor &y, const Syms &p) {
    return mse_loss(linear(tanh(linear(x, p[0], p[1])), p[2], p[3]), y);
}

}  // namespace

TEST_CASE("grad: Hessian-vector product of a tanh MLP matches differences of its gradient",
          "[grad][higher]") {
    Generator gen(901);
    const std::vector<GradSource> params = mlp_parameters(gen);
    const Tensor xv = testing::randn64({6, 4}, gen), yv = testing::randn64({6, 3}, gen);
    std::vector<Tensor> direction;
    for (const GradSource &p : params) direction.push_back(testing::randn64(p.value.shape(), gen));

    Graph g;
    const SymTensor x = g.input("x", xv.shape(), DType::f64), y = g.input("y", yv.shape(), DType::f64);
    Syms p, v;
    std::map<std::string, Tensor> feed = {{"x", xv}, {"y", yv}};
    for (size_t i = 0; i < params.size(); ++i) {
        p.push_back(g.input(params[i].name, params[i].value.shape(), DType::f64));
        v.push_back(g.input("v_" + params[i].name, params[i].value.shape(), DType::f64));
        feed["v_" + params[i].name] = direction[i];
    }
    const Syms grads = grad(mlp_loss(x, y, p), p);
    SymTensor directional;  // sum_i <grad_i, v_i>
    for (size_t i = 0; i < p.size(); ++i) {
        SymTensor term = sum(grads[i] * v[i]);
        directional = directional.defined() ? directional + term : term;
    }
    const Syms hessian_v = grad(directional, p);
    for (size_t i = 0; i < p.size(); ++i) {
        g.output("g_" + params[i].name, grads[i]);
        g.output("hv_" + params[i].name, hessian_v[i]);
    }

    for (const std::string &schedule : reference::grad_schedules()) {
        INFO("schedule " << schedule);
        const CompiledGraph compiled = g.compile(testing::schedule_options(schedule));
        // H v = (g(p + h v) - g(p - h v)) / 2h, all parameters moved together.
        const double h = 1e-6;
        auto gradients_at = [&](double sign) {
            for (size_t i = 0; i < params.size(); ++i) {
                Tensor moved = params[i].value.clone();
                for (int64_t k = 0; k < moved.numel(); ++k)
                    moved.set_flat(k, moved.get_flat(k) + sign * h * direction[i].get_flat(k));
                feed[params[i].name] = moved;
            }
            return compiled.run(feed);
        };
        const auto plus = gradients_at(1.0), minus = gradients_at(-1.0), here = gradients_at(0.0);
        double worst = 0;
        for (const GradSource &param : params) {
            const Tensor &hv = here.at("hv_" + param.name);
            for (int64_t k = 0; k < hv.numel(); ++k) {
                const std::string name = "g_" + param.name;
                const double fd = (plus.at(name).get_flat(k) - minus.at(name).get_flat(k)) / (2 * h);
                const double an = hv.get_flat(k);
                // The relative error of tests/reference/gradcheck.h.
                const double rel = std::fabs(fd - an) / std::max(1e-3, std::fabs(fd) + std::fabs(an));
                INFO(param.name << "[" << k << "]: difference " << fd << ", Hessian-vector product " << an);
                CHECK(rel <= 1e-6);
                worst = std::max(worst, rel);
            }
        }
        INFO("worst relative error " << worst);
        CHECK(worst > 0);  // the product is not trivially zero
    }
}

TEST_CASE("grad: every second derivative of a tanh MLP (the gradient checked as a function)",
          "[grad][higher]") {
    Generator gen(902);
    std::vector<GradSource> sources = mlp_parameters(gen);
    sources.push_back({"x", testing::randn64({6, 4}, gen), false});
    sources.push_back({"y", testing::randn64({6, 3}, gen), false});
    // The checked outputs are the gradients themselves: the helper folds them
    // into sum(grad * R) and differentiates again, giving Hessian rows.
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const Syms p(in.begin(), in.begin() + 4);
        return grad(mlp_loss(in[4], in[5], p), p);
    });
}

TEST_CASE("grad: a gradient-penalty loss is differentiable and decreases under SGD", "[grad][higher]") {
    Generator gen(903);
    const double lambda = 0.5;
    std::vector<GradSource> sources = mlp_parameters(gen);
    sources.push_back({"x", testing::randn64({6, 4}, gen)});  // checked too: d/dx of the penalty
    sources.push_back({"y", testing::randn64({6, 3}, gen), false});
    // loss + lambda * ||d loss / d x||^2, as in WGAN-GP and input-gradient regularisation.
    auto penalised = [lambda](const SymTensor &x, const SymTensor &y, const Syms &p) {
        const SymTensor loss = mlp_loss(x, y, p);
        const SymTensor dx = grad(loss, {x})[0];
        return loss + sum(dx * dx) * lambda;
    };
    CHECK_GRADIENTS(sources, [&](Graph &, const Syms &in) -> Syms {
        return {penalised(in[4], in[5], Syms(in.begin(), in.begin() + 4))};
    });

    // Training: the parameters are graph parameters updated in place by hand.
    Graph g;
    const SymTensor x = g.input("x", {6, 4}, DType::f64), y = g.input("y", {6, 3}, DType::f64);
    std::vector<Tensor> values;
    Syms p;
    for (size_t i = 0; i < 4; ++i) {
        values.push_back(sources[i].value.clone());
        p.push_back(g.parameter(sources[i].name, values.back()));
    }
    const SymTensor objective = penalised(x, y, p);
    const Syms grads = grad(objective, p);
    g.output("objective", objective);
    for (size_t i = 0; i < p.size(); ++i) g.output("grad" + std::to_string(i), grads[i]);
    const std::map<std::string, Tensor> batch = {{"x", sources[4].value}, {"y", sources[5].value}};

    for (const std::string &schedule : reference::grad_schedules()) {
        INFO("schedule " << schedule);
        for (size_t i = 0; i < values.size(); ++i) values[i].copy_from(sources[i].value);
        const CompiledGraph compiled = g.compile(testing::schedule_options(schedule));
        std::vector<double> history;
        for (int step = 0; step < 25; ++step) {
            const auto out = compiled.run(batch);
            history.push_back(out.at("objective").item());
            for (size_t i = 0; i < values.size(); ++i) {
                const Tensor &gi = out.at("grad" + std::to_string(i));
                for (int64_t k = 0; k < values[i].numel(); ++k)
                    values[i].set_flat(k, values[i].get_flat(k) - 0.05 * gi.get_flat(k));
            }
        }
        INFO("objective: first " << history.front() << ", last " << history.back());
        CHECK(history.back() < 0.8 * history.front());
        // Small steps on a smooth objective: every step goes down.
        for (size_t s = 1; s < history.size(); ++s) CHECK(history[s] < history[s - 1]);
    }
}

TEST_CASE("grad: fan-out accumulates over every use of a node", "[grad][higher]") {
    Generator gen(904);
    const std::vector<GradSource> sources = {{"x", testing::randn64({3, 4}, gen)},
                                             {"w", testing::randn64({4, 4}, gen, 0.5)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0], &w = in[1];
        const SymTensor h = linear(x, w);  // used five times below
        // w is shared by two layers (weight tying); x feeds three branches.
        return {h * h + exp(h * 0.3) - h, concat({h, tanh(h)}, 0), linear(tanh(h), w) + x * x};
    });

    // Exact results: d/dx sum(x + x * 2 + x) = 4 and d/dx sum(x * x) = 2x, with
    // a zero gradient for an input the loss does not use.
    Graph g;
    const SymTensor x = g.input("x", {2, 3}, DType::f64), unused = g.input("unused", {5}, DType::f64);
    const Syms linear_grads = grad(sum(x + x * 2.0 + x), {x, unused});
    g.output("linear", linear_grads[0]);
    g.output("unused", linear_grads[1]);
    g.output("square", grad(sum(x * x), {x})[0]);
    const Tensor xv = testing::randn64({2, 3}, gen);
    for (const std::string &schedule : reference::grad_schedules()) {
        INFO("schedule " << schedule);
        const CompiledGraph compiled = g.compile(testing::schedule_options(schedule));
        const auto out = compiled.run({{"x", xv}, {"unused", Tensor::ones({5}, DType::f64)}});
        for (int64_t k = 0; k < xv.numel(); ++k) {
            CHECK(out.at("linear").get_flat(k) == 4.0);
            CHECK(out.at("square").get_flat(k) == 2.0 * xv.get_flat(k));
        }
        for (int64_t k = 0; k < 5; ++k) CHECK(out.at("unused").get_flat(k) == 0.0);
    }
}
