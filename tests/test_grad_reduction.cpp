// Gradients of the reductions against finite differences in f64, under the
// default and the "simple" schedule: sum, mean and max over one, several or
// all dims (negative dims, keepdim), and softmax / log_softmax along every
// dim. Max inputs are distinct, so the maximum is unique and stays put under
// a difference step.

#include "tests/grad_test_helpers.h"

using namespace strata;
using testing::GradSource;
using testing::Syms;

TEST_CASE("grad: sum and mean over dims, keepdim and all dims", "[grad][reduction]") {
    Generator gen(401);
    const std::vector<GradSource> sources = {{"x", testing::randn64({3, 5, 7}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0];
        return {sum(x), sum(x, {0}), sum(x, {-1}, true), sum(x, {0, 2}), mean(x), mean(x, {1}, true),
                mean(x, {0, -1}), mean(x * x, {2}),
                // A reduction of a reduction, and one whose innermost extent is 5 (a vector plus one).
                sum(mean(x, {2}), {0}, true), sum(x, {2})};
    });
}

TEST_CASE("grad: max over dims routes to the unique maximum", "[grad][reduction]") {
    Generator gen(402);
    const std::vector<GradSource> sources = {{"x", testing::distinct64({4, 5, 3}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0];
        return {max(x),        max(x, {0}),          max(x, {1}, true),
                max(x, {-1}),  max(x, {0, 2}, true), max(exp(x * 0.5), {1})};
    });
}

TEST_CASE("grad: softmax and log_softmax along every dim", "[grad][reduction]") {
    Generator gen(403);
    const std::vector<GradSource> sources = {{"x", testing::randn64({3, 4, 5}, gen, 2.0)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0];
        Syms outs;
        for (int64_t dim : {0, 1, 2, -1}) {
            outs.push_back(softmax(x, dim));
            outs.push_back(log_softmax(x, dim));
        }
        return outs;
    });
}

TEST_CASE("grad: a softmax attention block mixes reductions and matmul", "[grad][reduction]") {
    Generator gen(404);
    const std::vector<GradSource> sources = {{"q", testing::randn64({2, 3, 4}, gen)},
                                             {"k", testing::randn64({2, 5, 4}, gen)},
                                             {"v", testing::randn64({2, 5, 3}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &q = in[0], &k = in[1], &v = in[2];
        SymTensor scores = matmul(q, transpose(k, 1, 2)) * 0.5;
        SymTensor attention = softmax(scores, -1);
        // Used twice: the gradient of `attention` accumulates over both consumers.
        return {matmul(attention, v), mean(attention * scores, {1})};
    });
}
