// SGD (plain, momentum, dampening, Nesterov, weight decay) against torch.optim.SGD's update written
// out in double, step by step; gradient clipping against a hand computation; SGD's option errors.
#include "frontend/optim/sgd.h"
#include "ir/verifier.h"
#include "tests/optim_test_helpers.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

using namespace strata;
using namespace strata::optim_test;

namespace {

/// torch.optim.SGD's algorithm (the docs' pseudo-code) for a list of parameters, in double.
struct SgdReference {
    double lr, momentum = 0, dampening = 0, weight_decay = 0;
    bool nesterov = false;
    std::vector<Vec> buffers;
    int64_t t = 0;

    void step(std::vector<Vec> &params, const std::vector<Vec> &grads) {
        ++t;
        buffers.resize(params.size());
        for (size_t k = 0; k < params.size(); ++k) {
            buffers[k].resize(params[k].size());
            for (size_t i = 0; i < params[k].size(); ++i) {
                double g = grads[k][i];
                if (weight_decay != 0) g += weight_decay * params[k][i];
                if (momentum != 0) {
                    double &buf = buffers[k][i];
                    // The first step sets the buffer to the gradient (no dampening).
                    buf = t == 1 ? g : momentum * buf + (1 - dampening) * g;
                    g = nesterov ? g + momentum * buf : buf;
                }
                params[k][i] -= lr * g;
            }
        }
    }
};

struct SgdCase {
    std::string name;
    optim::SGDOptions options;
};

SgdReference reference_for(const optim::SGDOptions &o) {
    SgdReference r;
    r.lr = o.lr_;
    r.momentum = o.momentum_;
    r.dampening = o.dampening_;
    r.weight_decay = o.weight_decay_;
    r.nesterov = o.nesterov_;
    return r;
}

}  // namespace

TEST_CASE("SGD variants match torch.optim.SGD step by step (f64)", "[optim][sgd]") {
    const std::vector<SgdCase> cases = {
        {"plain", optim::SGDOptions(0.05)},
        {"momentum", optim::SGDOptions(0.05).momentum(0.9)},
        {"momentum + dampening", optim::SGDOptions(0.05).momentum(0.9).dampening(0.5)},
        {"nesterov", optim::SGDOptions(0.05).momentum(0.8).nesterov(true)},
        {"weight decay", optim::SGDOptions(0.05).weight_decay(0.1)},
        {"nesterov + weight decay", optim::SGDOptions(0.03).momentum(0.9).nesterov(true).weight_decay(0.2)},
    };
    for (const SgdCase &c : cases) {
        INFO("case: " << c.name);
        Affine model(affine_w0, affine_b0);
        optim::SGD sgd(c.options);
        TrainStep step = affine_step(model, sgd);
        SgdReference ref = reference_for(c.options);
        std::vector<Vec> params = {affine_w0, affine_b0};
        for (int s = 1; s <= 5; ++s) {
            INFO("step " << s);
            if (s == 4) {
                // The learning rate is a graph input: changing it takes effect without recompiling.
                sgd.set_lr(c.options.lr_ / 2);
                ref.lr = c.options.lr_ / 2;
            }
            const double want_loss = affine_loss(params[0], params[1]);
            ref.step(params, affine_grads(params[0], params[1]));
            const TrainStep::Result r = step.step(affine_input(), affine_target());
            CHECK(r.loss == Approx(want_loss).epsilon(1e-12));
            check_close(model->weight, params[0], 1e-12);
            check_close(model->bias, params[1], 1e-12);
        }
        CHECK(sgd.step_count() == 5);
        if (c.options.momentum_ != 0) {
            check_close(sgd.state().at("weight.momentum_buffer"), ref.buffers[0], 1e-12);
            check_close(sgd.state().at("bias.momentum_buffer"), ref.buffers[1], 1e-12);
        } else {
            CHECK(sgd.state().empty());
        }
    }
}

TEST_CASE("SGD with Nesterov momentum and weight decay trains nn::Linear in f32", "[optim][sgd]") {
    nn::Linear fc = make_linear();
    const auto options = optim::SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(0.01);
    optim::SGD sgd(options);
    TrainStep step = linear_step(fc, sgd);
    SgdReference ref = reference_for(options);
    // f32 against the double reference: a few ulps per step, well inside 1e-5.
    check_linear_training(fc, step, ref);
}

TEST_CASE("clip_grad_norm scales every gradient by min(1, max_norm / (norm + 1e-6))", "[optim][clip]") {
    for (double max_norm : {0.5, 1e3}) {
        INFO("max_norm " << max_norm);
        Graph g;
        SymTensor x = g.input("x", {2, 3}, DType::f64), t = g.input("t", {2, 3}, DType::f64);
        SymTensor w = g.parameter("w", Tensor::from_vector<double>(affine_w0));
        SymTensor b = g.parameter("b", Tensor::from_vector<double>(affine_b0));
        SymTensor loss = sum(pow(x * w + b - t, 2.0));
        std::vector<SymTensor> grads = g.gradients(loss, {w, b});
        std::vector<optim::ParamSlot> slots = {{"w", {}, w, grads[0]}, {"b", {}, b, grads[1]}};
        g.output("norm", optim::clip_grad_norm(slots, max_norm));
        g.output("gw", slots[0].grad);
        g.output("gb", slots[1].grad);
        const auto out = g.compile().run({{"x", affine_input()}, {"t", affine_target()}});

        const std::vector<Vec> want = affine_grads(affine_w0, affine_b0);
        double sq = 0;
        for (const Vec &v : want)
            for (double e : v) sq += e * e;
        const double norm = std::sqrt(sq), scale = std::min(1.0, max_norm / (norm + 1e-6));
        CHECK(out.at("norm").item() == Approx(norm).epsilon(1e-13));
        Vec gw = want[0], gb = want[1];
        for (double &e : gw) e *= scale;
        for (double &e : gb) e *= scale;
        check_close(out.at("gw"), gw, 1e-13);
        check_close(out.at("gb"), gb, 1e-13);
        if (max_norm < norm) CHECK(scale < 1);
    }
}

TEST_CASE("TrainStep clips the global gradient norm before the SGD update", "[optim][clip]") {
    Affine model(affine_w0, affine_b0);
    optim::SGD sgd(optim::SGDOptions(0.1).momentum(0.5));
    TrainStep step = affine_step(model, sgd, /*clip_grad_norm=*/1.0);
    SgdReference ref = reference_for(sgd.options());
    std::vector<Vec> params = {affine_w0, affine_b0};
    for (int s = 1; s <= 3; ++s) {
        INFO("step " << s);
        std::vector<Vec> grads = affine_grads(params[0], params[1]);
        double sq = 0;
        for (const Vec &v : grads)
            for (double e : v) sq += e * e;
        const double norm = std::sqrt(sq), scale = std::min(1.0, 1.0 / (norm + 1e-6));
        for (Vec &v : grads)
            for (double &e : v) e *= scale;
        ref.step(params, grads);
        const TrainStep::Result r = step.step(affine_input(), affine_target());
        CHECK(r.grad_norm == Approx(norm).epsilon(1e-12));
        check_close(model->weight, params[0], 1e-12);
        check_close(model->bias, params[1], 1e-12);
    }
    // Without clipping the result carries no norm.
    Affine other(affine_w0, affine_b0);
    optim::SGD plain(optim::SGDOptions(0.1));
    TrainStep unclipped = affine_step(other, plain);
    CHECK(std::isnan(unclipped.step(affine_input(), affine_target()).grad_norm));
}

// `strata emit --train` compiles an optimizer's step from this program (tools/training_program.cpp).
TEST_CASE("Graph::program_with_updates gives an SGD step's updates as outputs, in update order", "[optim][sgd]") {
    Graph g;
    const Tensor w0 = Tensor::from_vector<float>({1, 2}, {2});
    const SymTensor w = g.parameter("w", w0);
    const SymTensor loss = sum(w * w);
    std::vector<optim::ParamSlot> slots = {{"w", w0, w, g.gradients(loss, {w})[0]}};
    optim::SGD sgd(optim::SGDOptions(0.1).momentum(0.9));
    sgd.build(g, slots);
    g.output("loss", loss);

    const ir::Program program = g.program_with_updates();
    std::vector<std::string> outputs;
    for (const ir::Output &out : program.outputs()) outputs.push_back(out.name);
    CHECK(outputs == std::vector<std::string>{"loss", "update:optim.w.momentum_buffer", "update:w"});
    CHECK(program.find_source("optim.lr") != nullptr);
    CHECK(program.find_source("optim.first") != nullptr);
    CHECK(program.find_source("optim.w.momentum_buffer") != nullptr);
    REQUIRE_NOTHROW(ir::verify(program));
    CHECK(g.program().outputs().size() == 1);  // the graph itself keeps its updates apart
}

TEST_CASE("SGD and clip_grad_norm option errors", "[optim][sgd][errors]") {
    using Catch::Contains;
    CHECK_THROWS_WITH(optim::SGD(optim::SGDOptions(-0.1)),
                      Contains("learning rate must be finite and >= 0, got -0.1"));
    CHECK_THROWS_WITH(optim::SGD(optim::SGDOptions(NAN)), Contains("learning rate must be finite"));
    CHECK_THROWS_WITH(
        optim::SGD(optim::SGDOptions(0.1).nesterov(true)),
        Contains("Nesterov momentum requires a momentum > 0 and zero dampening (got momentum=0"));
    CHECK_THROWS_WITH(optim::SGD(optim::SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)),
                      Contains("dampening=0.1"));
    CHECK_THROWS_WITH(optim::SGD(optim::SGDOptions(0.1).momentum(-0.5)),
                      Contains("momentum must be >= 0, got -0.5"));
    CHECK_THROWS_WITH(optim::SGD(optim::SGDOptions(0.1).weight_decay(-1)),
                      Contains("weight_decay must be >= 0, got -1"));
    optim::SGD sgd(optim::SGDOptions(0.1));
    CHECK_THROWS_WITH(sgd.set_lr(-2), Contains("learning rate must be finite and >= 0, got -2"));
    CHECK(sgd.lr() == 0.1);

    std::vector<optim::ParamSlot> none;
    CHECK_THROWS_WITH(optim::clip_grad_norm(none, 1.0), Contains("clip_grad_norm: no parameters"));
    Graph g;
    SymTensor w = g.parameter("w", Tensor::ones({2}));
    std::vector<optim::ParamSlot> slots = {{"w", {}, w, w}};
    CHECK_THROWS_WITH(optim::clip_grad_norm(slots, 0.0), Contains("max_norm must be positive, got 0"));
}
