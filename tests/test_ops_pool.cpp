// Pooling against the naive reference: max and average pooling in 1-d and 2-d
// with kernel, stride, padding, dilation, ceil_mode (including PyTorch's
// last-window rule) and count_include_pad; adaptive average pooling; a large
// case the default schedule parallelises; the seed's 2x2 worked example; and
// the user errors of the pooling API.

#include "tests/op_test_helpers.h"

using namespace strata;
namespace ref = strata::reference;
using Catch::Contains;
using testing::float_dtypes;
using testing::tolerance;

TEST_CASE("max_pool1d and avg_pool1d: stride, padding, dilation, ceil_mode, count_include_pad",
          "[ops][pool]") {
    Generator gen(20);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({2, 3, 29}, dt, gen);
        const Tensor sv =
            testing::randn({2, 3, 5}, dt, gen);  // ceil mode drops a window starting in the padding
        Graph g;
        auto x = g.input("x", {2, 3, 29}, dt), s = g.input("s", {2, 3, 5}, dt);
        g.output("max", max_pool1d(x, {4}, {.stride = {3}, .padding = {2}, .dilation = {2}}));
        g.output("max_ceil",
                 max_pool1d(x, {4}, {.stride = {3}, .padding = {2}, .dilation = {2}, .ceil_mode = true}));
        g.output("max_default_stride", max_pool1d(x, {3}));
        g.output("max_short_ceil", max_pool1d(s, {2}, {.stride = {2}, .padding = {1}, .ceil_mode = true}));
        g.output("avg", avg_pool1d(x, {4}, {.stride = {3}, .padding = {2}}));
        g.output("avg_ceil", avg_pool1d(x, {5}, {.stride = {3}, .padding = {1}, .ceil_mode = true}));
        g.output("avg_exclude",
                 avg_pool1d(x, {5}, {.stride = {3}, .padding = {2}, .count_include_pad = false}));
        g.output("avg_ceil_exclude",
                 avg_pool1d(x, {4},
                            {.stride = {3}, .padding = {1}, .ceil_mode = true, .count_include_pad = false}));
        g.output("avg_short_ceil", avg_pool1d(s, {2}, {.stride = {2}, .padding = {1}, .ceil_mode = true}));
        auto out = g.compile().run({{"x", xv}, {"s", sv}});
        using P = ref::PoolArgs;
        CHECK_CLOSE(out.at("max"), ref::max_pool1d(xv, P{{4}, {3}, {2}, {2}, false, true}), dt, 0);
        CHECK_CLOSE(out.at("max_ceil"), ref::max_pool1d(xv, P{{4}, {3}, {2}, {2}, true, true}), dt, 0);
        CHECK_CLOSE(out.at("max_default_stride"), ref::max_pool1d(xv, P{{3}, {3}, {0}, {1}, false, true}), dt,
                    0);
        const Tensor short_max = ref::max_pool1d(sv, P{{2}, {2}, {1}, {1}, true, true});
        CHECK(short_max.shape() == Shape{2, 3, 3});  // ceil((5 + 2 - 2) / 2) + 1 = 4, minus the window at 6
        CHECK_CLOSE(out.at("max_short_ceil"), short_max, dt, 0);
        const double tol = tolerance(dt, 5);
        CHECK_CLOSE(out.at("avg"), ref::avg_pool1d(xv, P{{4}, {3}, {2}, {}, false, true}), dt, tol);
        CHECK_CLOSE(out.at("avg_ceil"), ref::avg_pool1d(xv, P{{5}, {3}, {1}, {}, true, true}), dt, tol);
        CHECK_CLOSE(out.at("avg_exclude"), ref::avg_pool1d(xv, P{{5}, {3}, {2}, {}, false, false}), dt, tol);
        CHECK_CLOSE(out.at("avg_ceil_exclude"), ref::avg_pool1d(xv, P{{4}, {3}, {1}, {}, true, false}), dt,
                    tol);
        CHECK_CLOSE(out.at("avg_short_ceil"), ref::avg_pool1d(sv, P{{2}, {2}, {1}, {}, true, true}), dt, tol);
    }
}

TEST_CASE("max_pool2d and avg_pool2d with per-dim options", "[ops][pool]") {
    Generator gen(21);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({2, 3, 7, 13}, dt, gen);
        Graph g;
        auto x = g.input("x", {2, 3, 7, 13}, dt);
        g.output("max", max_pool2d(x, {3, 2}, {.stride = {2, 1}, .padding = {1, 1}, .dilation = {1, 2}}));
        g.output("max_ceil", max_pool2d(x, {3}, {.stride = {2}, .padding = {1}, .ceil_mode = true}));
        g.output("max_default", max_pool2d(x, {2}));
        g.output("avg", avg_pool2d(x, {3, 4}, {.stride = {2, 3}, .padding = {1, 2}}));
        g.output("avg_ceil_exclude",
                 avg_pool2d(x, {3},
                            {.stride = {2}, .padding = {1}, .ceil_mode = true, .count_include_pad = false}));
        g.output("avg_ceil", avg_pool2d(x, {2, 3}, {.stride = {2}, .padding = {1, 0}, .ceil_mode = true}));
        g.output("unbatched", max_pool2d(reshape(x, {6, 7, 13}), {2}, {.stride = {1}}));  // [C, H, W]
        auto out = g.compile().run({{"x", xv}});
        using P = ref::PoolArgs;
        CHECK_CLOSE(out.at("max"), ref::max_pool2d(xv, P{{3, 2}, {2, 1}, {1, 1}, {1, 2}, false, true}), dt,
                    0);
        CHECK_CLOSE(out.at("max_ceil"), ref::max_pool2d(xv, P{{3, 3}, {2, 2}, {1, 1}, {1, 1}, true, true}),
                    dt, 0);
        CHECK_CLOSE(out.at("max_default"),
                    ref::max_pool2d(xv, P{{2, 2}, {2, 2}, {0, 0}, {1, 1}, false, true}), dt, 0);
        const double tol = tolerance(dt, 12);
        CHECK_CLOSE(out.at("avg"), ref::avg_pool2d(xv, P{{3, 4}, {2, 3}, {1, 2}, {}, false, true}), dt, tol);
        CHECK_CLOSE(out.at("avg_ceil_exclude"),
                    ref::avg_pool2d(xv, P{{3, 3}, {2, 2}, {1, 1}, {}, true, false}), dt, tol);
        CHECK_CLOSE(out.at("avg_ceil"), ref::avg_pool2d(xv, P{{2, 3}, {2, 2}, {1, 0}, {}, true, true}), dt,
                    tol);
        const Tensor unbatched =
            ref::max_pool2d(ref::reshape(xv, {1, 6, 7, 13}), P{{2, 2}, {1, 1}, {0, 0}, {1, 1}});
        CHECK_CLOSE(out.at("unbatched"), ref::reshape(unbatched, {6, 6, 12}), dt, 0);
    }
}

TEST_CASE("adaptive average pooling uses floor/ceil windows", "[ops][pool]") {
    Generator gen(22);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor x1 = testing::randn({2, 3, 13}, dt, gen), x2 = testing::randn({2, 3, 7, 13}, dt, gen);
        const Tensor tiny = testing::randn({1, 2, 3}, dt, gen);
        Graph g;
        auto i1 = g.input("x1", {2, 3, 13}, dt), i2 = g.input("x2", {2, 3, 7, 13}, dt);
        auto it = g.input("tiny", {1, 2, 3}, dt);
        g.output("a1", adaptive_avg_pool1d(i1, {5}));
        g.output("a1_up", adaptive_avg_pool1d(it, {5}));  // more outputs than inputs: windows overlap
        g.output("a2", adaptive_avg_pool2d(i2, {3, 4}));
        g.output("global", adaptive_avg_pool2d(i2, {1, 1}));
        g.output("unbatched", adaptive_avg_pool1d(reshape(i1, {6, 13}), {4}));  // [C, L]
        auto out = g.compile().run({{"x1", x1}, {"x2", x2}, {"tiny", tiny}});
        const double tol = tolerance(dt, 91);
        CHECK_CLOSE(out.at("a1"), ref::adaptive_avg_pool1d(x1, 5), dt, tol);
        CHECK_CLOSE(out.at("a1_up"), ref::adaptive_avg_pool1d(tiny, 5), dt, tol);
        CHECK_CLOSE(out.at("a2"), ref::adaptive_avg_pool2d(x2, {3, 4}), dt, tol);
        CHECK_CLOSE(out.at("global"), ref::adaptive_avg_pool2d(x2, {1, 1}), dt, tol);
        const Tensor unbatched = ref::adaptive_avg_pool1d(ref::reshape(x1, {1, 6, 13}), 4);
        CHECK_CLOSE(out.at("unbatched"), ref::reshape(unbatched, {6, 4}), dt, tol);
    }
}

TEST_CASE("large pools are parallelised with the same numbers", "[ops][pool]") {
    // 2 x 16 x 32 x 33 outputs of a 3x3 window: over the default schedule's threshold for threads.
    Generator gen(23);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({2, 16, 65, 67}, dt, gen);
        Graph g;
        auto x = g.input("x", {2, 16, 65, 67}, dt);
        g.output("max", max_pool2d(x, {3}, {.stride = {2}, .padding = {1}}));
        g.output("avg", avg_pool2d(x, {3}, {.stride = {2}, .padding = {1}, .count_include_pad = false}));
        auto out = g.compile().run({{"x", xv}});
        using P = ref::PoolArgs;
        CHECK_CLOSE(out.at("max"), ref::max_pool2d(xv, P{{3, 3}, {2, 2}, {1, 1}, {1, 1}, false, true}), dt,
                    0);
        CHECK_CLOSE(out.at("avg"), ref::avg_pool2d(xv, P{{3, 3}, {2, 2}, {1, 1}, {}, false, false}), dt,
                    tolerance(dt, 9));
    }
}

TEST_CASE("max pooling of integers pads with the lowest value", "[ops][pool]") {
    const Tensor xv = Tensor::from_vector<int32_t>({-5, -9, -2, -7, -3, -8, -1}, {1, 1, 7});
    Graph g;
    auto x = g.input("x", {1, 1, 7}, DType::i32);
    g.output("y", max_pool1d(x, {3}, {.stride = {2}, .padding = {1}, .ceil_mode = true}));
    const Tensor y = g.compile().run(xv);
    CHECK(y.dtype() == DType::i32);
    CHECK_EXACT(y, ref::max_pool1d(xv, {{3}, {2}, {1}, {1}, true, true}));
}

TEST_CASE("worked example: 2x2 max pooling", "[ops][pool]") {
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        Graph g;
        auto x = g.input("x", {1, 1, 4, 4}, dt);
        g.output("y", max_pool2d(x, {2}));
        const Tensor xv =
            Tensor::from_vector<double>({1, 1, 2, 4, 5, 6, 7, 8, 3, 2, 1, 0, 1, 2, 3, 4}, {1, 1, 4, 4});
        const Tensor y = g.compile().run(xv.to(dt));
        CHECK_EXACT(y, Tensor::from_vector<double>({6, 8, 3, 4}, {1, 1, 2, 2}));
    }
}

// ---- user errors ----

TEST_CASE("pool padding over half the kernel is rejected", "[ops][pool][errors]") {
    Graph g;
    auto x = g.input("x", {1, 2, 9, 9});
    REQUIRE_THROWS_WITH(max_pool2d(x, {3}, {.padding = {2}}), Contains("max_pool2d") &&
                                                                  Contains("padding 2") &&
                                                                  Contains("half of the kernel size 3"));
    REQUIRE_THROWS_WITH(avg_pool2d(x, {2}, {.padding = {2}}),
                        Contains("avg_pool2d") && Contains("padding 2"));
}

TEST_CASE("a pool kernel larger than the input is rejected", "[ops][pool][errors]") {
    Graph g;
    auto x = g.input("x", {1, 2, 4});
    REQUIRE_THROWS_WITH(max_pool1d(x, {6}),
                        Contains("max_pool1d") && Contains("kernel size 6") && Contains("[1, 2, 4]"));
    REQUIRE_THROWS_WITH(avg_pool1d(x, {5}, {.padding = {0}}),
                        Contains("avg_pool1d") && Contains("kernel size 5"));
}

TEST_CASE("bad pool options and inputs are rejected", "[ops][pool][errors]") {
    Graph g;
    auto x = g.input("x", {1, 2, 8, 8});
    REQUIRE_THROWS_WITH(max_pool2d(x, {2}, {.stride = {0}}), Contains("stride must be positive"));
    REQUIRE_THROWS_WITH(max_pool2d(x, {0}), Contains("kernel_size must be positive"));
    REQUIRE_THROWS_WITH(max_pool2d(x, {2, 2, 2}), Contains("kernel_size") && Contains("[2, 2, 2]"));
    REQUIRE_THROWS_WITH(max_pool2d(g.input("v", {8}), {2}), Contains("max_pool2d") && Contains("[8]"));
    REQUIRE_THROWS_WITH(avg_pool2d(g.input("i", {1, 1, 4, 4}, DType::i32), {2}),
                        Contains("avg_pool2d") && Contains("i32"));
    REQUIRE_THROWS_WITH(adaptive_avg_pool2d(x, {0, 2}), Contains("output_size must be positive"));
}
