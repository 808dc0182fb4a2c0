// Convolutions against the naive reference: conv1d/conv2d with stride,
// padding (numbers, asymmetric, "same", "valid", every padding mode),
// dilation, groups and bias; the transposed convolutions; a large case that
// the default schedule tiles and parallelises; the seed's 16-tap worked
// example; and the user errors of the conv API.

#include "tests/op_test_helpers.h"

using namespace strata;
namespace ref = strata::reference;
using Catch::Contains;
using testing::float_dtypes;
using testing::tolerance;

namespace {

/// Reference arguments for one spatial dim.
ref::ConvArgs args1(int64_t stride, int64_t lo, int64_t hi, int64_t dilation, int64_t groups = 1,
                    const std::string &mode = "zeros") {
    return {{stride}, {lo}, {hi}, {dilation}, groups, mode};
}

}  // namespace

TEST_CASE("conv1d: stride, padding, dilation, groups, bias and padding modes", "[ops][conv]") {
    Generator gen(10);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({2, 6, 29}, dt, gen);
        const Tensor w1 = testing::randn({5, 6, 4}, dt, gen), b1 = testing::randn({5}, dt, gen);
        const Tensor w3 = testing::randn({9, 2, 5}, dt, gen), b3 = testing::randn({9}, dt, gen);
        const Tensor w4 = testing::randn({4, 6, 4}, dt, gen);
        Graph g;
        auto x = g.input("x", {2, 6, 29}, dt);
        auto pw1 = g.parameter("w1", w1), pb1 = g.parameter("b1", b1);
        auto pw3 = g.parameter("w3", w3), pb3 = g.parameter("b3", b3), pw4 = g.parameter("w4", w4);
        g.output("strided", conv1d(x, pw1, pb1, {.stride = {2}, .padding = 3, .dilation = {2}}));
        g.output("groups_same", conv1d(x, pw3, pb3, {.padding = "same", .dilation = {2}, .groups = 3}));
        g.output("same_even", conv1d(x, pw4, {}, {.padding = "same"}));  // total 3: 1 left, 2 right
        g.output("valid", conv1d(x, pw4, {}, {.stride = {3}, .padding = "valid"}));
        g.output("reflect", conv1d(x, pw1, pb1, {.padding = 2, .padding_mode = "reflect"}));
        g.output("replicate", conv1d(x, pw4, {}, {.stride = {2}, .padding = 3, .padding_mode = "replicate"}));
        g.output("circular", conv1d(x, pw3, {}, {.padding = 4, .groups = 3, .padding_mode = "circular"}));
        auto out = g.compile().run({{"x", xv}});
        const double tol = tolerance(dt, 24);
        CHECK_CLOSE(out.at("strided"), ref::conv1d(xv, w1, b1, args1(2, 3, 3, 2)), dt, tol);
        ref::Ints lo, hi;
        ref::same_padding({5}, {2}, &lo, &hi);
        CHECK((lo == ref::Ints{4} && hi == ref::Ints{4}));
        CHECK_CLOSE(out.at("groups_same"), ref::conv1d(xv, w3, b3, args1(1, 4, 4, 2, 3)), dt, tol);
        ref::same_padding({4}, {1}, &lo, &hi);
        CHECK((lo == ref::Ints{1} && hi == ref::Ints{2}));
        CHECK_CLOSE(out.at("same_even"), ref::conv1d(xv, w4, {}, args1(1, 1, 2, 1)), dt, tol);
        CHECK_CLOSE(out.at("valid"), ref::conv1d(xv, w4, {}, args1(3, 0, 0, 1)), dt, tol);
        CHECK_CLOSE(out.at("reflect"), ref::conv1d(xv, w1, b1, args1(1, 2, 2, 1, 1, "reflect")), dt, tol);
        CHECK_CLOSE(out.at("replicate"), ref::conv1d(xv, w4, {}, args1(2, 3, 3, 1, 1, "replicate")), dt, tol);
        CHECK_CLOSE(out.at("circular"), ref::conv1d(xv, w3, {}, args1(1, 4, 4, 1, 3, "circular")), dt, tol);
    }
}

TEST_CASE("conv1d of an unbatched (C, L) input drops the batch dim again", "[ops][conv]") {
    Generator gen(11);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({3, 13}, dt, gen), w = testing::randn({2, 3, 3}, dt, gen);
        Graph g;
        auto x = g.input("x", {3, 13}, dt);
        g.output("y", conv1d(x, g.parameter("w", w), {}, {.padding = 1}));
        const Tensor y = g.compile().run(xv);
        const Tensor expected = ref::conv1d(ref::reshape(xv, {1, 3, 13}), w, {}, args1(1, 1, 1, 1));
        CHECK_CLOSE(y, ref::reshape(expected, {2, 13}), dt, tolerance(dt, 9));
    }
}

TEST_CASE("conv2d: per-dim stride, padding, dilation, groups and padding modes", "[ops][conv]") {
    Generator gen(12);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({2, 4, 7, 13}, dt, gen);
        const Tensor wa = testing::randn({3, 4, 3, 2}, dt, gen), ba = testing::randn({3}, dt, gen);
        const Tensor wg = testing::randn({6, 2, 3, 3}, dt, gen), bg = testing::randn({6}, dt, gen);
        const Tensor wd = testing::randn({4, 1, 2, 4}, dt, gen);  // depthwise, even kernel
        Graph g;
        auto x = g.input("x", {2, 4, 7, 13}, dt);
        auto pa = g.parameter("wa", wa), pba = g.parameter("ba", ba), pg = g.parameter("wg", wg);
        auto pbg = g.parameter("bg", bg), pd = g.parameter("wd", wd);
        g.output("strided", conv2d(x, pa, pba, {.stride = {2, 1}, .padding = {1, 0}, .dilation = {1, 2}}));
        g.output("groups", conv2d(x, pg, pbg, {.stride = {2}, .padding = 1, .groups = 2}));
        g.output("depthwise_same", conv2d(x, pd, {}, {.padding = "same", .dilation = {2, 1}, .groups = 4}));
        g.output("asymmetric", conv2d(x, pa, {}, {.padding = {0, 2, 1, 0}}));
        g.output("reflect", conv2d(x, pg, {}, {.padding = {2, 1}, .groups = 2, .padding_mode = "reflect"}));
        g.output("replicate",
                 conv2d(x, pa, pba, {.stride = {1, 3}, .padding = 2, .padding_mode = "replicate"}));
        g.output("circular", conv2d(x, pd, {}, {.padding = {1, 3}, .groups = 4, .padding_mode = "circular"}));
        auto out = g.compile().run({{"x", xv}});
        const double tol = tolerance(dt, 24);
        using A = ref::ConvArgs;
        CHECK_CLOSE(out.at("strided"), ref::conv2d(xv, wa, ba, A{{2, 1}, {1, 0}, {1, 0}, {1, 2}, 1, "zeros"}),
                    dt, tol);
        CHECK_CLOSE(out.at("groups"), ref::conv2d(xv, wg, bg, A{{2, 2}, {1, 1}, {1, 1}, {1, 1}, 2, "zeros"}),
                    dt, tol);
        // 'same' with dilation (2, 1) and kernel (2, 4): totals 2 and 3.
        A same{{1, 1}, {}, {}, {2, 1}, 4, "zeros"};
        ref::same_padding({2, 4}, {2, 1}, &same.padding_lo, &same.padding_hi);
        CHECK((same.padding_lo == ref::Ints{1, 1} && same.padding_hi == ref::Ints{1, 2}));
        CHECK_CLOSE(out.at("depthwise_same"), ref::conv2d(xv, wd, {}, same), dt, tol);
        CHECK_CLOSE(out.at("asymmetric"),
                    ref::conv2d(xv, wa, {}, A{{1, 1}, {0, 1}, {2, 0}, {1, 1}, 1, "zeros"}), dt, tol);
        CHECK_CLOSE(out.at("reflect"),
                    ref::conv2d(xv, wg, {}, A{{1, 1}, {2, 1}, {2, 1}, {1, 1}, 2, "reflect"}), dt, tol);
        CHECK_CLOSE(out.at("replicate"),
                    ref::conv2d(xv, wa, ba, A{{1, 3}, {2, 2}, {2, 2}, {1, 1}, 1, "replicate"}), dt, tol);
        CHECK_CLOSE(out.at("circular"),
                    ref::conv2d(xv, wd, {}, A{{1, 1}, {1, 3}, {1, 3}, {1, 1}, 4, "circular"}), dt, tol);
    }
}

TEST_CASE("a large conv2d is tiled and parallelised with the same numbers", "[ops][conv]") {
    // N=2, C 8 -> 16 at 33x35: enough work for the default schedule's threads and tiles.
    Generator gen(13);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({2, 8, 33, 35}, dt, gen);
        const Tensor w = testing::randn({16, 8, 3, 3}, dt, gen), b = testing::randn({16}, dt, gen);
        Graph g;
        auto x = g.input("x", {2, 8, 33, 35}, dt);
        auto pw = g.parameter("w", w), pb = g.parameter("b", b);
        g.output("same", conv2d(x, pw, pb, {.padding = 1}));
        g.output("strided", conv2d(x, pw, {}, {.stride = {2}, .dilation = {2}}));
        auto out = g.compile().run({{"x", xv}});
        using A = ref::ConvArgs;
        CHECK_CLOSE(out.at("same"), ref::conv2d(xv, w, b, A{{1, 1}, {1, 1}, {1, 1}, {1, 1}, 1, "zeros"}), dt,
                    tolerance(dt, 72));
        CHECK_CLOSE(out.at("strided"), ref::conv2d(xv, w, {}, A{{2, 2}, {0, 0}, {0, 0}, {2, 2}, 1, "zeros"}),
                    dt, tolerance(dt, 72));
    }
}

TEST_CASE("long 1-d convs with a 16-tap kernel are tiled and parallelised", "[ops][conv]") {
    // Seismogram-like: 1029 samples, 16 taps, strides 1 and 4, and one input channel.
    Generator gen(15);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({2, 4, 1029}, dt, gen), x1 = testing::randn({3, 1, 1029}, dt, gen);
        const Tensor w = testing::randn({8, 4, 16}, dt, gen), b = testing::randn({8}, dt, gen);
        const Tensor w1 = testing::randn({8, 1, 16}, dt, gen);
        Graph g;
        auto x = g.input("x", {2, 4, 1029}, dt), i1 = g.input("x1", {3, 1, 1029}, dt);
        auto pw = g.parameter("w", w), pb = g.parameter("b", b), pw1 = g.parameter("w1", w1);
        g.output("s1", conv1d(x, pw, pb, {.padding = "same"}));
        g.output("s4", conv1d(x, pw, {}, {.stride = {4}, .padding = 5}));
        g.output("c1", conv1d(i1, pw1, {}, {.stride = {2}, .dilation = {3}}));
        // Several channel tiles and many images: one task per image, which
        // splits its samples by phase in cache.
        const Tensor xb = testing::randn({64, 4, 259}, dt, gen), wb = testing::randn({32, 4, 16}, dt, gen);
        auto ib = g.input("xb", {64, 4, 259}, dt);
        g.output("s4_batch", conv1d(ib, g.parameter("wb", wb), {}, {.stride = {4}, .padding = 5}));
        auto out = g.compile().run({{"x", xv}, {"x1", x1}, {"xb", xb}});
        CHECK_CLOSE(out.at("s4_batch"), ref::conv1d(xb, wb, {}, args1(4, 5, 5, 1)), dt, tolerance(dt, 64));
        CHECK_CLOSE(out.at("s1"), ref::conv1d(xv, w, b, args1(1, 7, 8, 1)), dt, tolerance(dt, 64));
        CHECK_CLOSE(out.at("s4"), ref::conv1d(xv, w, {}, args1(4, 5, 5, 1)), dt, tolerance(dt, 64));
        CHECK_CLOSE(out.at("c1"), ref::conv1d(x1, w1, {}, args1(2, 0, 0, 3)), dt, tolerance(dt, 16));
    }
}

TEST_CASE("stride-1 conv2d and conv_transpose2d over rows laid end to end (the flattened-rows form)",
          "[ops][conv]") {
    // Rows of 19-23 outputs are not a whole number of vector tiles, so the CPU
    // default computes over the padded rows flattened: padding, dilation,
    // groups, bias, odd kernels. A batch of 64 images (more than two per
    // thread) gives each image its own task, which pads it in cache.
    Generator gen(15);
    for (const int64_t batch : {2, 64})
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt) << " batch " << batch);
        const Tensor xv = testing::randn({batch, 6, 9, 21}, dt, gen);
        const Tensor w = testing::randn({4, 3, 3, 4}, dt, gen), b = testing::randn({4}, dt, gen);
        const Tensor wt = testing::randn({6, 2, 2, 3}, dt, gen), bt = testing::randn({6}, dt, gen);
        Graph g;
        auto x = g.input("x", {batch, 6, 9, 21}, dt);
        auto pw = g.parameter("w", w), pb = g.parameter("b", b), pwt = g.parameter("wt", wt),
             pbt = g.parameter("bt", bt);
        g.output("conv", conv2d(x, pw, pb, {.padding = {1, 2}, .dilation = {2, 1}, .groups = 2}));
        g.output("conv_valid", conv2d(x, pw, {}, {.groups = 2}));
        g.output("transposed", conv_transpose2d(x, pwt, pbt, {.padding = {1, 2}, .groups = 3, .dilation = {2, 1}}));
        g.output("transposed_plain", conv_transpose2d(x, pwt, {}, {.groups = 3}));
        auto out = g.compile().run({{"x", xv}});
        using A = ref::ConvArgs;
        using T = ref::ConvTransposeArgs;
        CHECK_CLOSE(out.at("conv"), ref::conv2d(xv, w, b, A{{1, 1}, {1, 2}, {1, 2}, {2, 1}, 2, "zeros"}), dt,
                    tolerance(dt, 36));
        CHECK_CLOSE(out.at("conv_valid"), ref::conv2d(xv, w, {}, A{{1, 1}, {0, 0}, {0, 0}, {1, 1}, 2, "zeros"}),
                    dt, tolerance(dt, 36));
        CHECK_CLOSE(out.at("transposed"), ref::conv_transpose2d(xv, wt, bt, T{{1, 1}, {1, 2}, {0, 0}, {2, 1}, 3}),
                    dt, tolerance(dt, 12));
        CHECK_CLOSE(out.at("transposed_plain"),
                    ref::conv_transpose2d(xv, wt, {}, T{{1, 1}, {0, 0}, {0, 0}, {1, 1}, 3}), dt, tolerance(dt, 12));
    }
}

TEST_CASE("short rows whose column-shifted copies outgrow L1 are flattened instead", "[ops][conv]") {
    // Rows shorter than two vectors are laid end to end by column shift (one
    // input copy per horizontal tap) unless those copies of an image pass
    // 64 KiB and the flattened rows wrap at most 1/8 of their positions:
    // 32 channels of 16x16 in f32 (110 KiB of copies, 2 of 18 positions
    // wrapped; ResNet-20's middle stage) and 20 channels of 8x15 in f64 take
    // the flattened rows; the 8x8 map (a fifth wrapped) stays shifted.
    Generator gen(16);
    struct Case {
        DType dt;
        Shape x;
    };
    for (const Case &c : {Case{DType::f32, {2, 32, 16, 16}}, Case{DType::f64, {2, 20, 8, 15}},
                          Case{DType::f32, {2, 32, 8, 8}}}) {
        INFO(dtype_name(c.dt) << " " << c.x[1] << "x" << c.x[2] << "x" << c.x[3]);
        const int64_t channels = c.x[1];
        const Tensor xv = testing::randn(c.x, c.dt, gen);
        const Tensor w = testing::randn({channels, channels, 3, 3}, c.dt, gen), b = testing::randn({channels}, c.dt, gen);
        Graph g;
        auto x = g.input("x", c.x, c.dt);
        auto pw = g.parameter("w", w), pb = g.parameter("b", b);
        g.output("conv", conv2d(x, pw, pb, {.padding = {1, 1}}));
        g.output("transposed", conv_transpose2d(x, pw, {}, {.padding = {1, 1}}));
        auto out = g.compile().run({{"x", xv}});
        CHECK_CLOSE(out.at("conv"), ref::conv2d(xv, w, b, ref::ConvArgs{{1, 1}, {1, 1}, {1, 1}, {1, 1}, 1, "zeros"}),
                    c.dt, tolerance(c.dt, 9 * channels));
        CHECK_CLOSE(out.at("transposed"),
                    ref::conv_transpose2d(xv, w, {}, ref::ConvTransposeArgs{{1, 1}, {1, 1}, {0, 0}, {1, 1}, 1}), c.dt,
                    tolerance(c.dt, 9 * channels));
    }
}

TEST_CASE("conv_transpose1d and conv_transpose2d: stride, padding, output_padding, dilation, groups",
          "[ops][conv]") {
    Generator gen(14);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor x1 = testing::randn({2, 4, 13}, dt, gen);
        const Tensor w1 = testing::randn({4, 3, 5}, dt, gen), b1 = testing::randn({6}, dt, gen);
        const Tensor x2 = testing::randn({2, 6, 5, 7}, dt, gen);
        const Tensor w2 = testing::randn({6, 2, 3, 4}, dt, gen), b2 = testing::randn({6}, dt, gen);
        Graph g;
        auto i1 = g.input("x1", {2, 4, 13}, dt), i2 = g.input("x2", {2, 6, 5, 7}, dt);
        auto pw1 = g.parameter("w1", w1), pb1 = g.parameter("b1", b1);
        auto pw2 = g.parameter("w2", w2), pb2 = g.parameter("b2", b2);
        g.output("t1",
                 conv_transpose1d(
                     i1, pw1, pb1,
                     {.stride = {3}, .padding = {2}, .output_padding = {1}, .groups = 2, .dilation = {2}}));
        g.output("t1_plain", conv_transpose1d(i1, pw1, {}, {.groups = 2}));
        // output_padding may reach the dilation when it is below it (PyTorch: < stride or < dilation).
        g.output("t1_dilated",
                 conv_transpose1d(i1, pw1, pb1, {.output_padding = {2}, .groups = 2, .dilation = {3}}));
        g.output("t2", conv_transpose2d(i2, pw2, pb2,
                                        {.stride = {2, 3},
                                         .padding = {1, 2},
                                         .output_padding = {1, 0},
                                         .groups = 3,
                                         .dilation = {1, 2}}));
        g.output("t2_up", conv_transpose2d(i2, pw2, {}, {.stride = {2}, .groups = 3}));
        // Strided, undilated: computed by output phase (taps K=5 not a multiple of S=3 or 4; padding).
        g.output("t1_phases", conv_transpose1d(i1, pw1, pb1, {.stride = {3}, .padding = {2}, .output_padding = {1},
                                                             .groups = 2}));
        g.output("t1_phases4", conv_transpose1d(i1, pw1, {}, {.stride = {4}, .padding = {1}, .groups = 2}));
        auto out = g.compile().run({{"x1", x1}, {"x2", x2}});
        using A = ref::ConvTransposeArgs;
        CHECK_CLOSE(out.at("t1"), ref::conv_transpose1d(x1, w1, b1, A{{3}, {2}, {1}, {2}, 2}), dt,
                    tolerance(dt, 10));
        CHECK_CLOSE(out.at("t1_plain"), ref::conv_transpose1d(x1, w1, {}, A{{1}, {0}, {0}, {1}, 2}), dt,
                    tolerance(dt, 10));
        CHECK_CLOSE(out.at("t1_dilated"), ref::conv_transpose1d(x1, w1, b1, A{{1}, {0}, {2}, {3}, 2}), dt,
                    tolerance(dt, 10));
        CHECK_CLOSE(out.at("t2"), ref::conv_transpose2d(x2, w2, b2, A{{2, 3}, {1, 2}, {1, 0}, {1, 2}, 3}), dt,
                    tolerance(dt, 24));
        CHECK_CLOSE(out.at("t1_phases"), ref::conv_transpose1d(x1, w1, b1, A{{3}, {2}, {1}, {1}, 2}), dt,
                    tolerance(dt, 10));
        CHECK_CLOSE(out.at("t1_phases4"), ref::conv_transpose1d(x1, w1, {}, A{{4}, {1}, {0}, {1}, 2}), dt,
                    tolerance(dt, 10));
        CHECK_CLOSE(out.at("t2_up"), ref::conv_transpose2d(x2, w2, {}, A{{2, 2}, {0, 0}, {0, 0}, {1, 1}, 3}),
                    dt, tolerance(dt, 24));
    }
}

TEST_CASE("worked example: a 16-tap conv1d with stride 1, 2 and 4", "[ops][conv]") {
    // Input 0, 1, ..., 39 and an all-ones kernel: output j sums x[j d .. j d + 15],
    // which is 16 j d + 120, and there are floor((40 - 16) / d) + 1 outputs.
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = Tensor::arange(40, dt).reshape({1, 1, 40});
        Graph g;
        auto x = g.input("x", {1, 1, 40}, dt);
        auto w = g.parameter("w", Tensor::ones({1, 1, 16}, dt));
        for (int64_t d : {1, 2, 4}) g.output("d" + std::to_string(d), conv1d(x, w, {}, {.stride = {d}}));
        auto out = g.compile().run({{"x", xv}});
        for (auto [d, length] : {std::pair<int64_t, int64_t>{1, 25}, {2, 13}, {4, 7}}) {
            INFO("stride " << d);
            const Tensor y = out.at("d" + std::to_string(d));
            REQUIRE(y.shape() == Shape{1, 1, length});
            for (int64_t j = 0; j < length; ++j)
                CHECK(y.get_flat(j) == static_cast<double>(16 * j * d + 120));
        }
    }
}

// ---- user errors ----

TEST_CASE("conv2d with a channel mismatch names both shapes", "[ops][conv][errors]") {
    Graph g;
    auto x = g.input("x", {1, 3, 8, 8});
    auto w = g.parameter("w", Tensor::ones({4, 2, 3, 3}));
    REQUIRE_THROWS_WITH(conv2d(x, w),
                        Contains("conv2d") && Contains("[1, 3, 8, 8]") && Contains("[4, 2, 3, 3]"));
}

TEST_CASE("a non-positive stride or dilation is rejected", "[ops][conv][errors]") {
    Graph g;
    auto x = g.input("x", {1, 2, 9});
    auto w = g.parameter("w", Tensor::ones({2, 2, 3}));
    REQUIRE_THROWS_WITH(conv1d(x, w, {}, {.stride = {0}}),
                        Contains("conv1d") && Contains("stride must be positive"));
    REQUIRE_THROWS_WITH(conv1d(x, w, {}, {.stride = {-2}}),
                        Contains("stride must be positive") && Contains("-2"));
    REQUIRE_THROWS_WITH(conv1d(x, w, {}, {.dilation = {0}}), Contains("dilation must be positive"));
    REQUIRE_THROWS_WITH(conv1d(x, w, {}, {.padding = -1}), Contains("padding must be >= 0"));
}

TEST_CASE("a kernel larger than the padded input is rejected", "[ops][conv][errors]") {
    Graph g;
    auto x = g.input("x", {1, 1, 5, 5});
    auto w = g.parameter("w", Tensor::ones({1, 1, 7, 3}));
    REQUIRE_THROWS_WITH(conv2d(x, w), Contains("conv2d") && Contains("kernel size 7") &&
                                          Contains("larger than the padded input size 5"));
    auto w1 = g.parameter("w1", Tensor::ones({1, 1, 3}));
    auto x1 = g.input("x1", {1, 1, 6});
    REQUIRE_THROWS_WITH(conv1d(x1, w1, {}, {.dilation = {3}}), Contains("dilated span 7"));
}

TEST_CASE("groups that do not divide the channels are rejected", "[ops][conv][errors]") {
    Graph g;
    auto x = g.input("x", {1, 6, 8});
    auto w = g.parameter("w", Tensor::ones({4, 2, 3}));
    REQUIRE_THROWS_WITH(conv1d(x, w, {}, {.groups = 4}),
                        Contains("groups=4") && Contains("6 input channels"));
    auto w2 = g.parameter("w2", Tensor::ones({4, 3, 3}));
    REQUIRE_THROWS_WITH(conv1d(x, w2, {}, {.groups = 3}),
                        Contains("groups=3") && Contains("4 output channels"));
    REQUIRE_THROWS_WITH(conv1d(x, w, {}, {.groups = 0}), Contains("groups must be positive"));
}

TEST_CASE("bad conv options and operands are rejected", "[ops][conv][errors]") {
    Graph g;
    auto x = g.input("x", {1, 2, 9});
    auto w = g.parameter("w", Tensor::ones({3, 2, 3}));
    REQUIRE_THROWS_WITH(conv1d(x, w, g.parameter("b", Tensor::ones({2}))),
                        Contains("bias must have shape [3]"));
    REQUIRE_THROWS_WITH(conv1d(x, w, {}, {.stride = {2}, .padding = "same"}),
                        Contains("'same'") && Contains("strided"));
    REQUIRE_THROWS_WITH(conv1d(x, w, {}, {.padding = "full"}), Contains("\"full\""));
    REQUIRE_THROWS_WITH(conv1d(x, w, {}, {.padding = 1, .padding_mode = "mirror"}), Contains("\"mirror\""));
    REQUIRE_THROWS_WITH(conv1d(x, w, {}, {.stride = {1, 2}}), Contains("stride") && Contains("[1, 2]"));
    REQUIRE_THROWS_WITH(conv2d(g.input("flat", {2, 9}), w), Contains("conv2d") && Contains("[2, 9]") &&
                                                                Contains("4-d (batched) or 3-d (unbatched)"));
    REQUIRE_THROWS_WITH(conv1d(g.input("i", {1, 2, 9}, DType::f64), w), Contains("dtype mismatch"));
}

TEST_CASE("conv_transpose rejects a bad output_padding and a channel mismatch", "[ops][conv][errors]") {
    Graph g;
    auto x = g.input("x", {1, 4, 6});
    auto w = g.parameter("w", Tensor::ones({4, 2, 3}));
    REQUIRE_THROWS_WITH(conv_transpose1d(x, w, {}, {.stride = {2}, .output_padding = {2}}),
                        Contains("output_padding 2") && Contains("stride 2"));
    auto w3 = g.parameter("w3", Tensor::ones({3, 2, 3}));
    REQUIRE_THROWS_WITH(conv_transpose1d(x, w3),
                        Contains("conv_transpose1d") && Contains("[1, 4, 6]") && Contains("[3, 2, 3]"));
}
