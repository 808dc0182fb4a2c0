// Gradients of batch_norm (training and evaluation) and layer_norm against
// finite differences in f64, under the default and the "simple" schedule.
// In training the updated running statistics are outputs too, so their
// dependence on the batch is checked along with the normalised output.

#include "tests/grad_test_helpers.h"

using namespace strata;
using testing::GradSource;
using testing::Syms;

TEST_CASE("grad: batch_norm in training, with the running-statistics update", "[grad][normalization]") {
    Generator gen(701);
    const std::vector<GradSource> sources = {{"x", testing::randn64({4, 3, 5}, gen, 2.0)},
                                             {"weight", testing::randn64({3}, gen)},
                                             {"bias", testing::randn64({3}, gen)},
                                             {"running_mean", testing::randn64({3}, gen)},
                                             {"running_var", testing::rand64({3}, gen, 0.5, 2.0)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0], &weight = in[1], &bias = in[2];
        const SymTensor &running_mean = in[3], &running_var = in[4];
        BatchNormResult affine = batch_norm(x, running_mean, running_var, weight, bias, true, 0.2);
        BatchNormResult plain = batch_norm(x * x, {}, {}, {}, {}, true);
        return {affine.output, affine.running_mean, affine.running_var, plain.output};
    });
}

TEST_CASE("grad: batch_norm on 2-d feature maps in training", "[grad][normalization]") {
    Generator gen(702);
    const std::vector<GradSource> sources = {{"x", testing::randn64({3, 2, 3, 5}, gen)},
                                             {"weight", testing::randn64({2}, gen)},
                                             {"bias", testing::randn64({2}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0], &weight = in[1], &bias = in[2];
        return {batch_norm(x, {}, {}, weight, bias, true).output};
    });
}

TEST_CASE("grad: batch_norm_stats, the shared mean and biased variance", "[grad][normalization]") {
    Generator gen(705);
    const std::vector<GradSource> sources = {{"x", testing::randn64({3, 2, 7}, gen, 1.5)}};
    CHECK_GRADIENTS(sources, [](Graph &g, const Syms &in) -> Syms {
        return {g.make(ir::Op::batch_norm_stats, {in[0]}), g.make(ir::Op::batch_norm_stats, {in[0] * in[0]})};
    });
}

TEST_CASE("grad: batch_norm in evaluation mode, including the running statistics", "[grad][normalization]") {
    Generator gen(703);
    const std::vector<GradSource> sources = {{"x", testing::randn64({3, 4, 2, 3}, gen)},
                                             {"weight", testing::randn64({4}, gen)},
                                             {"bias", testing::randn64({4}, gen)},
                                             {"running_mean", testing::randn64({4}, gen)},
                                             {"running_var", testing::rand64({4}, gen, 0.5, 2.0)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0], &weight = in[1], &bias = in[2];
        const SymTensor &running_mean = in[3], &running_var = in[4];
        return {batch_norm(x, running_mean, running_var, weight, bias, false, 0.1, 1e-3).output,
                batch_norm(x, running_mean, running_var, {}, {}, false).output};
    });
}

TEST_CASE("grad: layer_norm over one and several trailing dims", "[grad][normalization]") {
    Generator gen(704);
    const std::vector<GradSource> sources = {{"x", testing::randn64({2, 3, 5}, gen, 1.5)},
                                             {"w1", testing::randn64({5}, gen)},
                                             {"b1", testing::randn64({5}, gen)},
                                             {"w2", testing::randn64({3, 5}, gen)},
                                             {"b2", testing::randn64({3, 5}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0], &w1 = in[1], &b1 = in[2], &w2 = in[3], &b2 = in[4];
        return {layer_norm(x, {5}, w1, b1), layer_norm(x, {3, 5}, w2, b2, 1e-3), layer_norm(x, {5})};
    });
}
