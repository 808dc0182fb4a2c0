// Batch norm in training computes its statistics once (batch_norm_stats) and its
// backward sums once (batch_norm_grad_sums); the output, the running-stat updates
// and dx read them. Checked: the program a training step builds (one statistics
// node, one sums node, no stored x - mean tensor), the new ops against naive double
// loops, the shared forms against the self-contained ones under every schedule,
// and the shape errors of the new inputs.

#include "tests/op_test_helpers.h"
#include "tests/support/error_message.h"

using namespace strata;
using Catch::Contains;
using testing::float_dtypes;
using testing::tolerance;

namespace {

/// Naive per-channel statistics and gradient sums of x [N, C, L] in double.
struct ChannelReference {
    std::vector<double> mean, var, sum_g, sum_gx;
};

ChannelReference channel_reference(const Tensor &x, const Tensor &g, double eps) {
    const Shape &s = x.shape();
    const int64_t n = s[0], channels = s[1], length = s[2];
    const double count = static_cast<double>(n * length);
    ChannelReference r{std::vector<double>(channels), std::vector<double>(channels), std::vector<double>(channels),
                       std::vector<double>(channels)};
    auto at = [&](const Tensor &t, int64_t i, int64_t c, int64_t l) { return t.get_flat((i * channels + c) * length + l); };
    for (int64_t c = 0; c < channels; ++c) {
        for (int64_t i = 0; i < n; ++i)
            for (int64_t l = 0; l < length; ++l) r.mean[c] += at(x, i, c, l) / count;
        for (int64_t i = 0; i < n; ++i)
            for (int64_t l = 0; l < length; ++l) r.var[c] += std::pow(at(x, i, c, l) - r.mean[c], 2) / count;
        const double invstd = 1.0 / std::sqrt(r.var[c] + eps);
        for (int64_t i = 0; i < n; ++i)
            for (int64_t l = 0; l < length; ++l) {
                r.sum_g[c] += at(g, i, c, l);
                r.sum_gx[c] += at(g, i, c, l) * (at(x, i, c, l) - r.mean[c]) * invstd;
            }
    }
    return r;
}

/// [2, C] from two rows.
Tensor rows(const std::vector<double> &first, const std::vector<double> &second) {
    std::vector<double> both = first;
    both.insert(both.end(), second.begin(), second.end());
    return Tensor::from_vector(both, {2, static_cast<int64_t>(first.size())});
}

int64_t count_ops(const ir::Program &program, ir::Op op) {
    int64_t n = 0;
    for (const auto &node : program.nodes()) n += node->op == op;
    return n;
}

}  // namespace

TEST_CASE("a training-mode batch norm computes its statistics and its backward sums once", "[ops][normalization]") {
    Graph g;
    const Shape shape = {4, 3, 10};
    auto x = g.input("x", shape);
    auto w = g.parameter("w", Tensor::ones({3})), b = g.parameter("b", Tensor::zeros({3}));
    auto rm = g.parameter("rm", Tensor::zeros({3})), rv = g.parameter("rv", Tensor::ones({3}));
    BatchNormResult r = batch_norm(x, rm, rv, w, b, true);
    g.update("rm", r.running_mean);
    g.update("rv", r.running_var);
    SymTensor loss = sum(relu(r.output) * g.input("t", shape));
    const std::vector<SymTensor> grads = g.gradients(loss, {x, w, b});
    for (size_t i = 0; i < grads.size(); ++i) g.output("d" + std::to_string(i), grads[i]);

    const ir::Program &p = g.program();
    CHECK(count_ops(p, ir::Op::batch_norm_stats) == 1);
    CHECK(count_ops(p, ir::Op::batch_norm_grad_sums) == 1);
    CHECK(count_ops(p, ir::Op::mean) == 0);  // the running statistics read the shared ones
    for (const auto &node : p.nodes()) {
        INFO(node->label());
        if (node->op == ir::Op::batch_norm_train) CHECK(node->inputs.size() == 4);
        if (node->op == ir::Op::batch_norm_train_grad) CHECK(node->inputs.size() == 5);
        // No full-size x - mean: nothing but the ops above reads x against the statistics.
        if (node->op == ir::Op::sub) CHECK(node->shape() != shape);
    }
}

TEST_CASE("batch_norm_stats and batch_norm_grad_sums match naive loops, and the shared forms match the self-contained ones",
          "[ops][normalization]") {
    const double eps = 1e-3;
    Generator gen(77);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Shape shape = {5, 3, 37};  // 185 values per channel: the cascade has two levels
        const Tensor xv = Tensor::randn(shape, gen, dt, 2.0, 1.5), gv = testing::randn(shape, dt, gen);
        const Tensor wv = testing::randn({3}, dt, gen), bv = testing::randn({3}, dt, gen);
        const ChannelReference want = channel_reference(xv, gv, eps);
        Graph g;
        auto x = g.input("x", shape, dt), go = g.input("g", shape, dt);
        auto w = g.parameter("w", wv), b = g.parameter("b", bv);
        const ir::Attrs attrs = {{"eps", eps}};
        SymTensor stats = g.make(ir::Op::batch_norm_stats, {x});
        SymTensor sums = g.make(ir::Op::batch_norm_grad_sums, {x, go, stats}, attrs);
        g.output("stats", stats);
        g.output("sums", sums);
        g.output("y_shared", g.make(ir::Op::batch_norm_train, {x, w, b, stats}, attrs));
        g.output("y_alone", g.make(ir::Op::batch_norm_train, {x, w, b}, attrs));
        g.output("dx_shared", g.make(ir::Op::batch_norm_train_grad, {x, w, go, stats, sums}, attrs));
        g.output("dx_alone", g.make(ir::Op::batch_norm_train_grad, {x, w, go}, attrs));
        for (const std::string schedule : {"default", "simple"}) {
            INFO("schedule " << schedule);
            codegen::CompileOptions options;
            options.schedule = schedule;
            auto out = g.compile(options).run({{"x", xv}, {"g", gv}});
            CHECK_CLOSE(out.at("stats"), rows(want.mean, want.var), dt, tolerance(dt, 185));
            CHECK_CLOSE(out.at("sums"), rows(want.sum_g, want.sum_gx), dt, tolerance(dt, 185));
            const Tensor y = reference::batch_norm(xv, {}, {}, wv, bv, true, 0.1, eps).output;
            CHECK_CLOSE(out.at("y_shared"), y, dt, tolerance(dt, 185));
            CHECK_CLOSE(out.at("y_alone"), y, dt, tolerance(dt, 185));
            CHECK_CLOSE(out.at("dx_shared"), out.at("dx_alone").to(DType::f64), dt, tolerance(dt, 185));
        }
    }
}

TEST_CASE("the shared batch-norm inputs are checked", "[ops][normalization][errors]") {
    Graph g;
    auto x = g.input("x", {4, 3, 5}), go = g.input("g", {4, 3, 5});
    auto w = g.parameter("w", Tensor::ones({3})), b = g.parameter("b", Tensor::zeros({3}));
    const ir::Attrs attrs = {{"eps", 1e-5}};
    SymTensor stats = g.make(ir::Op::batch_norm_stats, {x});
    SymTensor wrong = g.input("wrong", {3, 2});
    CHECK_THAT(testing::error_message([&] { g.make(ir::Op::batch_norm_train, {x, w, b, wrong}, attrs); }),
               Contains("batch_norm_train") && Contains("stats must have shape [2, 3]") && Contains("[3, 2]"));
    CHECK_THAT(testing::error_message([&] { g.make(ir::Op::batch_norm_grad_sums, {x, w, stats}, attrs); }),
               Contains("batch_norm_grad_sums") && Contains("grad_output") && Contains("[4, 3, 5]"));
    CHECK_THAT(testing::error_message([&] { g.make(ir::Op::batch_norm_train_grad, {x, w, go, stats}, attrs); }),
               Contains("batch_norm_train_grad") && Contains("stats and sums together"));
    CHECK_THAT(testing::error_message([&] { g.make(ir::Op::batch_norm_stats, {g.input("one", {1, 3})}); }),
               Contains("batch_norm_stats") && Contains("more than 1 value per channel"));
}

TEST_CASE("batch-norm training steps agree under the default and the simple schedule on odd lengths and channels",
          "[ops][normalization]") {
    // PhaseNet's shapes: lengths that are no multiple of the vector width, channels that are none either.
    Generator gen(78);
    for (const Shape &shape : {Shape{3, 11, 751}, Shape{2, 8, 3005}, Shape{4, 22, 188}, Shape{32, 11, 753}, Shape{33, 5, 40}}) {
        INFO(shape_str(shape));
        const int64_t channels = shape[1];
        const Tensor xv = Tensor::randn(shape, gen, DType::f32, 0.5, 2.0), tv = testing::randn(shape, DType::f32, gen);
        Graph g;
        auto x = g.input("x", shape), t = g.input("t", shape);
        auto w = g.parameter("w", testing::randn({channels}, DType::f32, gen));
        auto b = g.parameter("b", testing::randn({channels}, DType::f32, gen));
        auto rm = g.parameter("rm", Tensor::zeros({channels})), rv = g.parameter("rv", Tensor::ones({channels}));
        BatchNormResult r = batch_norm(x, rm, rv, w, b, true);
        g.output("y", r.output);
        g.output("rm", r.running_mean);
        g.output("rv", r.running_var);
        const std::vector<SymTensor> grads = g.gradients(sum(relu(r.output) * t), {x, w, b});
        g.output("dx", grads[0]);
        g.output("dw", grads[1]);
        g.output("db", grads[2]);
        std::map<std::string, Tensor> by_schedule[2];
        for (int s = 0; s < 2; ++s) {
            codegen::CompileOptions options;
            options.schedule = s == 0 ? "default" : "simple";
            by_schedule[s] = g.compile(options).run({{"x", xv}, {"t", tv}});
        }
        for (const char *name : {"y", "rm", "rv", "dx", "dw", "db"}) {
            INFO(name);
            CHECK_CLOSE(by_schedule[0].at(name), by_schedule[1].at(name).to(DType::f64), DType::f32,
                        tolerance(DType::f32, static_cast<double>(shape[0] * shape[2])));
        }
    }
}
