// Normalisation against the naive reference: batch_norm in training (batch
// statistics, running statistics updated with momentum and the unbiased
// variance) and evaluation (running statistics), with and without affine
// parameters, on 2-d, 3-d and 4-d inputs; layer_norm over one or more
// trailing dims; large cases; and the user errors of both.

#include "tests/op_test_helpers.h"

using namespace strata;
namespace ref = strata::reference;
using Catch::Contains;
using testing::float_dtypes;
using testing::tolerance;

TEST_CASE("batch_norm in training: batch statistics and running-stat updates", "[ops][normalization]") {
    Generator gen(60);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor x4 = Tensor::randn({4, 3, 5, 7}, gen, dt, 1.5, 2.0),
                     x2 = testing::randn({9, 5}, dt, gen);
        const Tensor x3 = Tensor::randn({2, 3, 13}, gen, dt, -1.0, 0.5);
        const Tensor w = testing::randn({3}, dt, gen), b = testing::randn({3}, dt, gen);
        const Tensor rm = testing::randn({3}, dt, gen), rv = testing::rand({3}, dt, gen, 0.5, 2.0);
        const Tensor rm5 = testing::randn({5}, dt, gen), rv5 = testing::rand({5}, dt, gen, 0.5, 2.0);
        Graph g;
        auto i4 = g.input("x4", {4, 3, 5, 7}, dt), i2 = g.input("x2", {9, 5}, dt),
             i3 = g.input("x3", {2, 3, 13}, dt);
        auto pw = g.parameter("w", w), pb = g.parameter("b", b);
        auto prm = g.parameter("rm", rm), prv = g.parameter("rv", rv);
        auto prm5 = g.parameter("rm5", rm5), prv5 = g.parameter("rv5", rv5);
        BatchNormResult r4 = batch_norm(i4, prm, prv, pw, pb, true);
        BatchNormResult r2 = batch_norm(i2, prm5, prv5, {}, {}, true, 0.3, 1e-3);
        BatchNormResult r3 = batch_norm(i3, {}, {}, pw, {}, true);  // no running stats at all
        g.output("y4", r4.output);
        g.output("rm4", r4.running_mean);
        g.output("rv4", r4.running_var);
        g.output("y2", r2.output);
        g.output("rm2", r2.running_mean);
        g.output("rv2", r2.running_var);
        g.output("y3", r3.output);
        CHECK_FALSE(r3.running_mean.defined());
        auto out = g.compile().run({{"x4", x4}, {"x2", x2}, {"x3", x3}});
        const ref::BatchNormResult e4 = ref::batch_norm(x4, rm, rv, w, b, true);
        const ref::BatchNormResult e2 = ref::batch_norm(x2, rm5, rv5, {}, {}, true, 0.3, 1e-3);
        CHECK_CLOSE(out.at("y4"), e4.output, dt, tolerance(dt, 140));
        CHECK_CLOSE(out.at("rm4"), e4.running_mean, dt, tolerance(dt, 140));
        CHECK_CLOSE(out.at("rv4"), e4.running_var, dt, tolerance(dt, 140));
        CHECK_CLOSE(out.at("y2"), e2.output, dt, tolerance(dt, 9));
        CHECK_CLOSE(out.at("rm2"), e2.running_mean, dt, tolerance(dt, 9));
        CHECK_CLOSE(out.at("rv2"), e2.running_var, dt, tolerance(dt, 9));
        CHECK_CLOSE(out.at("y3"), ref::batch_norm(x3, {}, {}, w, {}, true).output, dt, tolerance(dt, 26));
    }
}

TEST_CASE("batch_norm in evaluation uses the running statistics", "[ops][normalization]") {
    Generator gen(61);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({3, 4, 7, 5}, dt, gen);
        const Tensor w = testing::randn({4}, dt, gen), b = testing::randn({4}, dt, gen);
        const Tensor rm = testing::randn({4}, dt, gen), rv = testing::rand({4}, dt, gen, 0.5, 2.0);
        Graph g;
        auto x = g.input("x", {3, 4, 7, 5}, dt);
        auto prm = g.parameter("rm", rm), prv = g.parameter("rv", rv);
        g.output("affine", batch_norm(x, prm, prv, g.parameter("w", w), g.parameter("b", b), false).output);
        g.output("plain", batch_norm(x, prm, prv, {}, {}, false, 0.1, 1e-2).output);
        auto out = g.compile().run({{"x", xv}});
        CHECK_CLOSE(out.at("affine"), ref::batch_norm(xv, rm, rv, w, b, false).output, dt, tolerance(dt));
        CHECK_CLOSE(out.at("plain"), ref::batch_norm(xv, rm, rv, {}, {}, false, 0.1, 1e-2).output, dt,
                    tolerance(dt));
    }
}

TEST_CASE("batch_norm's running statistics are written back through Graph::update", "[ops][normalization]") {
    Generator gen(62);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({6, 2, 11}, dt, gen);
        Tensor rm = Tensor::zeros({2}, dt), rv = Tensor::ones({2}, dt);
        Graph g;
        auto x = g.input("x", {6, 2, 11}, dt);
        BatchNormResult r = batch_norm(x, g.parameter("rm", rm), g.parameter("rv", rv), {}, {}, true, 0.2);
        g.output("y", r.output);
        g.update("rm", r.running_mean);
        g.update("rv", r.running_var);
        auto c = g.compile();
        // Two steps: the second starts from the statistics the first wrote.
        ref::BatchNormResult e = ref::batch_norm(xv, rm.clone(), rv.clone(), {}, {}, true, 0.2);
        e = ref::batch_norm(xv, e.running_mean, e.running_var, {}, {}, true, 0.2);
        c.run({{"x", xv}});
        c.run({{"x", xv}});
        CHECK_CLOSE(rm, e.running_mean, dt, tolerance(dt, 66));
        CHECK_CLOSE(rv, e.running_var, dt, tolerance(dt, 66));
    }
}

TEST_CASE("layer_norm over one or more trailing dims", "[ops][normalization]") {
    Generator gen(63);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = Tensor::randn({3, 7, 13}, gen, dt, 2.0, 3.0);
        const Tensor w1 = testing::randn({13}, dt, gen), b1 = testing::randn({13}, dt, gen);
        const Tensor w2 = testing::randn({7, 13}, dt, gen), b2 = testing::randn({7, 13}, dt, gen);
        Graph g;
        auto x = g.input("x", {3, 7, 13}, dt);
        g.output("last", layer_norm(x, {13}, g.parameter("w1", w1), g.parameter("b1", b1)));
        g.output("two", layer_norm(x, {7, 13}, g.parameter("w2", w2), g.parameter("b2", b2), 1e-3));
        g.output("plain", layer_norm(x, {3, 7, 13}));
        auto out = g.compile().run({{"x", xv}});
        CHECK_CLOSE(out.at("last"), ref::layer_norm(xv, 1, w1, b1), dt, tolerance(dt, 13));
        CHECK_CLOSE(out.at("two"), ref::layer_norm(xv, 2, w2, b2, 1e-3), dt, tolerance(dt, 91));
        CHECK_CLOSE(out.at("plain"), ref::layer_norm(xv, 3), dt, tolerance(dt, 273));
    }
}

TEST_CASE("large normalisations are parallelised with the same numbers", "[ops][normalization]") {
    Generator gen(64);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({2, 16, 33, 35}, dt, gen), yv = testing::randn({65, 513}, dt, gen);
        const Tensor rm = Tensor::zeros({16}, dt), rv = Tensor::ones({16}, dt);
        Graph g;
        auto x = g.input("x", {2, 16, 33, 35}, dt), y = g.input("y", {65, 513}, dt);
        BatchNormResult r = batch_norm(x, g.parameter("rm", rm), g.parameter("rv", rv), {}, {}, true);
        g.output("bn", r.output);
        g.output("rv", r.running_var);
        g.output("ln", layer_norm(y, {513}));
        auto out = g.compile().run({{"x", xv}, {"y", yv}});
        const ref::BatchNormResult e = ref::batch_norm(xv, rm, rv, {}, {}, true);
        CHECK_CLOSE(out.at("bn"), e.output, dt, tolerance(dt, 2310));
        CHECK_CLOSE(out.at("rv"), e.running_var, dt, tolerance(dt, 2310));
        CHECK_CLOSE(out.at("ln"), ref::layer_norm(yv, 1), dt, tolerance(dt, 513));
    }
}

// ---- user errors ----

TEST_CASE("batch_norm checks its statistics and parameters", "[ops][normalization][errors]") {
    Graph g;
    auto x = g.input("x", {4, 3, 5});
    auto rm = g.parameter("rm", Tensor::zeros({3})), rv = g.parameter("rv", Tensor::ones({3}));
    REQUIRE_THROWS_WITH(batch_norm(x, g.parameter("rm4", Tensor::zeros({4})), rv, {}, {}, true),
                        Contains("batch_norm") && Contains("running_mean") && Contains("[3]") &&
                            Contains("[4]"));
    REQUIRE_THROWS_WITH(batch_norm(x, rm, rv, g.parameter("w", Tensor::ones({2})), {}, true),
                        Contains("weight must have shape [3]"));
    REQUIRE_THROWS_WITH(batch_norm(x, {}, {}, {}, {}, false), Contains("evaluation mode needs running_mean"));
    REQUIRE_THROWS_WITH(batch_norm(g.input("one", {1, 3}), rm, rv, {}, {}, true),
                        Contains("more than 1 value per channel") && Contains("[1, 3]"));
    REQUIRE_THROWS_WITH(batch_norm(g.input("v", {3}), rm, rv, {}, {}, true), Contains("[N, C, ...]"));
}

TEST_CASE("layer_norm checks normalized_shape against the input", "[ops][normalization][errors]") {
    Graph g;
    auto x = g.input("x", {2, 3, 4});
    REQUIRE_THROWS_WITH(layer_norm(x, {3}),
                        Contains("layer_norm") && Contains("[3]") && Contains("[2, 3, 4]"));
    REQUIRE_THROWS_WITH(layer_norm(x, {}), Contains("layer_norm"));
    REQUIRE_THROWS_WITH(layer_norm(x, {4}, g.parameter("w", Tensor::ones({3}))),
                        Contains("weight and bias must have shape [4]"));
}

TEST_CASE("f32 batch-norm statistics add in a cascade, as accurate as a long-double reference", "[ops][normalization]") {
    // One channel of 1 and 4095 values of 3/4 of the half-ulp of 1: added one after another the
    // small values are lost (mean and variance ~1e-4 off, so every output ~1500 ulps off).
    const int64_t n = 4096;
    std::vector<float> values(n, 0.75f * std::ldexp(1.0f, -24));
    values[0] = 1.0f;
    long double mean = 0, var = 0;
    for (float v : values) mean += v;
    mean /= n;
    for (float v : values) var += (v - mean) * (v - mean);
    var /= n;
    const double eps = 1e-5;
    Graph g;
    auto x = g.input("x", {n, 1});
    g.output("y", batch_norm(x, {}, {}, {}, {}, true, 0.1, eps).output);
    const Tensor y = g.compile().run({{"x", Tensor::from_vector(values, {n, 1})}}).at("y");
    for (int64_t i : {int64_t{0}, int64_t{1}, n - 1}) {
        const long double want = (values[static_cast<size_t>(i)] - mean) / std::sqrt(var + eps);
        INFO("element " << i);
        CHECK(y.get_flat(i) == Approx(static_cast<double>(want)).epsilon(2e-5));
    }
}

TEST_CASE("f32 batch-norm statistics over long planes stay as accurate as a long-double reference",
          "[ops][normalization]") {
    // The test above on a [N, 1, L] layout, summed plane by plane along the rows (the CPU default's
    // one-sweep statistics): one 1 and small values of 3/4 of its half-ulp, which a plain
    // running sum loses.
    for (const Shape &shape : {Shape{1, 1, 4096}, Shape{2, 1, 3001}, Shape{3, 1, 600}}) {
        INFO(shape_str(shape));
        const int64_t n = shape_numel(shape);
        std::vector<float> values(static_cast<size_t>(n), 0.75f * std::ldexp(1.0f, -24));
        values[0] = 1.0f;
        long double mean = 0, var = 0;
        for (float v : values) mean += v;
        mean /= n;
        for (float v : values) var += (v - mean) * (v - mean);
        var /= n;
        const double eps = 1e-5;
        Graph g;
        auto x = g.input("x", shape);
        g.output("y", batch_norm(x, {}, {}, {}, {}, true, 0.1, eps).output);
        const Tensor y = g.compile().run({{"x", Tensor::from_vector(values, shape)}}).at("y");
        for (int64_t i : {int64_t{0}, int64_t{1}, n - 1}) {
            const long double want = (values[static_cast<size_t>(i)] - mean) / std::sqrt(var + eps);
            INFO("element " << i);
            CHECK(y.get_flat(i) == Approx(static_cast<double>(want)).epsilon(2e-5));
        }
    }
}
