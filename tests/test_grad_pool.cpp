// Gradients of the pools against finite differences in f64, under the default
// and the "simple" schedule: max_pool and avg_pool in 1-d and 2-d with stride,
// padding, dilation, ceil_mode and count_include_pad, and the adaptive average
// pools. Max-pool inputs are distinct values 0.1 apart, so no window holds a
// tie and no difference step changes which element wins.

#include "tests/grad_test_helpers.h"
#include "tests/reference/reference.h"

#include <limits>

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

namespace {

/// PyTorch's max_pool2d backward, naively: each window's gradient goes to its
/// first maximum in window order (rows, then columns; a later equal value
/// does not win), or to its last NaN. Padding taps never win: a window of
/// -inf sends it to its first element inside the input.
Tensor max_pool2d_grad_reference(const Tensor &x, const Tensor &grad_out, int64_t k, int64_t stride, int64_t pad) {
    const Shape &xs = x.shape(), &gs = grad_out.shape();
    Tensor dx = Tensor::zeros(xs, DType::f64);
    for (int64_t n = 0; n < xs[0]; ++n)
        for (int64_t c = 0; c < xs[1]; ++c)
            for (int64_t oy = 0; oy < gs[2]; ++oy)
                for (int64_t ox = 0; ox < gs[3]; ++ox) {
                    double best = -std::numeric_limits<double>::infinity();
                    int64_t at = -1;
                    for (int64_t ky = 0; ky < k; ++ky)
                        for (int64_t kx = 0; kx < k; ++kx) {
                            const int64_t y = oy * stride - pad + ky, xx = ox * stride - pad + kx;
                            if (y < 0 || y >= xs[2] || xx < 0 || xx >= xs[3]) continue;
                            const int64_t flat = ((n * xs[1] + c) * xs[2] + y) * xs[3] + xx;
                            const double v = x.data<double>()[flat];
                            if (at < 0 || v > best || std::isnan(v)) best = v, at = flat;
                        }
                    const int64_t o = ((n * gs[1] + c) * gs[2] + oy) * gs[3] + ox;
                    dx.data<double>()[at] += grad_out.data<double>()[o];
                }
    return dx;
}

}  // namespace

TEST_CASE("grad: max_pool2d sends a tie's gradient to the first maximum and a NaN's to the last NaN, as PyTorch",
          "[grad][pool]") {
    // Values from {0, 1, 2} and one in 12 a NaN: most windows hold ties, some
    // NaNs, a few two. 2x2, an overlapping 3x3 with padding (9 taps,
    // unrolled) and a 5x5 (25 taps, a reduction). A corner of -inf: the
    // padded windows there tie with their padding, which must not win.
    Generator gen(305);
    Tensor x = Tensor::empty({2, 3, 9, 10}, DType::f64);
    for (int64_t i = 0; i < x.numel(); ++i) {
        const uint64_t v = gen.below(36);
        x.set_flat(i, v < 3 ? std::nan("") : static_cast<double>(v % 3));
    }
    for (int64_t r = 0; r < 3; ++r)
        for (int64_t col = 0; col < 3; ++col) x.at<double>({1, 2, r, col}) = -std::numeric_limits<double>::infinity();
    struct Case {
        int64_t k, stride, pad;
    };
    for (const Case c : {Case{2, 2, 0}, Case{3, 1, 1}, Case{5, 2, 2}}) {
        for (const std::string &schedule : reference::grad_schedules()) {
            INFO("kernel " << c.k << " stride " << c.stride << " pad " << c.pad << ", schedule " << schedule);
            Graph g;
            const SymTensor in = g.input("x", x.shape(), DType::f64);
            MaxPoolOptions o;
            o.stride = {c.stride};
            o.padding = {c.pad};
            const SymTensor y = max_pool2d(in, {c.k}, o);
            const Tensor adjoint = testing::randn64(y.shape(), gen);
            g.output("y", y);  // the forward stays: the default computes the argmax in its loops
            g.output("dx", grad(sum(y * g.input("adjoint", y.shape(), DType::f64)), {in})[0]);
            const Tensor dx = g.compile(testing::schedule_options(schedule)).run({{"x", x}, {"adjoint", adjoint}}).at("dx");
            const Tensor expected = max_pool2d_grad_reference(x, adjoint, c.k, c.stride, c.pad);
            const std::string mismatch = reference::mismatch(dx, expected, 1e-12);
            INFO(mismatch);
            CHECK(mismatch.empty());
        }
    }
}

TEST_CASE("a max-pool gradient whose forward pool is dead compiles without the IR passes", "[grad][pool]") {
    // The default computes the argmax in the forward pool's loops; without dead-code
    // removal the forward is lowered but not in the pipeline, so it must not be used.
    Generator gen(307);
    const Tensor xv = testing::distinct64({2, 3, 8, 8}, gen), av = testing::randn64({2, 3, 4, 4}, gen);
    Graph g;
    const SymTensor x = g.input("x", xv.shape(), DType::f64), a = g.input("a", av.shape(), DType::f64);
    g.output("dx", grad(sum(max_pool2d(x, {2}) * a), {x})[0]);
    codegen::CompileOptions raw;
    raw.optimize = false;
    const auto got = g.compile(raw).run({{"x", xv}, {"a", av}}).at("dx");
    const auto want = g.compile().run({{"x", xv}, {"a", av}}).at("dx");
    CHECK(reference::mismatch(got, want, 0.0).empty());
}
