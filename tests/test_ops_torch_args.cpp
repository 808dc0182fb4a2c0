// The PyTorch arguments of issue 20 against the naive references, under the
// default and the "simple" schedule: add/sub `alpha`, cross_entropy and
// nll_loss class `weight` (with ignore_index, label smoothing and every
// reduction), binary_cross_entropy_with_logits `weight` and `pos_weight`, and
// avg_pool `divisor_override`; the same against PyTorch's own numbers
// (tests/fixtures/torch_args, made with Debian's python3-torch); and the user
// errors of each.

#include "tests/fixtures/torch_args/torch_args_expected.h"
#include "tests/op_test_helpers.h"
#include "tests/support/error_message.h"

#include <cmath>

using namespace strata;
namespace ref = strata::reference;
using Catch::Contains;
using testing::float_dtypes;
using testing::kSchedules;
using testing::with_schedule;
using testing::tolerance;

namespace {

/// Class indices in [0, classes), with every `every`-th one set to `ignore`.
Tensor targets(const Shape &shape, int64_t classes, Generator &gen, int64_t every, int64_t ignore) {
    Tensor t = testing::random_classes(shape, classes, gen);
    for (int64_t i = 0; i < t.numel(); i += every) t.set_flat(i, static_cast<double>(ignore));
    return t;
}

/// scale * sin(a * i + b) over the flat index i, in f64: the fixture script's inputs.
Tensor wave(const Shape &shape, double a, double b, double scale) {
    Tensor t = Tensor::empty(shape, DType::f64);
    for (int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, scale * std::sin(a * static_cast<double>(i) + b));
    return t;
}

Tensor expected(const std::vector<double> &values, const Shape &shape) {
    return Tensor::from_vector<double>(values, shape);
}

}  // namespace

TEST_CASE("add and sub with alpha scale the second operand", "[ops][torch_args]") {
    Generator gen(2001);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor av = testing::randn({3, 1, 29}, dt, gen), bv = testing::randn({5, 1}, dt, gen);
        Graph g;
        auto a = g.input("a", {3, 1, 29}, dt), b = g.input("b", {5, 1}, dt);
        g.output("add", add(a, b, 2.5));
        g.output("sub", sub(a, b, -0.75));
        g.output("add_one", add(a, b, 1.0));
        g.output("sub_zero", sub(a, b, 0.0));  // still broadcast to the joint shape
        for (const char *schedule : kSchedules) {
            INFO(schedule);
            auto out = g.compile(with_schedule(schedule)).run({{"a", av}, {"b", bv}});
            const double tol = tolerance(dt, 2);
            CHECK_CLOSE(out.at("add"), ref::map2(av, bv, [](double x, double y) { return x + 2.5 * y; }), dt, tol);
            CHECK_CLOSE(out.at("sub"), ref::map2(av, bv, [](double x, double y) { return x + 0.75 * y; }), dt, tol);
            CHECK_CLOSE(out.at("add_one"), ref::map2(av, bv, [](double x, double y) { return x + y; }), dt,
                        tolerance(dt));
            CHECK_CLOSE(out.at("sub_zero"), ref::map2(av, bv, [](double x, double) { return x; }), dt, tolerance(dt));
        }
    }
    // alpha = 1 is the plain op: the same node as a + b.
    Graph g;
    auto a = g.input("a", {4}), b = g.input("b", {4});
    CHECK(add(a, b).node() == (a + b).node());
    CHECK(sub(a, b, 1.0).node() == (a - b).node());
}

TEST_CASE("add and sub with alpha on i32 tensors are exact", "[ops][torch_args]") {
    const Tensor av = Tensor::from_vector<int32_t>({7, -3, 100000, 0}, {4});
    const Tensor bv = Tensor::from_vector<int32_t>({2, 5, -7, 1}, {4});
    Graph g;
    auto a = g.input("a", {4}, DType::i32), b = g.input("b", {4}, DType::i32);
    g.output("add", add(a, b, 3));
    g.output("sub", sub(a, b, -4));
    auto out = g.compile().run({{"a", av}, {"b", bv}});
    CHECK(out.at("add").dtype() == DType::i32);
    CHECK_EXACT(out.at("add"), Tensor::from_vector<int32_t>({13, 12, 99979, 3}, {4}));
    CHECK_EXACT(out.at("sub"), Tensor::from_vector<int32_t>({15, 17, 99972, 4}, {4}));
}

TEST_CASE("cross_entropy and nll_loss with a class weight", "[ops][torch_args][losses]") {
    Generator gen(2002);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor logits = Tensor::randn({13, 7}, gen, dt, 0.0, 2.0);
        const Tensor weight = testing::rand({7}, dt, gen, 0.1, 3.0);
        const Tensor t = targets({13}, 7, gen, 4, -100);  // elements 0, 4, 8, 12 ignored
        const Tensor t2 = targets({13}, 7, gen, 3, 2);    // ignore_index 2 is also a real class
        const Tensor logits3 = testing::randn({3, 5, 4, 7}, dt, gen), weight3 = testing::rand({5}, dt, gen, 0.0, 2.0);
        const Tensor t3 = targets({3, 4, 7}, 5, gen, 5, -100);
        const Tensor lp = ref::cast(ref::log_softmax(logits, 1), dt);
        Graph g;
        auto x = g.input("x", {13, 7}, dt), w = g.input("w", {7}, dt), l = g.input("lp", {13, 7}, dt);
        auto x3 = g.input("x3", {3, 5, 4, 7}, dt), w3 = g.input("w3", {5}, dt);
        auto it = g.input("t", {13}, DType::i32), it2 = g.input("t2", {13}, DType::i32);
        auto it3 = g.input("t3", {3, 4, 7}, DType::i32);
        for (const char *reduction : {"mean", "sum", "none"}) {
            const std::string r = reduction;
            g.output("ce_" + r, cross_entropy(x, it, {.reduction = r, .weight = w}));
            g.output("ce_smooth_" + r,
                     cross_entropy(x, it2, {.reduction = r, .ignore_index = 2, .label_smoothing = 0.2, .weight = w}));
            g.output("ce3_" + r, cross_entropy(x3, it3, {.reduction = r, .label_smoothing = 0.1, .weight = w3}));
            g.output("nll_" + r, nll_loss(l, it2, {.reduction = r, .ignore_index = 2, .weight = w}));
        }
        const std::map<std::string, Tensor> feeds = {{"x", logits}, {"w", weight}, {"lp", lp}, {"x3", logits3},
                                                     {"w3", weight3}, {"t", t}, {"t2", t2}, {"t3", t3}};
        for (const char *schedule : kSchedules) {
            INFO(schedule);
            auto out = g.compile(with_schedule(schedule)).run(feeds);
            const double tol = tolerance(dt, 13 * 7);
            for (const char *reduction : {"mean", "sum", "none"}) {
                INFO(reduction);
                const std::string r = reduction;
                CHECK_CLOSE(out.at("ce_" + r), ref::cross_entropy(logits, t, r, -100, 0.0, weight), dt, tol);
                CHECK_CLOSE(out.at("ce_smooth_" + r), ref::cross_entropy(logits, t2, r, 2, 0.2, weight), dt, tol);
                CHECK_CLOSE(out.at("ce3_" + r), ref::cross_entropy(logits3, t3, r, -100, 0.1, weight3), dt,
                            tolerance(dt, 84 * 5));
                CHECK_CLOSE(out.at("nll_" + r), ref::nll_loss(lp, t2, r, 2, weight), dt, tol);
            }
        }
    }
}

TEST_CASE("class weights and pos_weight may be fixed graph values rather than inputs", "[ops][torch_args][losses]") {
    // How a training loss holds them: a parameter that no optimizer sees, or a constant.
    Generator gen(2006);
    const Tensor logits = Tensor::randn({6, 3}, gen, DType::f32, 0.0, 2.0), t = testing::random_classes({6}, 3, gen);
    const Tensor weight = Tensor::from_vector<float>({1.0F, 5.0F, 20.0F}, {3});
    const Tensor probs = testing::rand({6, 3}, DType::f32, gen, 0.0, 1.0);
    Graph g;
    auto x = g.input("x", {6, 3}), it = g.input("t", {6}, DType::i32), p = g.input("p", {6, 3});
    g.output("ce", cross_entropy(x, it, {.weight = g.parameter("class_weight", weight)}));
    g.output("bce", binary_cross_entropy_with_logits(x, p, {.pos_weight = g.constant(20.0, {1})}));
    auto out = g.compile().run({{"x", logits}, {"t", t}, {"p", probs}});
    CHECK_CLOSE(out.at("ce"), ref::cross_entropy(logits, t, "mean", -100, 0.0, weight), DType::f32,
                tolerance(DType::f32, 18));
    CHECK_CLOSE(out.at("bce"),
                ref::binary_cross_entropy_with_logits(logits, probs, "mean", {}, Tensor::full({1}, 20.0, DType::f32)),
                DType::f32, tolerance(DType::f32, 18));
}

TEST_CASE("a weighted mean is a ratio of weights, not of counts", "[ops][torch_args][losses]") {
    // Worked example: two samples, classes weighted 1 and 3, -log p = 2 and 4
    // for their targets. PyTorch: (1 * 2 + 3 * 4) / (1 + 3) = 3.5 (not 7, the unweighted-count mean).
    const Tensor lp = Tensor::from_vector<double>({-2.0, -9.0, -9.0, -4.0}, {2, 2});
    const Tensor t = Tensor::from_vector<int32_t>({0, 1}, {2});
    const Tensor w = Tensor::from_vector<double>({1.0, 3.0}, {2});
    Graph g;
    auto l = g.input("lp", {2, 2}, DType::f64), it = g.input("t", {2}, DType::i32), iw = g.input("w", {2}, DType::f64);
    g.output("mean", nll_loss(l, it, {.weight = iw}));
    g.output("sum", nll_loss(l, it, {.reduction = "sum", .weight = iw}));
    auto out = g.compile().run({{"lp", lp}, {"t", t}, {"w", w}});
    CHECK(out.at("mean").item() == 3.5);
    CHECK(out.at("sum").item() == 14.0);
}

TEST_CASE("a weighted mean over only ignored or zero-weight targets is NaN, as in PyTorch",
          "[ops][torch_args][losses]") {
    const Tensor logits = Tensor::ones({3, 4}, DType::f64);
    const Tensor ignored = Tensor::full({3}, -100, DType::i32), class0 = Tensor::zeros({3}, DType::i32);
    const Tensor w = Tensor::from_vector<double>({0.0, 1.0, 2.0, 3.0}, {4});
    Graph g;
    auto x = g.input("x", {3, 4}, DType::f64), iw = g.input("w", {4}, DType::f64);
    auto it = g.input("t", {3}, DType::i32);
    g.output("ce", cross_entropy(x, it, {.weight = iw}));
    g.output("nll", nll_loss(log_softmax(x, 1), it, {.weight = iw}));
    for (const Tensor &t : {ignored, class0}) {
        auto out = g.compile().run({{"x", logits}, {"w", w}, {"t", t}});
        CHECK(std::isnan(out.at("ce").item()));
        CHECK(std::isnan(out.at("nll").item()));
        CHECK(std::isnan(ref::cross_entropy(logits, t, "mean", -100, 0.0, w).item()));
    }
}

TEST_CASE("binary_cross_entropy_with_logits with weight and pos_weight", "[ops][torch_args][losses]") {
    Generator gen(2003);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        Tensor logits = Tensor::randn({5, 13}, gen, dt, 0.0, 3.0);
        for (int64_t i = 0; i < 13; ++i) logits.set_flat(i, i % 2 ? 40.0 - i : -40.0 + i);  // stable at +-40
        const Tensor probs = testing::rand({5, 13}, dt, gen, 0.0, 1.0);
        const Tensor pos = testing::rand({13}, dt, gen, 0.5, 8.0), row = testing::rand({5, 1}, dt, gen, 0.0, 2.0);
        const Tensor full = testing::rand({5, 13}, dt, gen, 0.0, 2.0);
        Graph g;
        auto l = g.input("l", {5, 13}, dt), p = g.input("p", {5, 13}, dt);
        auto pw = g.input("pos", {13}, dt), wr = g.input("row", {5, 1}, dt), wf = g.input("full", {5, 13}, dt);
        for (const char *reduction : {"mean", "sum", "none"}) {
            const std::string r = reduction;
            g.output("pos_" + r, binary_cross_entropy_with_logits(l, p, {.reduction = r, .pos_weight = pw}));
            g.output("row_" + r, binary_cross_entropy_with_logits(l, p, {.reduction = r, .weight = wr}));
            g.output("both_" + r,
                     binary_cross_entropy_with_logits(l, p, {.reduction = r, .weight = wf, .pos_weight = pw}));
        }
        const std::map<std::string, Tensor> feeds = {
            {"l", logits}, {"p", probs}, {"pos", pos}, {"row", row}, {"full", full}};
        for (const char *schedule : kSchedules) {
            INFO(schedule);
            auto out = g.compile(with_schedule(schedule)).run(feeds);
            const double tol = tolerance(dt, 65);
            for (const char *reduction : {"mean", "sum", "none"}) {
                INFO(reduction);
                const std::string r = reduction;
                CHECK_CLOSE(out.at("pos_" + r), ref::binary_cross_entropy_with_logits(logits, probs, r, {}, pos), dt,
                            tol);
                CHECK_CLOSE(out.at("row_" + r), ref::binary_cross_entropy_with_logits(logits, probs, r, row), dt,
                            tol);
                CHECK_CLOSE(out.at("both_" + r),
                            ref::binary_cross_entropy_with_logits(logits, probs, r, full, pos), dt, tol);
            }
        }
    }
}

TEST_CASE("avg_pool divisor_override divides every window by one number", "[ops][torch_args][pool]") {
    Generator gen(2004);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor x1 = testing::randn({2, 3, 17}, dt, gen), x2 = testing::randn({2, 3, 7, 13}, dt, gen);
        Graph g;
        auto i1 = g.input("x1", {2, 3, 17}, dt), i2 = g.input("x2", {2, 3, 7, 13}, dt);
        g.output("d1", avg_pool1d(i1, {4}, {.stride = {3}, .padding = {2}, .ceil_mode = true, .divisor_override = 3}));
        g.output("d2", avg_pool2d(i2, {3, 4}, {.stride = {2, 3}, .padding = {1, 2}, .divisor_override = 5}));
        g.output("d2_exclude",
                 avg_pool2d(i2, {3}, {.stride = {2}, .padding = {1}, .ceil_mode = true, .count_include_pad = false,
                                      .divisor_override = -2}));
        // 7x7 windows: more taps than the unrolled form, so the reduction form runs too.
        g.output("d2_large", avg_pool2d(i2, {5, 7}, {.stride = {1, 2}, .divisor_override = 1}));
        using P = ref::PoolArgs;
        for (const char *schedule : kSchedules) {
            INFO(schedule);
            auto out = g.compile(with_schedule(schedule)).run({{"x1", x1}, {"x2", x2}});
            const double tol = tolerance(dt, 35);
            CHECK_CLOSE(out.at("d1"), ref::avg_pool1d(x1, P{{4}, {3}, {2}, {}, true, true, 3}), dt, tol);
            CHECK_CLOSE(out.at("d2"), ref::avg_pool2d(x2, P{{3, 4}, {2, 3}, {1, 2}, {}, false, true, 5}), dt, tol);
            CHECK_CLOSE(out.at("d2_exclude"), ref::avg_pool2d(x2, P{{3, 3}, {2, 2}, {1, 1}, {}, true, false, -2}), dt,
                        tol);
            CHECK_CLOSE(out.at("d2_large"), ref::avg_pool2d(x2, P{{5, 7}, {1, 2}, {0, 0}, {}, false, true, 1}), dt,
                        tol);
        }
    }
}

TEST_CASE("max_pool with indices and max_unpool", "[ops][torch_args][pool]") {
    Generator gen(2005);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor x1 = testing::randn({2, 3, 17}, dt, gen), x2 = testing::randn({2, 3, 7, 9}, dt, gen);
        Graph g;
        auto i1 = g.input("x1", {2, 3, 17}, dt), i2 = g.input("x2", {2, 3, 7, 9}, dt);
        // SegNet's pair: kernel = stride, unpooled to the input's size.
        const MaxPoolWithIndices p1 = max_pool1d_with_indices(i1, {2});
        const MaxPoolWithIndices p2 = max_pool2d_with_indices(i2, {2});
        g.output("p1", p1.output);
        g.output("i1", p1.indices);
        g.output("i2", p2.indices);
        g.output("u1", max_unpool1d(p1.output, p1.indices, {2}, {.output_size = {17}}));
        g.output("u2", max_unpool2d(p2.output, p2.indices, {2}, {.output_size = {7, 9}}));
        // Overlapping windows with padding (an element can be two windows' max), and ceil_mode / dilation.
        const MaxPoolWithIndices o2 = max_pool2d_with_indices(i2, {3}, {.stride = {2}, .padding = {1}});
        g.output("io2", o2.indices);
        g.output("uo2", max_unpool2d(o2.output, o2.indices, {3}, {.stride = {2}, .padding = {1}}));
        g.output("ic1", max_pool1d_with_indices(i1, {3}, {.stride = {2}, .padding = {1}, .dilation = {2},
                                                          .ceil_mode = true}).indices);
        g.output("ic2", max_pool2d_with_indices(i2, {2, 3}, {.stride = {2}, .ceil_mode = true}).indices);
        using P = ref::PoolArgs;
        for (const char *schedule : kSchedules) {
            INFO(schedule);
            auto out = g.compile(with_schedule(schedule)).run({{"x1", x1}, {"x2", x2}});
            const Tensor ri1 = ref::max_pool1d_indices(x1, P{{2}, {2}, {0}, {1}}),
                         ri2 = ref::max_pool2d_indices(x2, P{{2, 2}, {2, 2}, {0, 0}, {1, 1}});
            CHECK(out.at("i1").dtype() == DType::i32);
            CHECK_EXACT(out.at("i1"), ri1);
            CHECK_EXACT(out.at("i2"), ri2);
            CHECK_CLOSE(out.at("p1"), ref::max_pool1d(x1, P{{2}, {2}, {0}, {1}}), dt, 0);
            CHECK_CLOSE(out.at("u1"), ref::max_unpool(ref::max_pool1d(x1, P{{2}, {2}, {0}, {1}}), ri1, {17}), dt, 0);
            CHECK_CLOSE(out.at("u2"),
                        ref::max_unpool(ref::max_pool2d(x2, P{{2, 2}, {2, 2}, {0, 0}, {1, 1}}), ri2, {7, 9}), dt, 0);
            const P overlapping{{3, 3}, {2, 2}, {1, 1}, {1, 1}};
            const Tensor rio2 = ref::max_pool2d_indices(x2, overlapping);
            CHECK_EXACT(out.at("io2"), rio2);
            // Pooled 4 x 5, so PyTorch's default size is (4 - 1) * 2 - 2 + 3 = 7 by (5 - 1) * 2 - 2 + 3 = 9.
            CHECK_CLOSE(out.at("uo2"), ref::max_unpool(ref::max_pool2d(x2, overlapping), rio2, {7, 9}), dt, 0);
            CHECK_EXACT(out.at("ic1"), ref::max_pool1d_indices(x1, P{{3}, {2}, {1}, {2}, true}));
            CHECK_EXACT(out.at("ic2"), ref::max_pool2d_indices(x2, P{{2, 3}, {2, 2}, {0, 0}, {1, 1}, true}));
        }
    }
}

TEST_CASE("max_pool indices pick the first of tied maxima and the last NaN, as PyTorch", "[ops][torch_args][pool]") {
    // Window 0: a tie of 5s at positions 1 and 2; window 1: NaNs at 4 and 6; window 2: all -inf.
    const double nan = std::nan(""), inf = INFINITY;
    const Tensor xv = Tensor::from_vector<double>({1, 5, 5, 0, nan, 9, nan, 2, -inf, -inf, -inf, -inf}, {1, 1, 12});
    Graph g;
    auto x = g.input("x", {1, 1, 12}, DType::f64);
    g.output("i", max_pool1d_with_indices(x, {4}).indices);
    g.output("unbatched", max_pool1d_with_indices(reshape(x, {1, 12}), {4}).indices);
    auto out = g.compile().run({{"x", xv}});
    CHECK_EXACT(out.at("i"), Tensor::from_vector<int32_t>({1, 6, 8}, {1, 1, 3}));
    CHECK_EXACT(out.at("unbatched"), Tensor::from_vector<int32_t>({1, 6, 8}, {1, 3}));
}

// ---- user errors ----

TEST_CASE("alpha that PyTorch rejects for integer or bool tensors is named", "[ops][torch_args][errors]") {
    Graph g;
    auto a = g.input("a", {4}, DType::i32), c = g.input("c", {4}, DType::boolean);
    REQUIRE_THROWS_WITH(add(a, a, 0.5), Contains("add") && Contains("alpha") && Contains("0.5"));
    REQUIRE_THROWS_WITH(sub(a, a, 3e9), Contains("sub") && Contains("i32 range") && Contains("3000000000"));
    REQUIRE_THROWS_WITH(add(c, c, 2), Contains("add") && Contains("bool") && Contains("2"));
}

TEST_CASE("a class weight of the wrong shape or dtype is named", "[ops][torch_args][errors]") {
    Graph g;
    auto x = g.input("x", {4, 3});
    auto t = g.input("t", {4}, DType::i32);
    REQUIRE_THROWS_WITH(cross_entropy(x, t, {.weight = g.input("w4", {4})}),
                        Contains("cross_entropy") && Contains("all 3 classes") && Contains("[4]"));
    REQUIRE_THROWS_WITH(nll_loss(x, t, {.weight = g.input("w2", {1, 3})}),
                        Contains("nll_loss") && Contains("all 3 classes") && Contains("[1, 3]"));
    REQUIRE_THROWS_WITH(cross_entropy(x, t, {.weight = g.input("w64", {3}, DType::f64)}),
                        Contains("cross_entropy") && Contains("f32") && Contains("f64"));
}

TEST_CASE("BCE weights that do not broadcast to the input are named", "[ops][torch_args][errors]") {
    Graph g;
    auto x = g.input("x", {4, 3}), y = g.input("y", {4, 3});
    REQUIRE_THROWS_WITH(binary_cross_entropy_with_logits(x, y, {.weight = g.input("w", {4})}),
                        Contains("binary_cross_entropy_with_logits") && Contains("weight") && Contains("[4]") &&
                            Contains("[4, 3]"));
    REQUIRE_THROWS_WITH(binary_cross_entropy_with_logits(x, y, {.pos_weight = g.input("p", {2, 4, 3})}),
                        Contains("pos_weight") && Contains("[2, 4, 3]"));
    REQUIRE_THROWS_WITH(binary_cross_entropy_with_logits(x, y, {.pos_weight = g.input("p64", {3}, DType::f64)}),
                        Contains("pos_weight") && Contains("f64"));
}

TEST_CASE("divisor_override zero is rejected, as in PyTorch", "[ops][torch_args][errors]") {
    Graph g;
    auto x = g.input("x", {1, 1, 4, 4});
    REQUIRE_THROWS_WITH(avg_pool2d(x, {2}, {.divisor_override = 0}),
                        Contains("avg_pool2d") && Contains("divisor_override") && Contains("zero"));
}

TEST_CASE("the new arguments give PyTorch's own numbers and gradients", "[ops][torch_args][pytorch]") {
    namespace want = torch_args_expected;
    const double tol = 1e-12;
    // cross_entropy and nll_loss: logits [6, 5], class weight 0.5 + 0.3 c, target (3 i + 1) % 5 with row 2 ignored.
    const Tensor logits = wave({6, 5}, 0.7, 0.3, 2.0);
    Tensor weight = Tensor::empty({5}, DType::f64), target = Tensor::empty({6}, DType::i32);
    for (int64_t c = 0; c < 5; ++c) weight.set_flat(c, 0.5 + 0.3 * static_cast<double>(c));
    for (int64_t i = 0; i < 6; ++i) target.set_flat(i, static_cast<double>((3 * i + 1) % 5));
    target.set_flat(2, -100);
    // BCE: logits 4 sin(1.3 i + 0.1), targets in [0, 1], weight [6, 1], pos_weight [5].
    const Tensor x = wave({6, 5}, 1.3, 0.1, 4.0);
    Tensor y = wave({6, 5}, 0.9, 0.7, 0.5), bce_weight = Tensor::empty({6, 1}, DType::f64);
    Tensor pos_weight = Tensor::empty({5}, DType::f64);
    for (int64_t i = 0; i < y.numel(); ++i) y.set_flat(i, std::min(1.0, std::max(0.0, y.get_flat(i) + 0.5)));
    for (int64_t r = 0; r < 6; ++r) bce_weight.set_flat(r, 0.25 + 0.5 * static_cast<double>(r));
    for (int64_t c = 0; c < 5; ++c) pos_weight.set_flat(c, 1.0 + static_cast<double>(c));
    const Tensor image = wave({1, 2, 5, 6}, 0.45, 0.2, 1.0);
    const Tensor a = wave({2, 3}, 0.5, 0.0, 1.0), b = wave({3}, 1.1, 0.4, 1.0);

    Graph g;
    const DType f64 = DType::f64;
    auto il = g.input("logits", {6, 5}, f64), iw = g.input("weight", {5}, f64), it = g.input("target", {6}, DType::i32);
    auto ix = g.input("x", {6, 5}, f64), iy = g.input("y", {6, 5}, f64), ibw = g.input("bce_weight", {6, 1}, f64);
    auto ipw = g.input("pos_weight", {5}, f64), image_in = g.input("image", {1, 2, 5, 6}, f64);
    auto ia = g.input("a", {2, 3}, f64), ib = g.input("b", {3}, f64);
    for (const char *reduction : {"mean", "sum", "none"}) {
        const std::string r = reduction;
        for (double smoothing : {0.0, 0.2}) {
            const std::string tag = "ce_" + r + "_" + std::to_string(static_cast<int>(smoothing * 10));
            SymTensor loss = cross_entropy(il, it, {.reduction = r, .label_smoothing = smoothing, .weight = iw});
            g.output(tag, loss);
            g.output(tag + "_grad", grad(sum(loss), {il})[0]);
        }
        g.output("nll_" + r, nll_loss(log_softmax(il, 1), it, {.reduction = r, .weight = iw}));
        SymTensor bce = binary_cross_entropy_with_logits(ix, iy, {.reduction = r, .weight = ibw, .pos_weight = ipw});
        g.output("bce_" + r, bce);
        g.output("bce_" + r + "_grad", grad(sum(bce), {ix})[0]);
    }
    SymTensor pooled =
        avg_pool2d(image_in, {3}, {.stride = {2}, .padding = {1}, .ceil_mode = true, .divisor_override = 4});
    g.output("avg_pool2d_div4", pooled);
    g.output("avg_pool2d_div4_grad", grad(sum(pooled * pooled), {image_in})[0]);
    const MaxPoolWithIndices max_pooled =
        max_pool2d_with_indices(image_in, {3}, {.stride = {2}, .padding = {1}});
    SymTensor unpooled = max_unpool2d(max_pooled.output * 2.0, max_pooled.indices, {3},
                                      {.stride = {2}, .padding = {1}, .output_size = {5, 6}});
    g.output("max_pool2d_indices", cast(max_pooled.indices, f64));  // PyTorch's are int64
    g.output("max_unpool2d", unpooled);
    g.output("max_unpool2d_grad", grad(sum(unpooled * unpooled), {image_in})[0]);
    g.output("add_alpha", add(ia, ib, 2.5));
    g.output("sub_alpha", sub(ia, ib, -0.75));
    auto out = g.compile().run({{"logits", logits}, {"weight", weight}, {"target", target}, {"x", x}, {"y", y},
                                {"bce_weight", bce_weight}, {"pos_weight", pos_weight}, {"image", image},
                                {"a", a}, {"b", b}});

    const std::map<std::string, const std::vector<double> *> fixtures = {
        {"ce_mean_0", &want::ce_mean_0}, {"ce_mean_0_grad", &want::ce_mean_0_grad},
        {"ce_mean_2", &want::ce_mean_2}, {"ce_mean_2_grad", &want::ce_mean_2_grad},
        {"ce_sum_0", &want::ce_sum_0},   {"ce_sum_0_grad", &want::ce_sum_0_grad},
        {"ce_sum_2", &want::ce_sum_2},   {"ce_sum_2_grad", &want::ce_sum_2_grad},
        {"ce_none_0", &want::ce_none_0}, {"ce_none_0_grad", &want::ce_none_0_grad},
        {"ce_none_2", &want::ce_none_2}, {"ce_none_2_grad", &want::ce_none_2_grad},
        {"nll_mean", &want::nll_mean},   {"nll_sum", &want::nll_sum},
        {"nll_none", &want::nll_none},   {"bce_mean", &want::bce_mean},
        {"bce_mean_grad", &want::bce_mean_grad}, {"bce_sum", &want::bce_sum},
        {"bce_sum_grad", &want::bce_sum_grad},   {"bce_none", &want::bce_none},
        {"bce_none_grad", &want::bce_none_grad}, {"avg_pool2d_div4", &want::avg_pool2d_div4},
        {"avg_pool2d_div4_grad", &want::avg_pool2d_div4_grad}, {"add_alpha", &want::add_alpha},
        {"max_pool2d_indices", &want::max_pool2d_indices}, {"max_unpool2d", &want::max_unpool2d},
        {"max_unpool2d_grad", &want::max_unpool2d_grad},
        {"sub_alpha", &want::sub_alpha}};
    for (const auto &[name, values] : fixtures) {
        INFO(name);
        const Tensor &actual = out.at(name);
        CHECK_CLOSE(actual, expected(*values, actual.shape()), f64, tol);
    }
}

TEST_CASE("a max_unpool index outside its window fails the run, naming it", "[ops][torch_args][errors]") {
    Graph g;
    auto x = g.input("x", {1, 1, 2, 2}, DType::f64), idx = g.input("i", {1, 1, 2, 2}, DType::i32);
    g.output("u", max_unpool2d(x, idx, {2}));
    const Tensor xv = Tensor::ones({1, 1, 2, 2}, DType::f64);
    // Planes of 4 x 4: window (0, 1) covers rows 0-1, columns 2-3.
    Tensor indices = Tensor::from_vector<int32_t>({0, 2, 8, 15}, {1, 1, 2, 2});
    CHECK_NOTHROW(g.compile().run({{"x", xv}, {"i", indices}}));
    for (int bad : {4, 16, -1}) {
        INFO("index " << bad);
        indices.set_flat(1, bad);
        const std::string message = testing::error_message([&] { g.compile().run({{"x", xv}, {"i", indices}}); });
        CHECK_THAT(message,
                   Contains(fmt::format("{} is not a max_unpool index of its window at position [ 0 , 0 , 0 , 1 ]", bad)) &&
                       Contains("kernel_size [2,2], stride [2,2], padding [0,0]"));
    }
}

TEST_CASE("bad max_unpool arguments are named", "[ops][torch_args][errors]") {
    Graph g;
    auto x = g.input("x", {1, 2, 3, 3}), idx = g.input("i", {1, 2, 3, 3}, DType::i32);
    REQUIRE_THROWS_WITH(max_unpool2d(x, g.input("f", {1, 2, 3, 3}), {2}),
                        Contains("max_unpool2d") && Contains("i32") && Contains("f32"));
    REQUIRE_THROWS_WITH(max_unpool2d(x, g.input("j", {1, 2, 3, 2}, DType::i32), {2}),
                        Contains("max_unpool2d") && Contains("[1, 2, 3, 2]") && Contains("[1, 2, 3, 3]"));
    // (3 - 1) * 2 + 2 = 6: a size must lie in (4, 8).
    REQUIRE_THROWS_WITH(max_unpool2d(x, idx, {2}, {.output_size = {8, 6}}),
                        Contains("max_unpool2d") && Contains("output_size") && Contains("5") && Contains("7"));
    CHECK_NOTHROW(max_unpool2d(x, idx, {2}, {.output_size = {1, 2, 7, 5}}));
    REQUIRE_THROWS_WITH(max_unpool2d(x, idx, {2}, {.stride = {INT64_MAX / 2}}),
                        Contains("max_unpool2d") && Contains("overflows"));
    // An output plane an i32 index cannot address.
    REQUIRE_THROWS_WITH(max_unpool2d(x, idx, {2}, {.stride = {40000}}),
                        Contains("max_unpool2d") && Contains("i32 index"));
}
