// Gradients of matmul and linear against finite differences in f64, under
// the default and the "simple" schedule: plain 2-d, broadcast batch dims
// (the gradient of a broadcast operand sums over the batch), 1-d operands on
// either side, and linear with and without bias on 1-d, 2-d and 3-d inputs.

#include "tests/grad_test_helpers.h"

using namespace strata;
using testing::GradSource;
using testing::Syms;

TEST_CASE("grad: 2-d matmul", "[grad][matmul]") {
    Generator gen(501);
    const std::vector<GradSource> sources = {{"a", testing::randn64({5, 7}, gen)},
                                             {"b", testing::randn64({7, 9}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &a = in[0], &b = in[1];
        return {matmul(a, b), matmul(transpose(b, 0, 1), transpose(a, 0, 1))};
    });
}

TEST_CASE("grad: matmul with broadcast batch dims", "[grad][matmul]") {
    Generator gen(502);
    const std::vector<GradSource> sources = {{"a", testing::randn64({2, 1, 3, 4}, gen)},
                                             {"b", testing::randn64({3, 4, 5}, gen)},
                                             {"c", testing::randn64({4, 3}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &a = in[0], &b = in[1], &c = in[2];
        // [2,1,3,4] x [3,4,5] -> [2,3,3,5]; [3,4,5]^T-ish x [4,3] broadcasts the 2-d operand.
        return {matmul(a, b), matmul(transpose(b, 1, 2), c), matmul(c, a)};
    });
}

TEST_CASE("grad: matmul with 1-d operands", "[grad][matmul]") {
    Generator gen(503);
    const std::vector<GradSource> sources = {{"u", testing::randn64({4}, gen)},
                                             {"v", testing::randn64({4}, gen)},
                                             {"m", testing::randn64({3, 4}, gen)},
                                             {"batch", testing::randn64({2, 4, 5}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &u = in[0], &v = in[1], &m = in[2], &batch = in[3];
        return {matmul(u, v),                    // dot product: a 0-d result
                matmul(m, u),                    // matrix-vector: [3]
                matmul(u, transpose(m, 0, 1)),   // vector-matrix: [3]
                matmul(u, batch),                // vector with a batch: [2, 5]
                matmul(transpose(batch, 1, 2), v)};  // batch with a vector: [2, 5]
    });
}

TEST_CASE("grad: linear with and without bias", "[grad][matmul]") {
    Generator gen(504);
    const std::vector<GradSource> sources = {{"x", testing::randn64({2, 3, 5}, gen)},
                                             {"w", testing::randn64({7, 5}, gen, 0.5)},
                                             {"b", testing::randn64({7}, gen)},
                                             {"x1", testing::randn64({5}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0], &w = in[1], &b = in[2], &x1 = in[3];
        return {linear(x, w, b), linear(x, w), linear(reshape(x, {6, 5}), w, b), linear(x1, w, b)};
    });
}

TEST_CASE("grad: a two-layer MLP", "[grad][matmul]") {
    Generator gen(505);
    const std::vector<GradSource> sources = {{"x", testing::randn64({4, 6}, gen)},
                                             {"w1", testing::randn64({9, 6}, gen, 0.4)},
                                             {"b1", testing::randn64({9}, gen)},
                                             {"w2", testing::randn64({3, 9}, gen, 0.4)},
                                             {"b2", testing::randn64({3}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0], &w1 = in[1], &b1 = in[2], &w2 = in[3], &b2 = in[4];
        return {linear(tanh(linear(x, w1, b1)), w2, b2)};
    });
}
