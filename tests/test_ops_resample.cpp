// F.interpolate / nn.Upsample (upsample_nearest1d/2d, upsample_linear1d, upsample_bilinear2d): against
// the naive reference (sizes and scale factors, up and down, align_corners, recompute_scale_factor),
// against PyTorch's own numbers (tests/fixtures/upsample, forward and input gradients, f32 and f64,
// including a source position that f32 arithmetic floors differently; a nearest gradient is the
// adjoint of PyTorch's forward, see make_upsample_expected.py), the "simple" and "gpu"
// schedules against the default one, nn::Upsample, and the user errors of the API.

#include "codegen/device_code.h"
#include "frontend/nn.h"
#include "tests/fixtures/upsample/upsample_expected.h"
#include "tests/op_test_helpers.h"

#include <algorithm>
#include <cmath>

using namespace strata;
namespace ref = strata::reference;
using Catch::Contains;
using testing::float_dtypes;
using testing::tolerance;

namespace {

InterpolateOptions by_size(Ints size, const std::string &mode = "nearest", std::optional<bool> align = std::nullopt) {
    InterpolateOptions o;
    o.size = std::move(size);
    o.mode = mode;
    o.align_corners = align;
    return o;
}

InterpolateOptions by_scale(std::vector<double> scale, const std::string &mode = "nearest",
                            std::optional<bool> align = std::nullopt, std::optional<bool> recompute = std::nullopt) {
    InterpolateOptions o;
    o.scale_factor = std::move(scale);
    o.mode = mode;
    o.align_corners = align;
    o.recompute_scale_factor = recompute;
    return o;
}

/// scale * sin(a * i + b) over the flat index i, in f64, then cast (as make_upsample_expected.py).
Tensor wave(const Shape &shape, double a, double b, double scale, DType dtype) {
    Tensor t = Tensor::empty(shape, DType::f64);
    for (int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, scale * std::sin(a * static_cast<double>(i) + b));
    return t.to(dtype);
}

}  // namespace

TEST_CASE("interpolate nearest, 1-d and 2-d: sizes and scale factors, up and down", "[ops][resample]") {
    Generator gen(40);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor lv = testing::randn({2, 3, 7}, dt, gen), iv = testing::randn({2, 2, 5, 6}, dt, gen);
        Graph g;
        auto l = g.input("l", {2, 3, 7}, dt), im = g.input("im", {2, 2, 5, 6}, dt);
        g.output("up_size", interpolate(l, by_size({17})));
        g.output("down_size", interpolate(l, by_size({3})));
        g.output("scale_2", interpolate(l, by_scale({2})));
        g.output("scale_1_6", interpolate(l, by_scale({1.6})));
        g.output("scale_1_1", interpolate(l, by_scale({1.1})));  // 7 positions at 1 / 1.1: not a copy
        g.output("scale_0_5", interpolate(l, by_scale({0.5})));
        g.output("recomputed", interpolate(l, by_scale({1.1}, "nearest", std::nullopt, true)));
        g.output("image_size", interpolate(im, by_size({11, 4})));
        g.output("image_scales", interpolate(im, by_scale({1.5, 0.7})));
        g.output("image_one_scale", interpolate(im, by_scale({2})));
        auto out = g.compile().run({{"l", lv}, {"im", iv}});
        CHECK_CLOSE(out.at("up_size"), ref::upsample_nearest(lv, {17}, {0}), dt, 0);
        CHECK_CLOSE(out.at("down_size"), ref::upsample_nearest(lv, {3}, {0}), dt, 0);
        CHECK_CLOSE(out.at("scale_2"), ref::upsample_nearest(lv, {14}, {2}), dt, 0);
        CHECK_CLOSE(out.at("scale_1_6"), ref::upsample_nearest(lv, {11}, {1.6}), dt, 0);
        CHECK_CLOSE(out.at("scale_0_5"), ref::upsample_nearest(lv, {3}, {0.5}), dt, 0);
        CHECK_CLOSE(out.at("scale_1_1"), ref::upsample_nearest(lv, {7}, {1.1}), dt, 0);
        CHECK_CLOSE(out.at("recomputed"), lv.to(DType::f64), dt, 0);
        CHECK_CLOSE(out.at("image_size"), ref::upsample_nearest(iv, {11, 4}, {0, 0}), dt, 0);
        CHECK_CLOSE(out.at("image_scales"), ref::upsample_nearest(iv, {7, 4}, {1.5, 0.7}), dt, 0);
        CHECK_CLOSE(out.at("image_one_scale"), ref::upsample_nearest(iv, {10, 12}, {2, 2}), dt, 0);
        // The factor itself places the sources (1 / 1.1, not 7 / 7) unless recomputed.
        CHECK(ref::max_abs_diff(out.at("scale_1_1"), out.at("recomputed")) > 0);
    }
}

TEST_CASE("interpolate linear and bilinear: align_corners, sizes, scale factors, recompute_scale_factor",
          "[ops][resample]") {
    Generator gen(41);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor lv = testing::randn({2, 3, 6}, dt, gen), iv = testing::randn({2, 2, 4, 5}, dt, gen);
        Graph g;
        auto l = g.input("l", {2, 3, 6}, dt), im = g.input("im", {2, 2, 4, 5}, dt);
        g.output("up", interpolate(l, by_size({15}, "linear")));
        g.output("up_align", interpolate(l, by_size({15}, "linear", true)));
        g.output("down", interpolate(l, by_size({4}, "linear")));
        g.output("down_align", interpolate(l, by_size({4}, "linear", true)));
        g.output("to_one_align", interpolate(l, by_size({1}, "linear", true)));
        g.output("same_size", interpolate(l, by_scale({1.1}, "linear")));  // 6 positions: a copy, as aten
        g.output("scale_2_5", interpolate(l, by_scale({2.5}, "linear")));
        g.output("recomputed", interpolate(l, by_scale({1.7}, "linear", false, true)));
        g.output("image", interpolate(im, by_size({7, 9}, "bilinear")));
        g.output("image_align", interpolate(im, by_size({7, 3}, "bilinear", true)));
        g.output("image_scales", interpolate(im, by_scale({1.5, 0.6}, "bilinear")));
        auto out = g.compile().run({{"l", lv}, {"im", iv}});
        const double tol = tolerance(dt, 4);
        CHECK_CLOSE(out.at("up"), ref::upsample_linear(lv, {15}, false, {0}), dt, tol);
        CHECK_CLOSE(out.at("up_align"), ref::upsample_linear(lv, {15}, true, {0}), dt, tol);
        CHECK_CLOSE(out.at("down"), ref::upsample_linear(lv, {4}, false, {0}), dt, tol);
        CHECK_CLOSE(out.at("down_align"), ref::upsample_linear(lv, {4}, true, {0}), dt, tol);
        CHECK_CLOSE(out.at("to_one_align"), ref::upsample_linear(lv, {1}, true, {0}), dt, tol);
        CHECK_CLOSE(out.at("same_size"), lv.to(DType::f64), dt, 0);
        CHECK_CLOSE(out.at("scale_2_5"), ref::upsample_linear(lv, {15}, false, {2.5}), dt, tol);
        CHECK_CLOSE(out.at("recomputed"), ref::upsample_linear(lv, {10}, false, {0}), dt, tol);
        CHECK_CLOSE(out.at("image"), ref::upsample_linear(iv, {7, 9}, false, {0, 0}), dt, tol);
        CHECK_CLOSE(out.at("image_align"), ref::upsample_linear(iv, {7, 3}, true, {0, 0}), dt, tol);
        CHECK_CLOSE(out.at("image_scales"), ref::upsample_linear(iv, {6, 3}, false, {1.5, 0.6}), dt, tol);
    }
}

TEST_CASE("interpolate gives PyTorch's numbers, forward and input gradients (fixtures)", "[ops][resample]") {
    namespace want = strata::upsample_expected;
    struct Case {
        const char *name;
        Shape shape;
        InterpolateOptions options;
        const std::vector<double> *f32, *f32_grad, *f64, *f64_grad;
    };
#define STRATA_FIXTURE(name) &want::name##_f32, &want::name##_f32_grad, &want::name##_f64, &want::name##_f64_grad
    const std::vector<Case> cases = {
        {"nearest_14_to_46", {1, 2, 14}, by_size({46}), STRATA_FIXTURE(nearest_14_to_46)},
        {"nearest_scale_1_05", {1, 1, 10}, by_scale({1.05}), STRATA_FIXTURE(nearest_scale_1_05)},
        {"nearest_2d_scales", {2, 2, 5, 7}, by_scale({1.5, 0.75}), STRATA_FIXTURE(nearest_2d_scales)},
        {"nearest_2d_size", {1, 3, 4, 3}, by_size({9, 7}), STRATA_FIXTURE(nearest_2d_size)},
        {"linear_scale_2_5", {2, 2, 6}, by_scale({2.5}, "linear"), STRATA_FIXTURE(linear_scale_2_5)},
        {"linear_align_size_7", {1, 2, 4}, by_size({7}, "linear", true), STRATA_FIXTURE(linear_align_size_7)},
        {"linear_down_0_3", {1, 2, 10}, by_scale({0.3}, "linear"), STRATA_FIXTURE(linear_down_0_3)},
        {"linear_recompute_1_7", {1, 1, 10}, by_scale({1.7}, "linear", std::nullopt, true),
         STRATA_FIXTURE(linear_recompute_1_7)},
        {"linear_size_1", {1, 2, 5}, by_size({1}, "linear"), STRATA_FIXTURE(linear_size_1)},
        {"bilinear_scales", {2, 2, 3, 4}, by_scale({1.5, 2.0}, "bilinear"), STRATA_FIXTURE(bilinear_scales)},
        {"bilinear_align_size", {1, 2, 4, 5}, by_size({5, 3}, "bilinear", true), STRATA_FIXTURE(bilinear_align_size)},
        {"bilinear_down", {1, 1, 7, 6}, by_size({3, 4}, "bilinear"), STRATA_FIXTURE(bilinear_down)},
    };
#undef STRATA_FIXTURE
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        Graph g;
        std::map<std::string, Tensor> inputs;
        for (const Case &c : cases) {
            const std::string name = c.name;
            auto x = g.input(name, c.shape, dt);
            inputs[name] = wave(c.shape, 0.37, 0.2, 3.0, dt);
            SymTensor y = interpolate(x, c.options);
            SymTensor weights = g.input(name + "_weights", y.shape(), dt);
            inputs[name + "_weights"] = wave(y.shape(), 0.61, 0.4, 1.0, dt);
            g.output(name + "_y", y);
            g.output(name + "_grad", g.gradients(sum(y * weights), {x})[0]);
        }
        auto out = g.compile().run(inputs);
        for (const Case &c : cases) {
            INFO(c.name);
            const std::string name = c.name;
            const bool nearest = c.options.mode == "nearest";
            const Tensor &y = out.at(name + "_y"), &grad = out.at(name + "_grad");
            const auto &want_y = dt == DType::f32 ? *c.f32 : *c.f64;
            const auto &want_grad = dt == DType::f32 ? *c.f32_grad : *c.f64_grad;
            REQUIRE(static_cast<size_t>(y.numel()) == want_y.size());
            REQUIRE(static_cast<size_t>(grad.numel()) == want_grad.size());
            // Nearest copies values: exactly PyTorch's, f32 rounding of the source position included.
            CHECK_CLOSE(y, Tensor::from_vector<double>(want_y, y.shape()), dt, nearest ? 0 : tolerance(dt, 4));
            CHECK_CLOSE(grad, Tensor::from_vector<double>(want_grad, grad.shape()), dt, tolerance(dt, 16));
        }
    }
}

TEST_CASE("the simple and gpu schedules give the default schedule's numbers, forward and gradient",
          "[ops][resample][schedule]") {
    Generator gen(42);
    const DType dt = DType::f32;
    const Tensor lv = testing::randn({2, 3, 9}, dt, gen), iv = testing::randn({2, 3, 6, 5}, dt, gen);
    Graph g;
    auto l = g.input("l", {2, 3, 9}, dt), im = g.input("im", {2, 3, 6, 5}, dt);
    const std::vector<std::pair<std::string, SymTensor>> outs = {
        {"nearest1d", interpolate(l, by_scale({2.5}))},
        {"linear1d", interpolate(l, by_size({20}, "linear"))},
        {"nearest2d", interpolate(im, by_size({13, 4}))},
        {"bilinear2d", interpolate(im, by_scale({2, 1.5}, "bilinear", true))},
    };
    SymTensor loss;
    for (const auto &[name, y] : outs) {
        g.output(name, y);
        loss = loss.defined() ? loss + sum(y * y) : sum(y * y);
    }
    const auto grads = g.gradients(loss, {l, im});
    g.output("dl", grads[0]);
    g.output("dim", grads[1]);
    const std::map<std::string, Tensor> inputs = {{"l", lv}, {"im", iv}};
    const auto want = g.compile().run(inputs);
    for (const char *schedule : {"simple", "gpu"}) {
        INFO("schedule " << schedule);
        codegen::CompileOptions options;
        options.schedule = schedule;
        const auto got = g.compile(options).run(inputs);
        for (const auto &[name, value] : want) {
            INFO(name);
            CHECK_CLOSE(got.at(name), value.to(DType::f64), dt, tolerance(dt, 16));
        }
    }
}

TEST_CASE("the upsample ops and their gradients compile for CUDA, each into its own kernels",
          "[ops][resample][schedule]") {
    Graph g;
    auto l = g.input("l", {2, 3, 9}), im = g.input("im", {2, 3, 6, 5});
    SymTensor loss;
    for (const SymTensor &y : {interpolate(l, by_scale({2.5})), interpolate(l, by_size({20}, "linear")),
                               interpolate(im, by_size({13, 4})), interpolate(im, by_scale({2}, "bilinear", true))}) {
        g.output("y" + std::to_string(g.program().outputs().size()), y);
        loss = loss.defined() ? loss + sum(y * y) : sum(y * y);
    }
    const auto grads = g.gradients(loss, {l, im});
    g.output("dl", grads[0]);
    g.output("dim", grads[1]);
    codegen::CompileOptions options;
    options.target = "host-cuda-cuda_capability_70";
    const codegen::DeviceCode code = codegen::cuda_device_code(g.program(), options);
    for (const char *op : {"upsample_nearest1d", "upsample_linear1d", "upsample_nearest2d", "upsample_bilinear2d",
                           "upsample_nearest1d_grad", "upsample_linear1d_grad", "upsample_nearest2d_grad",
                           "upsample_bilinear2d_grad"}) {
        INFO(op);
        const std::string stem = std::string("_") + op + "_";
        CHECK(std::any_of(code.kernels.begin(), code.kernels.end(),
                          [&](const std::string &k) { return k.find(stem) != std::string::npos; }));
    }
}

TEST_CASE("nn::Upsample is interpolate with fixed arguments, printed as PyTorch prints it", "[ops][resample][nn]") {
    Generator gen(43);
    const Tensor iv = testing::randn({1, 2, 3, 4}, DType::f32, gen);
    nn::Upsample twice(nn::UpsampleOptions().scale_factor({2}).mode("bilinear").align_corners(true));
    nn::Upsample to_size(nn::UpsampleOptions().size({5, 7}));
    CHECK(twice->extra_repr() == "scale_factor=2.0, mode='bilinear'");
    CHECK(to_size->extra_repr() == "size=(5, 7), mode='nearest'");
    Graph g;
    auto im = g.input("im", {1, 2, 3, 4});
    g.output("twice", twice(im));
    g.output("to_size", to_size(im));
    auto out = g.compile().run({{"im", iv}});
    CHECK_CLOSE(out.at("twice"), ref::upsample_linear(iv, {6, 8}, true, {2, 2}), DType::f32, tolerance(DType::f32, 4));
    CHECK_CLOSE(out.at("to_size"), ref::upsample_nearest(iv, {5, 7}, {0, 0}), DType::f32, 0);
    REQUIRE_THROWS_WITH(nn::Upsample(nn::UpsampleOptions()), Contains("Upsample") && Contains("size or scale_factor"));
}

TEST_CASE("bad upsample IR nodes are named", "[ops][resample][errors]") {
    ir::Program p;
    const ir::Node *x = p.input("x", ir::Type{DType::f32, {1, 2, 5}});
    const ir::Attrs good = {{"output_size", Ints{9}}, {"scales", 0.0}};
    REQUIRE(p.make(ir::Op::upsample_nearest1d, {x}, good)->shape() == Shape{1, 2, 9});
    ir::Attrs negative = good;
    REQUIRE_THROWS_WITH(p.make(ir::Op::upsample_nearest1d, {x}, negative.set("scales", -1.0)),
                        Contains("upsample_nearest1d") && Contains("scales") && Contains("-1"));
    ir::Attrs infinite = good;
    REQUIRE_THROWS_WITH(p.make(ir::Op::upsample_nearest1d, {x}, infinite.set("scales", INFINITY)),
                        Contains("upsample_nearest1d") && Contains("finite"));
    ir::Attrs two = good;
    REQUIRE_THROWS_WITH(p.make(ir::Op::upsample_nearest1d, {x}, two.set("output_size", Ints{9, 9})),
                        Contains("output_size") && Contains("1 value"));
    ir::Attrs huge = good;
    REQUIRE_THROWS_WITH(p.make(ir::Op::upsample_nearest1d, {x}, huge.set("output_size", Ints{int64_t{1} << 40})),
                        Contains("output_size") && Contains("too large"));
    REQUIRE_THROWS_WITH(p.make(ir::Op::upsample_nearest2d, {x}, {{"output_size", Ints{3, 3}}, {"scales_h", 0.0}, {"scales_w", 0.0}}),
                        Contains("upsample_nearest2d") && Contains("4-d"));
    ir::Attrs grad = good;
    grad.set("input_shape", Ints{1, 2, 5});
    const ir::Node *wrong = p.input("g", ir::Type{DType::f32, {1, 2, 8}});
    REQUIRE_THROWS_WITH(p.make(ir::Op::upsample_nearest1d_grad, {wrong}, grad),
                        Contains("upsample_nearest1d_grad") && Contains("[1, 2, 8]") && Contains("[1, 2, 9]"));
}

TEST_CASE("bad interpolate arguments are named", "[ops][resample][errors]") {
    Graph g;
    auto l = g.input("l", {1, 2, 5}), im = g.input("im", {1, 2, 4, 4});
    REQUIRE_THROWS_WITH(interpolate(l, by_size({7}, "nearest", true)), Contains("align_corners") && Contains("nearest"));
    REQUIRE_THROWS_WITH(interpolate(im, by_size({7}, "linear")), Contains("linear") && Contains("3-d"));
    REQUIRE_THROWS_WITH(interpolate(l, by_size({7}, "bilinear")), Contains("bilinear") && Contains("4-d"));
    REQUIRE_THROWS_WITH(interpolate(l, by_size({7}, "bicubic")), Contains("bicubic") && Contains("not supported"));
    REQUIRE_THROWS_WITH(interpolate(im, by_size({7, 8, 9})), Contains("[4, 4]") && Contains("[7, 8, 9]"));
    REQUIRE_THROWS_WITH(interpolate(l, by_size({0})), Contains("greater than 0"));
    REQUIRE_THROWS_WITH(interpolate(l, by_scale({0.1})), Contains("greater than 0"));  // trunc(5 * 0.1) = 0
    REQUIRE_THROWS_WITH(interpolate(l, by_scale({-2})), Contains("scale_factor") && Contains("positive"));
    REQUIRE_THROWS_WITH(interpolate(l, by_scale({NAN})), Contains("scale_factor"));
    REQUIRE_THROWS_WITH(interpolate(l, by_scale({1e12})), Contains("scale_factor") && Contains("2147483647"));
    InterpolateOptions both = by_size({7});
    both.scale_factor = {2};
    REQUIRE_THROWS_WITH(interpolate(l, both), Contains("only one of size or scale_factor"));
    REQUIRE_THROWS_WITH(interpolate(l, InterpolateOptions{}), Contains("either size or scale_factor"));
    InterpolateOptions recompute_size = by_size({7});
    recompute_size.recompute_scale_factor = true;
    REQUIRE_THROWS_WITH(interpolate(l, recompute_size), Contains("recompute_scale_factor"));
    REQUIRE_THROWS_WITH(interpolate(g.input("i", {1, 2, 5}, DType::i32), by_size({7})),
                        Contains("upsample_nearest1d") && Contains("i32"));
    REQUIRE_THROWS_WITH(interpolate(g.input("flat", {5}), by_size({7})), Contains("3-d and 4-d") && Contains("[5]"));
}
