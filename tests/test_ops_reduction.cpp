// Reductions against the naive reference: sum, mean and max over any dims
// with keepdim, argmax (first maximum on ties), softmax and log_softmax; a
// large case the default schedule parallelises; integer reductions; and the
// user errors of the reduction API.

#include "tests/op_test_helpers.h"

using namespace strata;
namespace ref = strata::reference;
using Catch::Contains;
using testing::float_dtypes;
using testing::tolerance;

TEST_CASE("sum, mean and max over dims with and without keepdim", "[ops][reduction]") {
    Generator gen(30);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({3, 7, 13}, dt, gen);
        Graph g;
        auto x = g.input("x", {3, 7, 13}, dt);
        g.output("sum_all", sum(x));
        g.output("sum_1", sum(x, {1}));
        g.output("sum_02_keep", sum(x, {0, 2}, true));
        g.output("sum_neg", sum(x, {-1}));
        g.output("mean_all_keep", mean(x, {}, true));
        g.output("mean_0", mean(x, {0}));
        g.output("mean_12", mean(x, {-2, 2}));
        g.output("max_all", max(x));
        g.output("max_2_keep", max(x, {2}, true));
        g.output("max_01", max(x, {1, 0}));
        auto out = g.compile().run({{"x", xv}});
        const double tol = tolerance(dt, 273);
        CHECK_CLOSE(out.at("sum_all"), ref::sum(xv), dt, tol);
        CHECK_CLOSE(out.at("sum_1"), ref::sum(xv, {1}), dt, tol);
        CHECK_CLOSE(out.at("sum_02_keep"), ref::sum(xv, {0, 2}, true), dt, tol);
        CHECK_CLOSE(out.at("sum_neg"), ref::sum(xv, {2}), dt, tol);
        CHECK_CLOSE(out.at("mean_all_keep"), ref::mean(xv, {}, true), dt, tol);
        CHECK_CLOSE(out.at("mean_0"), ref::mean(xv, {0}), dt, tol);
        CHECK_CLOSE(out.at("mean_12"), ref::mean(xv, {1, 2}), dt, tol);
        CHECK_CLOSE(out.at("max_all"), ref::max(xv), dt, 0);
        CHECK_CLOSE(out.at("max_2_keep"), ref::max(xv, {2}, true), dt, 0);
        CHECK_CLOSE(out.at("max_01"), ref::max(xv, {0, 1}), dt, 0);
        CHECK(out.at("sum_all").shape() == Shape{});
        CHECK(out.at("mean_all_keep").shape() == Shape{1, 1, 1});
    }
}

TEST_CASE("argmax picks the first maximum", "[ops][reduction]") {
    Generator gen(31);
    for (DType dt : {DType::f32, DType::f64, DType::i32}) {
        INFO(dtype_name(dt));
        // Values in {0, 1, 2}: every row has ties for the maximum.
        Tensor xv = Tensor::empty({5, 9, 7}, dt);
        for (int64_t i = 0; i < xv.numel(); ++i) xv.set_flat(i, static_cast<double>(gen.below(3)));
        Graph g;
        auto x = g.input("x", {5, 9, 7}, dt);
        g.output("d0", argmax(x, 0));
        g.output("d1_keep", argmax(x, 1, true));
        g.output("d2", argmax(x, -1));
        auto out = g.compile().run({{"x", xv}});
        for (const char *name : {"d0", "d1_keep", "d2"}) CHECK(out.at(name).dtype() == DType::i32);
        CHECK_EXACT(out.at("d0"), ref::argmax(xv, 0));
        CHECK_EXACT(out.at("d1_keep"), ref::argmax(xv, 1, true));
        CHECK_EXACT(out.at("d2"), ref::argmax(xv, 2));
    }
}

TEST_CASE("softmax and log_softmax along every dim", "[ops][reduction]") {
    Generator gen(32);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = Tensor::randn({3, 7, 13}, gen, dt, 0.0, 4.0);
        const Tensor big =
            Tensor::randn({2, 5}, gen, dt, 500.0, 30.0);  // exp overflows without the max shift
        Graph g;
        auto x = g.input("x", {3, 7, 13}, dt), b = g.input("big", {2, 5}, dt);
        g.output("softmax_0", softmax(x, 0));
        g.output("softmax_1", softmax(x, 1));
        g.output("softmax_last", softmax(x, -1));
        g.output("log_softmax_0", log_softmax(x, 0));
        g.output("log_softmax_last", log_softmax(x, 2));
        g.output("softmax_big", softmax(b, 1));
        g.output("log_softmax_big", log_softmax(b, 1));
        g.output("softmax_single", softmax(unsqueeze(b, 2), 2));  // a dim of extent 1: all ones
        auto out = g.compile().run({{"x", xv}, {"big", big}});
        const double tol = tolerance(dt, 13);
        CHECK_CLOSE(out.at("softmax_0"), ref::softmax(xv, 0), dt, tol);
        CHECK_CLOSE(out.at("softmax_1"), ref::softmax(xv, 1), dt, tol);
        CHECK_CLOSE(out.at("softmax_last"), ref::softmax(xv, 2), dt, tol);
        CHECK_CLOSE(out.at("log_softmax_0"), ref::log_softmax(xv, 0), dt, tol);
        CHECK_CLOSE(out.at("log_softmax_last"), ref::log_softmax(xv, 2), dt, tol);
        CHECK_CLOSE(out.at("softmax_big"), ref::softmax(big, 1), dt, tol);
        CHECK_CLOSE(out.at("log_softmax_big"), ref::log_softmax(big, 1), dt, tol);
        CHECK_EXACT(out.at("softmax_single"), Tensor::ones({2, 5, 1}, DType::f64));
    }
}

TEST_CASE("large reductions are parallelised with the same numbers", "[ops][reduction]") {
    // 40 x 29 outputs of 33 terms each, and softmax rows of 513: over the thread threshold.
    Generator gen(33);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({40, 33, 29}, dt, gen), yv = testing::randn({65, 513}, dt, gen);
        Graph g;
        auto x = g.input("x", {40, 33, 29}, dt), y = g.input("y", {65, 513}, dt);
        g.output("sum", sum(x, {1}));
        g.output("max", max(x, {1}));
        g.output("mean", mean(y, {1}, true));
        g.output("softmax", softmax(y, 1));
        g.output("argmax", argmax(y, 1));
        auto out = g.compile().run({{"x", xv}, {"y", yv}});
        CHECK_CLOSE(out.at("sum"), ref::sum(xv, {1}), dt, tolerance(dt, 33));
        CHECK_CLOSE(out.at("max"), ref::max(xv, {1}), dt, 0);
        CHECK_CLOSE(out.at("mean"), ref::mean(yv, {1}, true), dt, tolerance(dt, 513));
        CHECK_CLOSE(out.at("softmax"), ref::softmax(yv, 1), dt, tolerance(dt, 513));
        CHECK_EXACT(out.at("argmax"), ref::argmax(yv, 1));
    }
}

TEST_CASE("integer sum and max are exact", "[ops][reduction]") {
    Generator gen(34);
    Tensor xv = Tensor::empty({4, 13}, DType::i32);
    for (int64_t i = 0; i < xv.numel(); ++i) xv.set_flat(i, static_cast<double>(gen.below(2001)) - 1000.0);
    Graph g;
    auto x = g.input("x", {4, 13}, DType::i32);
    g.output("sum", sum(x, {1}));
    g.output("max", max(x, {0}, true));
    auto out = g.compile().run({{"x", xv}});
    CHECK(out.at("sum").dtype() == DType::i32);
    CHECK_EXACT(out.at("sum"), ref::sum(xv, {1}));
    CHECK_EXACT(out.at("max"), ref::max(xv, {0}, true));
}

// ---- user errors ----

TEST_CASE("reduction dims out of range or repeated are rejected", "[ops][reduction][errors]") {
    Graph g;
    auto x = g.input("x", {2, 3, 4});
    REQUIRE_THROWS_WITH(sum(x, {3}), Contains("sum") && Contains("dim 3") && Contains("3-d"));
    REQUIRE_THROWS_WITH(mean(x, {-4}), Contains("mean") && Contains("dim -4"));
    REQUIRE_THROWS_WITH(max(x, {1, -2}), Contains("max") && Contains("more than once"));
    REQUIRE_THROWS_WITH(argmax(x, 5), Contains("argmax") && Contains("dim 5"));
    REQUIRE_THROWS_WITH(softmax(x, -4), Contains("softmax") && Contains("dim -4"));
}

TEST_CASE("reductions check dtypes and empty dims", "[ops][reduction][errors]") {
    Graph g;
    auto i = g.input("i", {2, 3}, DType::i32);
    REQUIRE_THROWS_WITH(mean(i, {1}), Contains("mean") && Contains("i32"));
    REQUIRE_THROWS_WITH(softmax(i, 1), Contains("softmax") && Contains("i32"));
    auto e = g.input("e", {2, 0});
    REQUIRE_THROWS_WITH(max(e, {1}), Contains("max") && Contains("extent 0") && Contains("[2, 0]"));
    REQUIRE_THROWS_WITH(argmax(e, 1), Contains("argmax") && Contains("extent 0"));
}

namespace {

/// How many f32 ulps (at `exact`) `value` is from `exact`.
double ulps_from(double value, long double exact) {
    const float e = static_cast<float>(exact);
    const double ulp = std::nextafter(std::fabs(e), INFINITY) - std::fabs(e);
    return static_cast<double>(std::fabs(static_cast<long double>(value) - exact)) / ulp;
}

}  // namespace

TEST_CASE("f32 sums and means add in a cascade: off by O(log n) roundings, not O(n)", "[ops][reduction]") {
    // 1 and then 4095 values of 3/4 of the half-ulp of 1: added one after another, each is lost
    // (the sum stays 1, ~1500 ulps off); in blocks they add up first.
    const int64_t n = 4096;
    std::vector<float> values(n, 0.75f * std::ldexp(1.0f, -24));
    values[0] = 1.0f;
    long double exact = 0;
    for (float v : values) exact += v;
    const double bound = 2 * std::log2(static_cast<double>(n));
    Graph g;
    auto x = g.input("x", {n});
    auto x2 = g.input("x2", {4, n / 4});
    g.output("sum", sum(x));
    g.output("mean", mean(x));
    g.output("sum_rows", sum(x2, {1}));
    g.output("mean_all_2d", mean(x2));
    const Tensor xv = Tensor::from_vector(values);
    const auto out = g.compile().run({{"x", xv}, {"x2", xv.reshape({4, n / 4})}});
    CHECK(ulps_from(out.at("sum").item(), exact) <= bound);
    CHECK(ulps_from(out.at("mean").item(), exact / n) <= bound);
    CHECK(ulps_from(out.at("mean_all_2d").item(), exact / n) <= bound);
    long double row0 = 0;
    for (int64_t i = 0; i < n / 4; ++i) row0 += values[static_cast<size_t>(i)];
    CHECK(ulps_from(out.at("sum_rows").get_flat(0), row0) <= bound);
}

TEST_CASE("the f32 cross-entropy of a large batch is as accurate as its elements", "[ops][reduction]") {
    // Equal logits: every element's loss is the same f32 value v, so the mean is v exactly;
    // adding 4096 copies one after another drifts by hundreds of ulps.
    const int64_t n = 4096;
    Graph g;
    auto x = g.input("x", {n, 3});
    auto t = g.input("t", {n}, DType::i32);
    g.output("mean", cross_entropy(x, t));
    g.output("none", cross_entropy(x, t, {.reduction = "none"}));
    const auto out = g.compile().run({{"x", Tensor::zeros({n, 3})}, {"t", Tensor::zeros({n}, DType::i32)}});
    const double v = out.at("none").get_flat(0);
    CHECK(v == Approx(std::log(3.0)).epsilon(1e-6));
    CHECK(ulps_from(out.at("mean").item(), v) <= 2 * std::log2(static_cast<double>(n)));
}

TEST_CASE("softmax and cross-entropy over many classes add their exponentials in a cascade", "[ops][reduction]") {
    // One logit of 0 and 4095 whose exponentials are 3/4 of the half-ulp of 1: one after another
    // they are lost (the row sum stays 1); the log-sum-exp is really log(1 + 4095 e) = 1.83e-4.
    const int64_t n = 4096;
    const float tiny = std::log(0.75f * std::ldexp(1.0f, -24));
    std::vector<float> logits(n, tiny);
    logits[0] = 0.0f;
    long double sum_exp = 0;
    for (float v : logits) sum_exp += std::exp(static_cast<long double>(v));
    const double lse = static_cast<double>(std::log(sum_exp));
    Graph g;
    auto x = g.input("x", {1, n});
    auto t = g.input("t", {1}, DType::i32);
    g.output("log_softmax", log_softmax(x, 1));
    g.output("loss", cross_entropy(x, t));
    const auto out = g.compile().run({{"x", Tensor::from_vector(logits, {1, n})}, {"t", Tensor::zeros({1}, DType::i32)}});
    CHECK(out.at("log_softmax").get_flat(0) == Approx(-lse).epsilon(1e-3));
    CHECK(out.at("loss").item() == Approx(lse).epsilon(1e-3));
}
