// matmul and linear against the naive reference: plain, batched and
// broadcast matrix products, torch.matmul's 1-d cases, linear with and
// without bias, a large case the default schedule tiles and parallelises,
// integer products, and the user errors of both ops.

#include "tests/op_test_helpers.h"

using namespace strata;
namespace ref = strata::reference;
using Catch::Contains;
using testing::float_dtypes;
using testing::tolerance;

TEST_CASE("matmul: plain, batched, broadcast batch dims and 1-d operands", "[ops][matmul]") {
    Generator gen(40);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor a = testing::randn({7, 13}, dt, gen), b = testing::randn({13, 29}, dt, gen);
        const Tensor ab = testing::randn({3, 7, 13}, dt, gen), b5 = testing::randn({13, 5}, dt, gen);
        const Tensor a4 = testing::randn({2, 1, 7, 13}, dt, gen), b3 = testing::randn({3, 13, 5}, dt, gen);
        const Tensor v = testing::randn({13}, dt, gen), u = testing::randn({13}, dt, gen);
        Graph g;
        auto ia = g.input("a", {7, 13}, dt), ib = g.input("b", {13, 29}, dt),
             iab = g.input("ab", {3, 7, 13}, dt);
        auto ib5 = g.input("b5", {13, 5}, dt), ia4 = g.input("a4", {2, 1, 7, 13}, dt);
        auto ib3 = g.input("b3", {3, 13, 5}, dt), iv = g.input("v", {13}, dt), iu = g.input("u", {13}, dt);
        g.output("mm", matmul(ia, ib));
        g.output("batch_by_matrix", matmul(iab, ib5));
        g.output("broadcast", matmul(ia4, ib3));
        g.output("vec_mat", matmul(iv, ib5));
        g.output("batch_vec", matmul(iab, iv));
        g.output("dot", matmul(iv, iu));
        g.output("vec_batch", matmul(iv, ib3));
        g.output("outer", matmul(reshape(iv, {13, 1}), reshape(iu, {1, 13})));  // K = 1
        auto out = g.compile().run(
            {{"a", a}, {"b", b}, {"ab", ab}, {"b5", b5}, {"a4", a4}, {"b3", b3}, {"v", v}, {"u", u}});
        const double tol = tolerance(dt, 13);
        CHECK_CLOSE(out.at("mm"), ref::matmul(a, b), dt, tol);
        CHECK_CLOSE(out.at("batch_by_matrix"), ref::matmul(ab, b5), dt, tol);
        CHECK_CLOSE(out.at("broadcast"), ref::matmul(a4, b3), dt, tol);
        CHECK(out.at("broadcast").shape() == Shape{2, 3, 7, 5});
        CHECK_CLOSE(out.at("vec_mat"), ref::matmul(v, b5), dt, tol);
        CHECK(out.at("vec_mat").shape() == Shape{5});
        CHECK_CLOSE(out.at("batch_vec"), ref::matmul(ab, v), dt, tol);
        CHECK(out.at("batch_vec").shape() == Shape{3, 7});
        CHECK_CLOSE(out.at("dot"), ref::matmul(v, u), dt, tol);
        CHECK(out.at("dot").shape() == Shape{});
        CHECK_CLOSE(out.at("vec_batch"), ref::matmul(v, b3), dt, tol);
        CHECK(out.at("vec_batch").shape() == Shape{3, 5});
        CHECK_CLOSE(out.at("outer"), ref::matmul(ref::reshape(v, {13, 1}), ref::reshape(u, {1, 13})), dt,
                    tol);
    }
}

TEST_CASE("linear with and without bias, on 1-d, 2-d and 3-d inputs", "[ops][matmul]") {
    Generator gen(41);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor x2 = testing::randn({4, 13}, dt, gen), x3 = testing::randn({2, 3, 13}, dt, gen);
        const Tensor x1 = testing::randn({13}, dt, gen);
        const Tensor w = testing::randn({29, 13}, dt, gen), b = testing::randn({29}, dt, gen);
        Graph g;
        auto i2 = g.input("x2", {4, 13}, dt), i3 = g.input("x3", {2, 3, 13}, dt),
             i1 = g.input("x1", {13}, dt);
        auto pw = g.parameter("w", w), pb = g.parameter("b", b);
        g.output("y2", linear(i2, pw, pb));
        g.output("y3", linear(i3, pw));
        g.output("y1", linear(i1, pw, pb));
        auto out = g.compile().run({{"x2", x2}, {"x3", x3}, {"x1", x1}});
        const double tol = tolerance(dt, 13);
        CHECK_CLOSE(out.at("y2"), ref::linear(x2, w, b), dt, tol);
        CHECK_CLOSE(out.at("y3"), ref::linear(x3, w), dt, tol);
        CHECK_CLOSE(out.at("y1"), ref::linear(x1, w, b), dt, tol);
        CHECK(out.at("y1").shape() == Shape{29});
    }
}

TEST_CASE("linear on a few rows (dot-product form): chunks, tails, short outputs, threads", "[ops][matmul]") {
    // Up to 4 rows take the dot-product form: in-feature chunks of one vector
    // plus a tail, output tiles of 8 (the last shifted inwards), and threads
    // once the work is large (2 x 300 x 500).
    Generator gen(44);
    struct Case {
        Shape x;
        int64_t out;
    };
    const std::vector<Case> cases = {{{40}, 29}, {{3, 32}, 5}, {{1, 17}, 8}, {{4, 70}, 13}, {{2, 300}, 500}};
    for (DType dt : float_dtypes) {
        for (const Case &c : cases) {
            INFO(dtype_name(dt) << " x " << fmt::format("{}", fmt::join(c.x, "x")) << " -> " << c.out);
            const int64_t in = c.x.back();
            const Tensor x = testing::randn(c.x, dt, gen), w = testing::randn({c.out, in}, dt, gen),
                         b = testing::randn({c.out}, dt, gen);
            Graph g;
            auto ix = g.input("x", c.x, dt);
            g.output("y", linear(ix, g.parameter("w", w), g.parameter("b", b)));
            g.output("y_nobias", linear(ix, g.parameter("w2", w)));
            auto out = g.compile().run({{"x", x}});
            CHECK_CLOSE(out.at("y"), ref::linear(x, w, b), dt, tolerance(dt, in));
            CHECK_CLOSE(out.at("y_nobias"), ref::linear(x, w), dt, tolerance(dt, in));
        }
    }
}

TEST_CASE("large products are tiled and parallelised with the same numbers", "[ops][matmul]") {
    // 65 x 97 outputs of 129 terms, and a batched 2 x 33 x 35: over the thread threshold.
    Generator gen(42);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor a = testing::randn({65, 129}, dt, gen), b = testing::randn({129, 97}, dt, gen);
        const Tensor c = testing::randn({2, 33, 65}, dt, gen), d = testing::randn({2, 65, 35}, dt, gen);
        const Tensor w = testing::randn({33, 129}, dt, gen), bias = testing::randn({33}, dt, gen);
        Graph g;
        auto ia = g.input("a", {65, 129}, dt), ib = g.input("b", {129, 97}, dt);
        auto ic = g.input("c", {2, 33, 65}, dt), id = g.input("d", {2, 65, 35}, dt);
        g.output("mm", matmul(ia, ib));
        g.output("bmm", matmul(ic, id));
        g.output("linear", linear(ia, g.parameter("w", w), g.parameter("bias", bias)));
        auto out = g.compile().run({{"a", a}, {"b", b}, {"c", c}, {"d", d}});
        CHECK_CLOSE(out.at("mm"), ref::matmul(a, b), dt, tolerance(dt, 129));
        CHECK_CLOSE(out.at("bmm"), ref::matmul(c, d), dt, tolerance(dt, 65));
        CHECK_CLOSE(out.at("linear"), ref::linear(a, w, bias), dt, tolerance(dt, 129));
    }
}

TEST_CASE("integer matmul is exact", "[ops][matmul]") {
    Generator gen(43);
    Tensor a = Tensor::empty({5, 11}, DType::i32), b = Tensor::empty({11, 7}, DType::i32);
    for (Tensor *t : {&a, &b})
        for (int64_t i = 0; i < t->numel(); ++i) t->set_flat(i, static_cast<double>(gen.below(41)) - 20.0);
    Graph g;
    g.output("y", matmul(g.input("a", {5, 11}, DType::i32), g.input("b", {11, 7}, DType::i32)));
    const Tensor y = g.compile().run({{"a", a}, {"b", b}}).at("y");
    CHECK(y.dtype() == DType::i32);
    CHECK_EXACT(y, ref::matmul(a, b));
}

// ---- user errors ----

TEST_CASE("matmul with mismatched inner dims names both shapes", "[ops][matmul][errors]") {
    Graph g;
    auto a = g.input("a", {2, 3, 4}), b = g.input("b", {5, 6});
    REQUIRE_THROWS_WITH(matmul(a, b), Contains("matmul") && Contains("[2, 3, 4]") && Contains("[5, 6]"));
    REQUIRE_THROWS_WITH(matmul(a, g.input("s", {})), Contains("matmul") && Contains("at least 1 dimension"));
    REQUIRE_THROWS_WITH(matmul(a, g.input("c", {3, 4, 5})),
                        Contains("matmul") && Contains("cannot be broadcast") && Contains("2 vs 3"));
    REQUIRE_THROWS_WITH(matmul(a, g.input("d", {4, 5}, DType::f64)), Contains("dtype mismatch"));
}

TEST_CASE("linear with a wrong weight or bias names the shapes", "[ops][matmul][errors]") {
    Graph g;
    auto x = g.input("x", {4, 13});
    REQUIRE_THROWS_WITH(linear(x, g.parameter("w", Tensor::ones({7, 12}))),
                        Contains("linear") && Contains("13 features") && Contains("[7, 12]"));
    REQUIRE_THROWS_WITH(linear(x, g.parameter("w3", Tensor::ones({7, 13, 1}))),
                        Contains("weight must be 2-d"));
    REQUIRE_THROWS_WITH(
        linear(x, g.parameter("w2", Tensor::ones({7, 13})), g.parameter("b", Tensor::ones({13}))),
        Contains("bias must have shape [7]") && Contains("[13]"));
    REQUIRE_THROWS_WITH(linear(x, {}), Contains("linear") && Contains("weight") && Contains("undefined"));
}
