// Gradients of the pointwise ops against finite differences in f64, under the
// default and the "simple" schedule: unary math, activations (gelu both
// ways, softplus on both sides of its threshold), broadcast binary ops (pow
// with respect to base and exponent, maximum/minimum without ties), where,
// and dropout (the backward uses the forward's mask).

#include "tests/grad_test_helpers.h"

using namespace strata;
using testing::GradSource;
using testing::Syms;

TEST_CASE("grad: unary math ops", "[grad][pointwise]") {
    Generator gen(101);
    // positive: for log, sqrt and rsqrt; signed: the rest (away from abs's kink).
    const std::vector<GradSource> sources = {{"positive", testing::rand64({5, 7}, gen, 0.5, 2.5)},
                                             {"signed", testing::randn64_away_from_zero({3, 5, 7}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &p = in[0], &s = in[1];
        return {log(p), sqrt(p), rsqrt(p), neg(s), exp(s * 0.5), abs(s), erf(s), sigmoid(s), tanh(s),
                cast(s, DType::f64) * p};
    });
}

TEST_CASE("grad: activations", "[grad][pointwise]") {
    Generator gen(102);
    // Scaled by 2 so softplus (beta 2, threshold 3) sees inputs past its threshold 1.5 too.
    Tensor x = testing::randn64_away_from_zero({6, 9}, gen);
    for (int64_t i = 0; i < x.numel(); ++i) x.set_flat(i, 2 * x.get_flat(i));
    const std::vector<GradSource> sources = {{"x", x}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0];
        return {relu(x), leaky_relu(x, 0.1), elu(x, 1.3), gelu(x), gelu(x, "tanh"), softplus(x),
                softplus(x, 2.0, 3.0)};
    });
}

TEST_CASE("grad: broadcast binary ops", "[grad][pointwise]") {
    Generator gen(103);
    const std::vector<GradSource> sources = {{"a", testing::randn64({3, 1, 5}, gen)},
                                             {"b", testing::rand64({4, 5}, gen, 0.5, 2.0)},
                                             {"c", testing::randn64({5}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &a = in[0], &b = in[1], &c = in[2];
        return {a + b, a - c, b - a, a * b, c * a, a / b, b / (c * c + 1.0), a * 3.0 - 2.0 / b};
    });
}

TEST_CASE("grad: pow with respect to base and exponent", "[grad][pointwise]") {
    Generator gen(104);
    const std::vector<GradSource> sources = {{"base", testing::rand64({3, 1, 7}, gen, 0.3, 2.0)},
                                             {"exponent", testing::randn64({4, 7}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &a = in[0], &e = in[1];
        return {pow(a, e), pow(a, 3.0), pow(a, 0.5), pow(e * e + 1.0, a)};
    });
}

TEST_CASE("grad: maximum and minimum without ties", "[grad][pointwise]") {
    Generator gen(105);
    // Independent normals: no exact ties, and near-ties closer than the step are improbable.
    const std::vector<GradSource> sources = {{"a", testing::randn64({4, 1, 6}, gen)},
                                             {"b", testing::randn64({3, 6}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &a = in[0], &b = in[1];
        return {maximum(a, b), minimum(a, b), maximum(b, a * 0.5), minimum(a * a, b)};
    });
}

TEST_CASE("grad: where routes the gradient by the condition", "[grad][pointwise]") {
    Generator gen(106);
    Tensor condition = Tensor::empty({4, 6}, DType::boolean);
    for (int64_t i = 0; i < condition.numel(); ++i) condition.set_flat(i, static_cast<double>(gen.below(2)));
    const std::vector<GradSource> sources = {{"condition", condition, false},
                                             {"x", testing::randn64({4, 6}, gen)},
                                             {"y", testing::randn64({1, 6}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &c = in[0], &x = in[1], &y = in[2];
        // Also a condition computed from the data itself (no path for the gradient through gt).
        return {where(c, x, y), where(x > y, x * x, y * 2.0)};
    });
}

TEST_CASE("grad: dropout uses the forward's mask", "[grad][pointwise]") {
    Generator gen(107);
    const std::vector<GradSource> sources = {{"x", testing::randn64({5, 11}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0];
        // The same mask is drawn in every run (it is a function of the seed), so
        // the loss is a smooth function of x; eval mode is the identity.
        return {dropout(x * x, 0.3, true, 7), dropout(tanh(x), 0.6, true, 11), dropout(x, 0.5, false)};
    });
}
