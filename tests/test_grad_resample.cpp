// Gradients of F.interpolate's nearest, linear and bilinear modes against finite differences in
// f64, under the default and the "simple" schedule: up and down, sizes and scale factors,
// align_corners, and an output the size of its input (aten's copy).

#include "tests/grad_test_helpers.h"

using namespace strata;
using testing::GradSource;
using testing::Syms;

namespace {

InterpolateOptions options(const std::string &mode, Ints size, std::vector<double> scale = {},
                           std::optional<bool> align = std::nullopt) {
    InterpolateOptions o;
    o.mode = mode;
    o.size = std::move(size);
    o.scale_factor = std::move(scale);
    o.align_corners = align;
    return o;
}

}  // namespace

TEST_CASE("grad: interpolate nearest, 1-d and 2-d, up and down", "[grad][resample]") {
    Generator gen(501);
    const std::vector<GradSource> sources = {{"l", testing::randn64({2, 2, 7}, gen)},
                                             {"im", testing::randn64({1, 2, 5, 4}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &l = in[0], &im = in[1];
        return {interpolate(l, options("nearest", {16})), interpolate(l, options("nearest", {3})),
                interpolate(tanh(l), options("nearest", {}, {1.6})),
                interpolate(im, options("nearest", {}, {1.5, 0.5})), interpolate(im, options("nearest", {9, 9}))};
    });
}

TEST_CASE("grad: interpolate linear, align_corners or not, sizes and scale factors", "[grad][resample]") {
    Generator gen(502);
    const std::vector<GradSource> sources = {{"l", testing::randn64({2, 3, 6}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &l = in[0];
        return {interpolate(l, options("linear", {15})), interpolate(l, options("linear", {15}, {}, true)),
                interpolate(l * l, options("linear", {4})), interpolate(l, options("linear", {1}, {}, true)),
                interpolate(l, options("linear", {}, {2.5})), interpolate(l, options("linear", {}, {1.1}))};
    });
}

TEST_CASE("grad: interpolate bilinear, align_corners or not, up and down", "[grad][resample]") {
    Generator gen(503);
    const std::vector<GradSource> sources = {{"im", testing::randn64({2, 2, 4, 5}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &im = in[0];
        return {interpolate(im, options("bilinear", {9, 7})), interpolate(im, options("bilinear", {3, 8}, {}, true)),
                interpolate(exp(im), options("bilinear", {}, {1.5, 0.6}))};
    });
}
