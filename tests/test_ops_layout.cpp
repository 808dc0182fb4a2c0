// Layout ops against the naive reference: reshape (and flatten, squeeze,
// unsqueeze), permute and transpose, expand, slice with Python indices,
// concat, and pad in every mode; a large case the default schedule
// parallelises; non-float dtypes; and the user errors of the shape API.
// Data movement must be exact.

#include "tests/op_test_helpers.h"

using namespace strata;
namespace ref = strata::reference;
using Catch::Contains;
using testing::float_dtypes;

TEST_CASE("reshape, flatten, squeeze, unsqueeze, permute, transpose and expand", "[ops][layout]") {
    Generator gen(50);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({3, 7, 13}, dt, gen), cv = testing::randn({7, 1}, dt, gen);
        Graph g;
        auto x = g.input("x", {3, 7, 13}, dt), c = g.input("c", {7, 1}, dt);
        g.output("reshape", reshape(x, {13, -1, 3}));
        g.output("flatten", flatten(x, 1));
        g.output("unsqueeze_squeeze", squeeze(unsqueeze(x, -1) * 2.0, 3));
        g.output("permute", permute(x, {2, 0, 1}));
        g.output("permute_neg", permute(x, {-1, -2, 0}));
        g.output("transpose", transpose(x, 0, 2));
        g.output("expand", expand(c, {2, -1, 5}));
        g.output("permute_of_reshape", permute(reshape(x, {21, 13}), {1, 0}) + 1.0);
        auto out = g.compile().run({{"x", xv}, {"c", cv}});
        CHECK_EXACT(out.at("reshape"), ref::reshape(xv, {13, 7, 3}));
        CHECK_EXACT(out.at("flatten"), ref::reshape(xv, {3, 91}));
        CHECK_EXACT(out.at("unsqueeze_squeeze"), ref::map(xv, [](double v) { return 2 * v; }));
        CHECK_EXACT(out.at("permute"), ref::permute(xv, {2, 0, 1}));
        CHECK_EXACT(out.at("permute_neg"), ref::permute(xv, {2, 1, 0}));
        CHECK_EXACT(out.at("transpose"), ref::permute(xv, {2, 1, 0}));
        CHECK_EXACT(out.at("expand"), ref::expand(cv, {2, 7, 5}));
        CHECK_CLOSE(
            out.at("permute_of_reshape"),
            ref::map(ref::permute(ref::reshape(xv, {21, 13}), {1, 0}), [](double v) { return v + 1; }), dt,
            testing::tolerance(dt));
        CHECK(out.at("reshape").dtype() == dt);
    }
}

TEST_CASE("slice with steps, negative indices and clamping, and concat", "[ops][layout]") {
    Generator gen(51);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({5, 13, 7}, dt, gen);
        const Tensor yv = testing::randn({5, 3, 7}, dt, gen), zv = testing::randn({5, 1, 7}, dt, gen);
        Graph g;
        auto x = g.input("x", {5, 13, 7}, dt), y = g.input("y", {5, 3, 7}, dt),
             z = g.input("z", {5, 1, 7}, dt);
        g.output("step", slice(x, 1, 1, 12, 3));
        g.output("negative", slice(x, -1, -5, -1));
        g.output("clamped", slice(x, 0, -100, 100, 2));
        g.output("last", slice(x, 1, 12, 13));
        g.output("concat_1", concat({x, y, z}, 1));
        g.output("concat_neg", concat({x, x}, -1));
        g.output("concat_0", concat({slice(x, 0, 0, 2), x}, 0));
        auto out = g.compile().run({{"x", xv}, {"y", yv}, {"z", zv}});
        CHECK_EXACT(out.at("step"), ref::slice(xv, 1, 1, 12, 3));
        CHECK(out.at("step").shape() == Shape{5, 4, 7});
        CHECK_EXACT(out.at("negative"), ref::slice(xv, 2, -5, -1));
        CHECK_EXACT(out.at("clamped"), ref::slice(xv, 0, -100, 100, 2));
        CHECK_EXACT(out.at("last"), ref::slice(xv, 1, 12, 13));
        CHECK_EXACT(out.at("concat_1"), ref::concat({xv, yv, zv}, 1));
        CHECK_EXACT(out.at("concat_neg"), ref::concat({xv, xv}, 2));
        CHECK_EXACT(out.at("concat_0"), ref::concat({ref::slice(xv, 0, 0, 2), xv}, 0));
    }
}

TEST_CASE("pad: constant (with value and negative crops), reflect, replicate, circular", "[ops][layout]") {
    Generator gen(52);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({2, 3, 5, 7}, dt, gen);
        Graph g;
        auto x = g.input("x", {2, 3, 5, 7}, dt);
        g.output("constant", pad(x, {1, 2}, "constant", 1.5));
        g.output("constant_3d", pad(x, {0, 1, 2, 0, 1, 1}));
        g.output("crop", pad(x, {-2, 1, 1, -1}, "constant", -3.0));
        g.output("reflect", pad(x, {3, 6, 4, 2}, "reflect"));
        g.output("replicate", pad(x, {2, 5, 0, 3}, "replicate"));
        g.output("circular", pad(x, {7, 3, 2, 5}, "circular"));
        g.output("reflect_last", pad(x, {1, 0}, "reflect"));
        auto out = g.compile().run({{"x", xv}});
        CHECK_EXACT(out.at("constant"), ref::pad(xv, {1, 2}, "constant", 1.5));
        CHECK_EXACT(out.at("constant_3d"), ref::pad(xv, {0, 1, 2, 0, 1, 1}));
        CHECK_EXACT(out.at("crop"), ref::pad(xv, {-2, 1, 1, -1}, "constant", -3.0));
        CHECK(out.at("crop").shape() == Shape{2, 3, 5, 6});
        CHECK_EXACT(out.at("reflect"), ref::pad(xv, {3, 6, 4, 2}, "reflect"));
        CHECK_EXACT(out.at("replicate"), ref::pad(xv, {2, 5, 0, 3}, "replicate"));
        CHECK_EXACT(out.at("circular"), ref::pad(xv, {7, 3, 2, 5}, "circular"));
        CHECK_EXACT(out.at("reflect_last"), ref::pad(xv, {1, 0}, "reflect"));
    }
}

TEST_CASE("pad reference follows PyTorch's documented examples", "[ops][layout]") {
    // F.pad(arange(5), (2, 3), mode) from PyTorch's semantics, written out by hand.
    const Tensor x = Tensor::arange(5, DType::f64).reshape({1, 5});
    auto row = [](std::vector<double> v) { return Tensor::from_vector<double>(v, {1, 10}); };
    CHECK_EXACT(ref::pad(x, {2, 3}, "reflect"), row({2, 1, 0, 1, 2, 3, 4, 3, 2, 1}));
    CHECK_EXACT(ref::pad(x, {2, 3}, "replicate"), row({0, 0, 0, 1, 2, 3, 4, 4, 4, 4}));
    CHECK_EXACT(ref::pad(x, {2, 3}, "circular"), row({3, 4, 0, 1, 2, 3, 4, 0, 1, 2}));
    CHECK_EXACT(ref::pad(x, {2, 3}, "constant", 9), row({9, 9, 0, 1, 2, 3, 4, 9, 9, 9}));
}

TEST_CASE("large layout ops are parallelised with the same data", "[ops][layout]") {
    // 33 x 65 x 17 = 36465 elements: over the default schedule's thread threshold.
    Generator gen(53);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({33, 65, 17}, dt, gen);
        Graph g;
        auto x = g.input("x", {33, 65, 17}, dt);
        g.output("permute", permute(x, {1, 2, 0}));
        g.output("pad", pad(x, {3, 2, 1, 4}, "reflect"));
        g.output("slice_concat", concat({slice(x, 2, 0, 17, 2), slice(x, 2, 1, 17, 2)}, 2));
        auto out = g.compile().run({{"x", xv}});
        CHECK_EXACT(out.at("permute"), ref::permute(xv, {1, 2, 0}));
        CHECK_EXACT(out.at("pad"), ref::pad(xv, {3, 2, 1, 4}, "reflect"));
        CHECK_EXACT(out.at("slice_concat"),
                    ref::concat({ref::slice(xv, 2, 0, 17, 2), ref::slice(xv, 2, 1, 17, 2)}, 2));
    }
}

TEST_CASE("layout ops move integers and booleans too", "[ops][layout]") {
    const Tensor iv = Tensor::from_vector<int32_t>({1, -2, 3, -4, 5, -6}, {2, 3});
    Tensor bv = Tensor::from_vector<bool>({true, false, false, true, true, false}, {3, 2});
    Graph g;
    auto i = g.input("i", {2, 3}, DType::i32), b = g.input("b", {3, 2}, DType::boolean);
    g.output("i", concat({permute(i, {1, 0}), g.constant(7, {1, 2}, DType::i32)}, 0));
    g.output("i_expand", expand(slice(i, 0, 1, 2), {4, 3}));
    g.output("b", pad(transpose(b, 0, 1), {1, 1}, "replicate"));
    auto out = g.compile().run({{"i", iv}, {"b", bv}});
    CHECK(out.at("i").dtype() == DType::i32);
    CHECK_EXACT(out.at("i"),
                ref::concat({ref::permute(iv, {1, 0}), Tensor::full({1, 2}, 7.0, DType::f64)}, 0));
    CHECK_EXACT(out.at("i_expand"), ref::expand(ref::slice(iv, 0, 1, 2), {4, 3}));
    CHECK(out.at("b").dtype() == DType::boolean);
    CHECK_EXACT(out.at("b"), ref::pad(ref::permute(bv, {1, 0}), {1, 1}, "replicate"));
}

TEST_CASE("an empty slice has extent 0, and compiling it is a clear error for now", "[ops][layout]") {
    Graph g;
    auto x = g.input("x", {3, 5});
    auto empty = slice(x, 1, 4, 2);  // end before start: clamped to an empty range, as in Python
    CHECK(empty.shape() == Shape{3, 0});
    g.output("empty", empty);
    // Zero-size tensors are not supported by the compiler yet; it must say so, not crash.
    REQUIRE_THROWS_WITH(g.compile(), Contains("slice") && Contains("zero-size") && Contains("f32[3,0]"));
}

// ---- user errors ----

TEST_CASE("reshape and expand to impossible shapes are rejected", "[ops][layout][errors]") {
    Graph g;
    auto x = g.input("x", {2, 3, 4});
    REQUIRE_THROWS_WITH(reshape(x, {5, 5}),
                        Contains("reshape") && Contains("[2, 3, 4]") && Contains("[5, 5]"));
    REQUIRE_THROWS_WITH(reshape(x, {-1, 5}), Contains("reshape") && Contains("24 elements"));
    REQUIRE_THROWS_WITH(reshape(x, {-1, -1}), Contains("only one dimension can be -1"));
    REQUIRE_THROWS_WITH(expand(x, {2, 5, 4}),
                        Contains("expand") && Contains("extent 3") && Contains("not to 5"));
    REQUIRE_THROWS_WITH(expand(x, {3, 4}), Contains("expand") && Contains("fewer dims"));
}

TEST_CASE("permute, slice, squeeze and transpose check their dims", "[ops][layout][errors]") {
    Graph g;
    auto x = g.input("x", {2, 3, 4});
    REQUIRE_THROWS_WITH(permute(x, {0, 1}), Contains("permute") && Contains("2 dims") && Contains("3-d"));
    REQUIRE_THROWS_WITH(permute(x, {0, 1, 1}), Contains("permute") && Contains("not a permutation"));
    REQUIRE_THROWS_WITH(slice(x, 1, 0, 2, 0), Contains("slice") && Contains("step must be positive"));
    REQUIRE_THROWS_WITH(slice(x, 3, 0, 2), Contains("slice") && Contains("dim 3"));
    REQUIRE_THROWS_WITH(squeeze(x, -4), Contains("squeeze") && Contains("dim -4"));
    REQUIRE_THROWS_WITH(transpose(x, 0, 3), Contains("transpose") && Contains("dim 3"));
}

TEST_CASE("concat of mismatched shapes or dtypes names them", "[ops][layout][errors]") {
    Graph g;
    auto a = g.input("a", {2, 3}), b = g.input("b", {4, 4});
    REQUIRE_THROWS_WITH(concat({a, b}, 1), Contains("concat") && Contains("[4, 4]") && Contains("[2, 3]"));
    REQUIRE_THROWS_WITH(concat({a, g.input("c", {2, 3}, DType::f64)}), Contains("concat") && Contains("f64"));
    REQUIRE_THROWS_WITH(concat({}), Contains("concat") && Contains("at least one"));
}

TEST_CASE("bad pads are rejected", "[ops][layout][errors]") {
    Graph g;
    auto x = g.input("x", {2, 3, 4});
    REQUIRE_THROWS_WITH(pad(x, {4, 0}, "reflect"), Contains("reflect") && Contains("extent 4"));
    REQUIRE_THROWS_WITH(pad(x, {5, 0}, "circular"), Contains("circular") && Contains("extent 4"));
    REQUIRE_THROWS_WITH(pad(x, {1, 1, 1}), Contains("pad") && Contains("even number"));
    REQUIRE_THROWS_WITH(pad(x, {1, 1}, "wrap"), Contains("pad") && Contains("\"wrap\""));
    REQUIRE_THROWS_WITH(pad(x, {-1, 0}, "replicate"), Contains("negative padding"));
    REQUIRE_THROWS_WITH(pad(x, {-3, -2}), Contains("pad") && Contains("negative"));
}
