// Gradients of the pools against finite differences in f64, under the default
// and the "simple" schedule: max_pool and avg_pool in 1-d and 2-d with stride,
// padding, dilation, ceil_mode and count_include_pad, and the adaptive average
// pools. Max-pool inputs are distinct values 0.1 apart, so no window holds a
// tie and no difference step changes which element wins.

#include "tests/grad_test_helpers.h"

using namespace strata;
using testing::GradSource;
using testing::Syms;

TEST_CASE("grad: max_pool1d with stride, padding, dilation and ceil_mode", "[grad][pool]") {
    Generator gen(301);
    const std::vector<GradSource> sources = {{"x", testing::distinct64({2, 3, 13}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0];
        MaxPoolOptions dilated;
        dilated.stride = {2};
        dilated.padding = {1};
        dilated.dilation = {2};
        dilated.ceil_mode = true;
        MaxPoolOptions overlapping;
        overlapping.stride = {1};
        return {max_pool1d(x, {3}, dilated), max_pool1d(x, {2}), max_pool1d(x, {3}, overlapping),
                max_pool1d(exp(x), {4}, {{3}, {2}, {1}, true})};
    });
}

TEST_CASE("grad: max_pool2d with stride, padding, dilation and ceil_mode", "[grad][pool]") {
    Generator gen(302);
    const std::vector<GradSource> sources = {{"x", testing::distinct64({2, 2, 7, 8}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0];
        MaxPoolOptions o;
        o.stride = {2, 2};
        o.padding = {1, 1};
        o.dilation = {1, 2};
        o.ceil_mode = true;
        MaxPoolOptions overlapping;
        overlapping.stride = {1, 2};
        return {max_pool2d(x, {3, 2}, o), max_pool2d(x, {2}), max_pool2d(x, {3, 3}, overlapping)};
    });
}

TEST_CASE("grad: avg_pool1d with padding, ceil_mode and count_include_pad", "[grad][pool]") {
    Generator gen(303);
    const std::vector<GradSource> sources = {{"x", testing::randn64({2, 3, 12}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0];
        Syms outs = {avg_pool1d(x, {3})};
        for (bool include_pad : {true, false}) {
            AvgPoolOptions o;
            o.stride = {2};
            o.padding = {1};
            o.ceil_mode = true;
            o.count_include_pad = include_pad;
            outs.push_back(avg_pool1d(x, {3}, o));
            AvgPoolOptions overlapping;
            overlapping.stride = {1};
            overlapping.padding = {2};
            overlapping.count_include_pad = include_pad;
            outs.push_back(avg_pool1d(x, {5}, overlapping));
        }
        return outs;
    });
}

TEST_CASE("grad: avg_pool2d with padding, ceil_mode and count_include_pad", "[grad][pool]") {
    Generator gen(304);
    const std::vector<GradSource> sources = {{"x", testing::randn64({2, 2, 7, 6}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0];
        Syms outs = {avg_pool2d(x, {2})};
        for (bool include_pad : {true, false}) {
            AvgPoolOptions o;
            o.stride = {2, 3};
            o.padding = {1, 1};
            o.ceil_mode = true;
            o.count_include_pad = include_pad;
            outs.push_back(avg_pool2d(x, {3, 3}, o));
            AvgPoolOptions overlapping;
            overlapping.stride = {1, 2};
            overlapping.padding = {1, 0};
            overlapping.count_include_pad = include_pad;
            outs.push_back(avg_pool2d(x, {3, 2}, overlapping));
        }
        return outs;
    });
}

TEST_CASE("grad: adaptive average pools", "[grad][pool]") {
    Generator gen(305);
    const std::vector<GradSource> sources = {{"x1", testing::randn64({2, 3, 11}, gen)},
                                             {"x2", testing::randn64({1, 2, 7, 9}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x1 = in[0], &x2 = in[1];
        // Output sizes that do not divide the input: windows of unequal sizes that overlap.
        return {adaptive_avg_pool1d(x1, {4}), adaptive_avg_pool1d(x1, {1}), adaptive_avg_pool2d(x2, {3, 4}),
                adaptive_avg_pool2d(x2, {1, 1}), adaptive_avg_pool2d(x2, {5, 2})};
    });
}

TEST_CASE("grad: pools after a conv and activation, as in a CNN", "[grad][pool]") {
    Generator gen(306);
    const std::vector<GradSource> sources = {{"x", testing::randn64({2, 2, 9, 9}, gen)},
                                             {"w", testing::randn64({3, 2, 3, 3}, gen, 0.3)}};
    CHECK_GRADIENTS(sources, [](Graph &, const Syms &in) -> Syms {
        const SymTensor &x = in[0], &w = in[1];
        ConvOptions conv;
        conv.padding = 1;
        SymTensor h = tanh(conv2d(x, w, {}, conv));
        MaxPoolOptions pool;
        pool.stride = {2};
        pool.ceil_mode = true;
        return {adaptive_avg_pool2d(max_pool2d(h, {3}, pool), {2, 2}), avg_pool2d(h, {3})};
    });
}
