// Gradients of the layout ops against finite differences in f64, under the
// default and the "simple" schedule: reshape/flatten/squeeze, permute and
// transpose, expand (new leading dims and stretched 1s), slice with step 1
// and step > 1 and negative indices, concat, and pad in every mode.

#include "tests/grad_test_helpers.h"

using namespace strata;
using testing::GradSource;
using testing::Syms;

TEST_CASE("grad: reshape, flatten, squeeze, permute and transpose", "[grad][layout]") {
    Generator gen(601);
    const std::vector<GradSource> sources = {{"x", testing::randn64({2, 3, 1, 5}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0];
        // Each result is followed by a pointwise op so that the layout op is not the whole graph.
        return {reshape(x, {6, 5}) * 2.0, flatten(x, 1) + 1.0, exp(squeeze(x, 2)), unsqueeze(x, 0) * x,
                tanh(permute(x, {3, 0, 2, 1})), transpose(x, 0, 3) * 3.0,
                permute(reshape(x, {3, 2, 5}), {2, 0, 1})};
    });
}

TEST_CASE("grad: expand sums the gradient over the broadcast dims", "[grad][layout]") {
    Generator gen(602);
    const std::vector<GradSource> sources = {{"x", testing::randn64({3, 1, 4}, gen)},
                                             {"s", testing::randn64({1}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0], &s = in[1];
        return {expand(x, {2, 3, 5, 4}), expand(x, {-1, 3, -1}) * expand(x, {3, 3, 4}), expand(s, {3, 2})};
    });
}

TEST_CASE("grad: slice with step 1, step > 1 and negative indices", "[grad][layout]") {
    Generator gen(603);
    const std::vector<GradSource> sources = {{"x", testing::randn64({5, 4, 9}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0];
        return {slice(x, 0, 1, 4),          slice(x, 2, 2, 9, 3),  slice(x, -1, -7, -1, 2),
                slice(x, 1, 0, 4, 4),       slice(x, 2, 1, 8, 2),  slice(slice(x, 0, 0, 5, 2), 2, 3, 100),
                slice(x, 0, -2, 5) * x.size(0)};
    });
}

TEST_CASE("grad: concat along every dim, with an operand used twice", "[grad][layout]") {
    Generator gen(604);
    const std::vector<GradSource> sources = {{"a", testing::randn64({2, 3, 4}, gen)},
                                             {"b", testing::randn64({2, 1, 4}, gen)},
                                             {"c", testing::randn64({2, 3, 2}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &a = in[0], &b = in[1], &c = in[2];
        return {concat({a, b, a}, 1), concat({a, c}, -1), concat({a, a * 2.0}, 0), concat({b}, 2)};
    });
}

TEST_CASE("grad: pad in constant, reflect, replicate and circular mode", "[grad][layout]") {
    Generator gen(605);
    const std::vector<GradSource> sources = {{"x1", testing::randn64({2, 3, 5}, gen)},
                                             {"x2", testing::randn64({1, 2, 4, 5}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x1 = in[0], &x2 = in[1];
        Syms outs;
        for (const char *mode : {"constant", "reflect", "replicate", "circular"}) {
            // Asymmetric widths, one side zero, and (2-d) both spatial dims at once.
            outs.push_back(pad(x1, {3, 1}, mode));
            outs.push_back(pad(x1, {0, 4}, mode));
            outs.push_back(pad(x2, {1, 2, 3, 0}, mode));
        }
        // Replicate far past the edge (every border copy of the edge element sums
        // back onto it) and a constant pad with a non-zero value.
        outs.push_back(pad(x1, {7, 6}, "replicate"));
        outs.push_back(pad(x2, {2, 2, 1, 1}, "constant", 1.5));
        return outs;
    });
}
