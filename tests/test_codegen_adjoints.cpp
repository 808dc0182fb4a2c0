// Strata's gradient ops against Halide's own autodiff, the test oracle named
// in the design: the plain forward algorithm of conv2d (stride, padding),
// max_pool2d and avg_pool2d is written directly in Halide over Buffers,
// Halide::propagate_adjoints differentiates it, and the realised adjoints
// must equal Strata's `grad` outputs for the same data and output adjoint
// (f64, relative tolerance 1e-12 of the result's magnitude: both sides sum
// the same few products in different orders). Max-pool data has no ties,
// since Halide routes a tie's gradient differently from PyTorch and Strata.

#include "tests/grad_test_helpers.h"
#include "tests/reference/reference.h"

#include <Halide.h>

#include <cstring>

using namespace strata;
using testing::Syms;

namespace {

constexpr double kTolerance = 1e-12;

/// A Halide buffer holding a copy of an f64 tensor; Halide's dim 0 is the
/// innermost (last) Strata dim.
Halide::Buffer<double> to_buffer(const Tensor &t, const std::string &name) {
    std::vector<int> extents(t.shape().rbegin(), t.shape().rend());
    Halide::Buffer<double> b(extents, name);
    std::memcpy(b.data(), t.contiguous().data<double>(), t.nbytes());
    return b;
}

/// The adjoint Func of `buffer` realised over the buffer's shape, as a Tensor.
Tensor realize_adjoint(const Halide::Derivative &d, const Halide::Buffer<double> &buffer,
                       const Shape &shape) {
    Halide::Func adjoint = d(buffer);
    REQUIRE(adjoint.defined());
    std::vector<int> extents(shape.rbegin(), shape.rend());
    Halide::Buffer<double> out = adjoint.realize(extents);
    Tensor t = Tensor::empty(shape, DType::f64);
    std::memcpy(t.data<double>(), out.data(), t.nbytes());
    return t;
}

/// propagate_adjoints of `output` ([N, C, H, W] in Strata order) with the given output adjoint.
Halide::Derivative adjoints_of(const Halide::Func &output, const Tensor &output_adjoint) {
    // Zero outside the output: the adjoint of an input element reads every
    // output position that could touch it, including ones past the edge.
    Halide::Func seed_func = Halide::BoundaryConditions::constant_exterior(
        to_buffer(output_adjoint, "seed"), Halide::cast<double>(0));
    Halide::Region bounds;
    for (auto it = output_adjoint.shape().rbegin(); it != output_adjoint.shape().rend(); ++it)
        bounds.push_back({0, static_cast<int>(*it)});
    return Halide::propagate_adjoints(output, seed_func, bounds);
}

/// Strata's gradients of sum(f(sources) * output_adjoint) with respect to
/// every source, under one schedule.
std::vector<Tensor> strata_gradients(const std::vector<Tensor> &sources, const Tensor &output_adjoint,
                                     const std::function<SymTensor(const Syms &)> &f,
                                     const std::string &schedule) {
    Graph g;
    Syms inputs;
    std::map<std::string, Tensor> feed = {{"adjoint", output_adjoint}};
    for (size_t i = 0; i < sources.size(); ++i) {
        const std::string name = "s" + std::to_string(i);
        inputs.push_back(g.input(name, sources[i].shape(), DType::f64));
        feed[name] = sources[i];
    }
    const SymTensor out = f(inputs);
    REQUIRE(out.shape() == output_adjoint.shape());
    const Syms grads = grad(sum(out * g.input("adjoint", out.shape(), DType::f64)), inputs);
    for (size_t i = 0; i < grads.size(); ++i) g.output("g" + std::to_string(i), grads[i]);
    const auto results = g.compile(testing::schedule_options(schedule)).run(feed);
    std::vector<Tensor> out_grads;
    for (size_t i = 0; i < grads.size(); ++i) out_grads.push_back(results.at("g" + std::to_string(i)));
    return out_grads;
}

}  // namespace

TEST_CASE("conv2d grad_input and grad_weight agree with Halide's propagate_adjoints",
          "[grad][codegen][conv]") {
    Generator gen(1101);
    const int64_t n = 2, cin = 3, cout = 4, h = 7, w = 6, kh = 3, kw = 2, stride = 2, pad = 1;
    const int64_t oh = (h + 2 * pad - kh) / stride + 1, ow = (w + 2 * pad - kw) / stride + 1;
    const Tensor x = testing::randn64({n, cin, h, w}, gen);
    const Tensor weight = testing::randn64({cout, cin, kh, kw}, gen);
    const Tensor adjoint = testing::randn64({n, cout, oh, ow}, gen);

    // The forward conv in Halide: zero padding as a boundary condition, one
    // update over the window. The weight is zero outside too: Halide's adjoint
    // of the input reads it over the output channels' inferred bounds, which
    // reach one past the last.
    using namespace Halide;
    Buffer<double> xb = to_buffer(x, "x"), wb = to_buffer(weight, "w");
    Func padded = BoundaryConditions::constant_exterior(xb, cast<double>(0));
    Func wf = BoundaryConditions::constant_exterior(wb, cast<double>(0));
    Var ox("ox"), oy("oy"), co("co"), b("b");
    const int s = static_cast<int>(stride), p = static_cast<int>(pad);
    RDom r(0, static_cast<int>(kw), 0, static_cast<int>(kh), 0, static_cast<int>(cin));
    Func conv("conv");
    conv(ox, oy, co, b) = cast<double>(0);
    conv(ox, oy, co, b) += wf(r.x, r.y, r.z, co) * padded(ox * s - p + r.x, oy * s - p + r.y, r.z, b);
    const Derivative d = adjoints_of(conv, adjoint);
    const Tensor halide_dx = realize_adjoint(d, xb, x.shape());
    const Tensor halide_dw = realize_adjoint(d, wb, weight.shape());

    for (const std::string &schedule : reference::grad_schedules()) {
        INFO("schedule " << schedule);
        const auto grads = strata_gradients({x, weight}, adjoint, [&](const Syms &in) {
            ConvOptions o;
            o.stride = {stride};
            o.padding = pad;
            return conv2d(in[0], in[1], {}, o);
        }, schedule);
        const std::string dx_mismatch = reference::mismatch(grads[0], halide_dx, kTolerance);
        const std::string dw_mismatch = reference::mismatch(grads[1], halide_dw, kTolerance);
        INFO("d input: " << dx_mismatch);
        CHECK(dx_mismatch.empty());
        INFO("d weight: " << dw_mismatch);
        CHECK(dw_mismatch.empty());
    }
}

TEST_CASE("max_pool2d grad agrees with Halide's propagate_adjoints", "[grad][codegen][pool]") {
    Generator gen(1102);
    const int64_t n = 2, c = 3, h = 7, w = 8, k = 3, stride = 2, pad = 1;
    const int64_t oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
    const Tensor x = testing::distinct64({n, c, h, w}, gen), adjoint = testing::randn64({n, c, oh, ow}, gen);

    using namespace Halide;
    Buffer<double> xb = to_buffer(x, "x");
    // Padding never wins: it is -infinity, as in PyTorch.
    Func padded = BoundaryConditions::constant_exterior(xb, Float(64).min());
    Var ox("ox"), oy("oy"), ch("ch"), b("b");
    const int s = static_cast<int>(stride), p = static_cast<int>(pad);
    // A max over the window's taps in one pure definition: Halide's autodiff
    // cannot differentiate a max accumulated over an RDom (it would need the
    // intermediate values).
    Expr window_max;
    for (int ty = 0; ty < static_cast<int>(k); ++ty)
        for (int tx = 0; tx < static_cast<int>(k); ++tx) {
            Expr tap = padded(ox * s - p + tx, oy * s - p + ty, ch, b);
            window_max = window_max.defined() ? max(window_max, tap) : tap;
        }
    Func pool("max_pool");
    pool(ox, oy, ch, b) = window_max;
    const Tensor halide_dx = realize_adjoint(adjoints_of(pool, adjoint), xb, x.shape());

    for (const std::string &schedule : reference::grad_schedules()) {
        INFO("schedule " << schedule);
        const auto grads = strata_gradients({x}, adjoint, [&](const Syms &in) {
            MaxPoolOptions o;
            o.stride = {stride};
            o.padding = {pad};
            return max_pool2d(in[0], {k}, o);
        }, schedule);
        const std::string mismatch = reference::mismatch(grads[0], halide_dx, kTolerance);
        INFO("d input: " << mismatch);
        CHECK(mismatch.empty());
    }
}

TEST_CASE("avg_pool2d grad agrees with Halide's propagate_adjoints", "[grad][codegen][pool]") {
    Generator gen(1103);
    const int64_t n = 2, c = 2, h = 7, w = 9, kh = 3, kw = 2, stride = 2, pad = 1;
    const int64_t oh = (h + 2 * pad - kh) / stride + 1, ow = (w + 2 * pad - kw) / stride + 1;
    const Tensor x = testing::randn64({n, c, h, w}, gen), adjoint = testing::randn64({n, c, oh, ow}, gen);

    using namespace Halide;
    Buffer<double> xb = to_buffer(x, "x");
    // count_include_pad: every window divides by the kernel area, padding included.
    Func padded = BoundaryConditions::constant_exterior(xb, cast<double>(0));
    Var ox("ox"), oy("oy"), ch("ch"), b("b");
    const int s = static_cast<int>(stride), p = static_cast<int>(pad);
    RDom r(0, static_cast<int>(kw), 0, static_cast<int>(kh));
    Func window_sum("window_sum"), pool("avg_pool");
    window_sum(ox, oy, ch, b) = cast<double>(0);
    window_sum(ox, oy, ch, b) += padded(ox * s - p + r.x, oy * s - p + r.y, ch, b);
    pool(ox, oy, ch, b) = window_sum(ox, oy, ch, b) / cast<double>(static_cast<int>(kh * kw));
    const Tensor halide_dx = realize_adjoint(adjoints_of(pool, adjoint), xb, x.shape());

    for (const std::string &schedule : reference::grad_schedules()) {
        INFO("schedule " << schedule);
        const auto grads = strata_gradients({x}, adjoint, [&](const Syms &in) {
            AvgPoolOptions o;
            o.stride = {stride};
            o.padding = {pad};
            return avg_pool2d(in[0], {kh, kw}, o);
        }, schedule);
        const std::string mismatch = reference::mismatch(grads[0], halide_dx, kTolerance);
        INFO("d input: " << mismatch);
        CHECK(mismatch.empty());
    }
}
