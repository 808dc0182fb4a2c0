// Pointwise ops against the naive reference: unary maths and activations,
// broadcasting binary ops, comparisons and logic, where, casts, dropout's
// statistics, and the user errors of pointwise graphs and of running them.

#include "tests/op_test_helpers.h"

#include <cmath>

using namespace strata;
namespace ref = strata::reference;
using Catch::Contains;
using testing::float_dtypes;
using testing::tolerance;

TEST_CASE("unary maths and activations match the reference", "[ops][pointwise]") {
    Generator gen(1);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        // 7 x 13: neither extent is a multiple of a vector width.
        const Tensor xv = testing::randn({7, 13}, dt, gen);
        const Tensor x3 = Tensor::randn({7, 13}, gen, dt, 0.0, 3.0);  // crosses softplus thresholds
        const Tensor pv = testing::rand({7, 13}, dt, gen, 0.1, 4.0);  // positive, for log/sqrt/rsqrt
        Graph g;
        auto x = g.input("x", {7, 13}, dt), w = g.input("w", {7, 13}, dt), p = g.input("p", {7, 13}, dt);
        g.output("neg", -x);
        g.output("exp", exp(x));
        g.output("log", log(p));
        g.output("sqrt", sqrt(p));
        g.output("rsqrt", rsqrt(p));
        g.output("abs", abs(x));
        g.output("relu", relu(x));
        g.output("leaky_relu", leaky_relu(x));
        g.output("leaky_relu_02", leaky_relu(x, 0.2));
        g.output("elu", elu(x));
        g.output("elu_05", elu(x, 0.5));
        g.output("gelu", gelu(w));
        g.output("gelu_tanh", gelu(w, "tanh"));
        g.output("sigmoid", sigmoid(w));
        g.output("tanh", tanh(w));
        g.output("softplus", softplus(w));
        g.output("softplus_b2_t3", softplus(w, 2.0, 3.0));
        g.output("softplus_b05_t1", softplus(w, 0.5, 1.0));
        auto out = g.compile().run({{"x", xv}, {"w", x3}, {"p", pv}});
        const double tol = tolerance(dt);
        CHECK_CLOSE(out.at("neg"), ref::map(xv, [](double v) { return -v; }), dt, 0);
        CHECK_CLOSE(out.at("exp"), ref::map(xv, [](double v) { return std::exp(v); }), dt, tol);
        CHECK_CLOSE(out.at("log"), ref::map(pv, [](double v) { return std::log(v); }), dt, tol);
        CHECK_CLOSE(out.at("sqrt"), ref::map(pv, [](double v) { return std::sqrt(v); }), dt, tol);
        CHECK_CLOSE(out.at("rsqrt"), ref::map(pv, [](double v) { return 1 / std::sqrt(v); }), dt, tol);
        CHECK_CLOSE(out.at("abs"), ref::map(xv, [](double v) { return std::fabs(v); }), dt, 0);
        CHECK_CLOSE(out.at("relu"), ref::map(xv, [](double v) { return v > 0 ? v : 0.0; }), dt, 0);
        CHECK_CLOSE(out.at("leaky_relu"), ref::map(xv, [](double v) { return ref::leaky_relu(v); }), dt, tol);
        CHECK_CLOSE(out.at("leaky_relu_02"), ref::map(xv, [](double v) { return ref::leaky_relu(v, 0.2); }),
                    dt, tol);
        CHECK_CLOSE(out.at("elu"), ref::map(xv, [](double v) { return ref::elu(v); }), dt, tol);
        CHECK_CLOSE(out.at("elu_05"), ref::map(xv, [](double v) { return ref::elu(v, 0.5); }), dt, tol);
        CHECK_CLOSE(out.at("gelu"), ref::map(x3, [](double v) { return ref::gelu(v); }), dt, tol);
        CHECK_CLOSE(out.at("gelu_tanh"), ref::map(x3, [](double v) { return ref::gelu(v, "tanh"); }), dt,
                    tol);
        CHECK_CLOSE(out.at("sigmoid"), ref::map(x3, [](double v) { return ref::sigmoid(v); }), dt, tol);
        CHECK_CLOSE(out.at("tanh"), ref::map(x3, [](double v) { return std::tanh(v); }), dt, tol);
        CHECK_CLOSE(out.at("softplus"), ref::map(x3, [](double v) { return ref::softplus(v); }), dt, tol);
        CHECK_CLOSE(out.at("softplus_b2_t3"), ref::map(x3, [](double v) { return ref::softplus(v, 2, 3); }),
                    dt, tol);
        CHECK_CLOSE(out.at("softplus_b05_t1"),
                    ref::map(x3, [](double v) { return ref::softplus(v, 0.5, 1); }), dt, tol);
    }
}

TEST_CASE("binary ops broadcast like NumPy and scalars take the tensor's dtype", "[ops][pointwise]") {
    Generator gen(2);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        // [3, 1, 29] with [5, 1]: both operands are broadcast.
        const Tensor av = testing::randn({3, 1, 29}, dt, gen), bv = testing::randn({5, 1}, dt, gen);
        const Tensor pv = testing::rand({3, 1, 29}, dt, gen, 0.2, 3.0);
        Graph g;
        auto a = g.input("a", {3, 1, 29}, dt), b = g.input("b", {5, 1}, dt), p = g.input("p", {3, 1, 29}, dt);
        g.output("add", a + b);
        g.output("sub", a - b);
        g.output("mul", a * b);
        g.output("div", a / b);
        g.output("pow", pow(p, b));
        g.output("pow_scalar", pow(p, 2.5));
        g.output("maximum", maximum(a, b));
        g.output("minimum", minimum(a, b));
        g.output("scalars", (2.0 - a) * 3.0 + 1.5 / p - a / 4.0);
        auto out = g.compile().run({{"a", av}, {"b", bv}, {"p", pv}});
        const double tol = tolerance(dt);
        CHECK_CLOSE(out.at("add"), ref::map2(av, bv, [](double x, double y) { return x + y; }), dt, tol);
        CHECK_CLOSE(out.at("sub"), ref::map2(av, bv, [](double x, double y) { return x - y; }), dt, tol);
        CHECK_CLOSE(out.at("mul"), ref::map2(av, bv, [](double x, double y) { return x * y; }), dt, tol);
        CHECK_CLOSE(out.at("div"), ref::map2(av, bv, [](double x, double y) { return x / y; }), dt, tol);
        CHECK_CLOSE(out.at("pow"), ref::map2(pv, bv, [](double x, double y) { return std::pow(x, y); }), dt,
                    tol);
        CHECK_CLOSE(out.at("pow_scalar"), ref::map(pv, [](double x) { return std::pow(x, 2.5); }), dt, tol);
        CHECK_CLOSE(out.at("maximum"), ref::map2(av, bv, [](double x, double y) { return std::max(x, y); }),
                    dt, 0);
        CHECK_CLOSE(out.at("minimum"), ref::map2(av, bv, [](double x, double y) { return std::min(x, y); }),
                    dt, 0);
        const Tensor expected =
            ref::map2(av, pv, [](double x, double q) { return (2 - x) * 3 + 1.5 / q - x / 4; });
        CHECK_CLOSE(out.at("scalars"), expected, dt, 4 * tol);
    }
}

TEST_CASE("comparisons, logic and where", "[ops][pointwise]") {
    Generator gen(3);
    for (DType dt : {DType::f32, DType::f64, DType::i32}) {
        INFO(dtype_name(dt));
        // Small integers, so that equal elements actually occur.
        auto small_ints = [&](const Shape &s) {
            Tensor t = Tensor::empty(s, dt);
            for (int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, static_cast<double>(gen.below(5)) - 2.0);
            return t;
        };
        const Tensor av = small_ints({4, 33}), bv = small_ints({33}), xv = small_ints({4, 1});
        Graph g;
        auto a = g.input("a", {4, 33}, dt), b = g.input("b", {33}, dt), x = g.input("x", {4, 1}, dt);
        g.output("eq", a == b);
        g.output("ne", a != b);
        g.output("lt", a < b);
        g.output("le", a <= b);
        g.output("gt", a > b);
        g.output("ge", a >= b);
        g.output("and", (a > b) && (x < b));
        g.output("or", (a > b) || (x < b));
        g.output("not", !(a == b));
        g.output("where", where(a > b, x, b));
        auto out = g.compile().run({{"a", av}, {"b", bv}, {"x", xv}});
        for (const char *name : {"eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not"})
            CHECK(out.at(name).dtype() == DType::boolean);
        auto cmp = [&](auto f) {
            return ref::map2(av, bv, [f](double p, double q) { return f(p, q) ? 1.0 : 0.0; });
        };
        CHECK_EXACT(out.at("eq"), cmp([](double p, double q) { return p == q; }));
        CHECK_EXACT(out.at("ne"), cmp([](double p, double q) { return p != q; }));
        CHECK_EXACT(out.at("lt"), cmp([](double p, double q) { return p < q; }));
        CHECK_EXACT(out.at("le"), cmp([](double p, double q) { return p <= q; }));
        CHECK_EXACT(out.at("gt"), cmp([](double p, double q) { return p > q; }));
        CHECK_EXACT(out.at("ge"), cmp([](double p, double q) { return p >= q; }));
        const Tensor gt = cmp([](double p, double q) { return p > q; });
        const Tensor lt = ref::map2(xv, bv, [](double p, double q) { return p < q ? 1.0 : 0.0; });
        CHECK_EXACT(out.at("and"), ref::map2(gt, lt, [](double p, double q) { return p * q; }));
        CHECK_EXACT(out.at("or"), ref::map2(gt, lt, [](double p, double q) { return std::max(p, q); }));
        CHECK_EXACT(out.at("not"), cmp([](double p, double q) { return p != q; }));
        CHECK(out.at("where").dtype() == dt);
        CHECK_EXACT(out.at("where"), ref::where(gt, xv, bv));
    }
}

TEST_CASE("integer pointwise arithmetic is exact", "[ops][pointwise]") {
    const Tensor av = Tensor::from_vector<int32_t>({-7, -3, 0, 2, 5, 9, 11}, {7});
    const Tensor bv = Tensor::from_vector<int32_t>({3, -4, 6, 2, -5, 1, 11}, {7});
    Graph g;
    auto a = g.input("a", {7}, DType::i32), b = g.input("b", {7}, DType::i32);
    g.output("arith", (a + b) * a - b);
    g.output("max", maximum(a, b));
    g.output("min", minimum(a, b));
    g.output("neg_abs_relu", -abs(a) + relu(b));
    auto out = g.compile().run({{"a", av}, {"b", bv}});
    CHECK(out.at("arith").dtype() == DType::i32);
    CHECK_EXACT(out.at("arith"), ref::map2(av, bv, [](double x, double y) { return (x + y) * x - y; }));
    CHECK_EXACT(out.at("max"), ref::map2(av, bv, [](double x, double y) { return std::max(x, y); }));
    CHECK_EXACT(out.at("min"), ref::map2(av, bv, [](double x, double y) { return std::min(x, y); }));
    CHECK_EXACT(out.at("neg_abs_relu"),
                ref::map2(av, bv, [](double x, double y) { return -std::fabs(x) + std::max(y, 0.0); }));
}

TEST_CASE("casts follow PyTorch: truncation toward zero, != 0 to bool", "[ops][pointwise]") {
    const Tensor fv =
        Tensor::from_vector<float>({-2.7f, -1.5f, -0.2f, 0.0f, 0.4f, 1.5f, 2.99f, -0.0f, 7.0f}, {9});
    const Tensor iv = Tensor::from_vector<int32_t>({-3, 0, 1, 2, 40000, -7, 5, 6, 0}, {9});
    Graph g;
    auto f = g.input("f", {9}, DType::f32), i = g.input("i", {9}, DType::i32);
    g.output("f_to_i", cast(f, DType::i32));
    g.output("f_to_b", cast(f, DType::boolean));
    g.output("f_to_d", cast(f, DType::f64));
    g.output("i_to_f", cast(i, DType::f32));
    g.output("i_to_d", cast(i, DType::f64));
    g.output("i_to_b", cast(i, DType::boolean));
    g.output("b_to_f", cast(cast(i, DType::boolean), DType::f32));
    auto out = g.compile().run({{"f", fv}, {"i", iv}});
    for (auto [name, dt] : {std::pair{"f_to_i", DType::i32},
                            {"f_to_b", DType::boolean},
                            {"f_to_d", DType::f64},
                            {"i_to_f", DType::f32},
                            {"i_to_d", DType::f64},
                            {"b_to_f", DType::f32}}) {
        INFO(name);
        CHECK(out.at(name).dtype() == dt);
    }
    CHECK_EXACT(out.at("f_to_i"), ref::cast(fv, DType::i32));
    CHECK_EXACT(out.at("f_to_b"), ref::cast(fv, DType::boolean));
    CHECK_EXACT(out.at("f_to_d"), ref::cast(fv, DType::f64));
    CHECK_EXACT(out.at("i_to_f"), ref::cast(iv, DType::f32));
    CHECK_EXACT(out.at("i_to_d"), ref::cast(iv, DType::f64));
    CHECK_EXACT(out.at("i_to_b"), ref::cast(iv, DType::boolean));
    CHECK_EXACT(out.at("b_to_f"), ref::cast(ref::cast(iv, DType::boolean), DType::f32));
}

TEST_CASE("a large pointwise chain is tiled and parallelised with the same numbers", "[ops][pointwise]") {
    // 65 x 513 = 33345 elements, over the default schedule's threshold for threads.
    Generator gen(4);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({65, 513}, dt, gen), yv = testing::randn({513}, dt, gen);
        Graph g;
        auto x = g.input("x", {65, 513}, dt), y = g.input("y", {513}, dt);
        g.output("z", gelu(x) * sigmoid(y) + elu(x - y, 0.7));
        const Tensor z = g.compile().run({{"x", xv}, {"y", yv}}).at("z");
        const Tensor expected = ref::map2(
            xv, yv, [](double a, double b) { return ref::gelu(a) * ref::sigmoid(b) + ref::elu(a - b, 0.7); });
        CHECK_CLOSE(z, expected, dt, 4 * tolerance(dt));
    }
}

TEST_CASE("dropout zeroes a fraction p, scales the rest by 1/(1-p), and is fixed by its seed",
          "[ops][pointwise]") {
    const double p = 0.3;
    const Shape shape = {64, 129};  // 8256 elements: the zeroed fraction is within 0.02 of p at 4 sigma
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor ones = Tensor::ones(shape, dt);
        Graph g;
        auto x = g.input("x", shape, dt);
        g.output("a", dropout(x, p, true, 7));
        g.output("b", dropout(x, p, true, 8));
        g.output("eval", dropout(x, p, false, 7));
        g.output("p0", dropout(x, 0.0, true, 7));
        auto compiled = g.compile();
        auto out = compiled.run({{"x", ones}});
        auto again = compiled.run({{"x", ones}});
        const Tensor &a = out.at("a"), &b = out.at("b");
        CHECK(a.dtype() == dt);
        int64_t zeros = 0, differ = 0, zeros_first_half = 0;
        const double kept = dt == DType::f32 ? static_cast<double>(1.0f / 0.7f) : 1.0 / 0.7;
        bool values_ok = true;
        for (int64_t i = 0; i < a.numel(); ++i) {
            const double v = a.get_flat(i);
            if (v == 0) {
                ++zeros;
                if (i < a.numel() / 2) ++zeros_first_half;
            } else if (std::fabs(v - kept) > 1e-6 * kept) {
                values_ok = false;
            }
            differ += (v == 0) != (b.get_flat(i) == 0);
        }
        const double n = static_cast<double>(a.numel());
        CHECK(values_ok);
        CHECK(std::fabs(zeros / n - p) < 0.02);
        CHECK(std::fabs(zeros_first_half / (n / 2) - p) < 0.03);  // not all zeros in one place
        CHECK(differ > n * 0.2);  // another seed, another mask (expected 2 p (1 - p) = 42% differ)
        CHECK(ref::max_abs_diff(a, again.at("a")) == 0);  // same seed, same mask
        // ... also in another graph: the mask is a function of the seed and the position only.
        Graph other;
        other.output("d", dropout(other.input("other", shape, dt) * 1.0, p, true, 7));
        CHECK(ref::max_abs_diff(a, other.compile().run(ones)) == 0);
        CHECK(ref::max_abs_diff(out.at("eval"), ones) == 0);
        CHECK(ref::max_abs_diff(out.at("p0"), ones) == 0);
        // The mask scales the input: x * mask / (1 - p).
        Generator gen(5);
        const Tensor xv = testing::rand(shape, dt, gen, 1.0, 2.0);
        const Tensor ax = compiled.run({{"x", xv}}).at("a");
        CHECK_CLOSE(ax, ref::map2(a, xv, [](double m, double v) { return m * v; }), dt, tolerance(dt));
    }
}

TEST_CASE("dropout with p = 1 zeroes everything", "[ops][pointwise]") {
    Graph g;
    auto x = g.input("x", {5, 7}, DType::f32);
    g.output("y", dropout(x, 1.0, true, 3));
    const Tensor y = g.compile().run(Tensor::ones({5, 7}));
    CHECK(ref::max_abs_diff(y, Tensor::zeros({5, 7})) == 0);
}

namespace {

/// Checks every element on its own scale: infinities must match exactly and
/// finite values within `rtol` of themselves (a magnitude-wide tolerance would
/// be meaningless next to values like 1e38).
void check_elementwise(const Tensor &actual, const Tensor &expected, double rtol, const char *what) {
    REQUIRE(actual.shape() == expected.shape());
    for (int64_t i = 0; i < expected.numel(); ++i) {
        const double a = actual.get_flat(i), e = expected.get_flat(i);
        INFO(what << "[" << i << "]: got " << a << ", expected " << e);
        if (std::isinf(e) || std::isnan(e))
            CHECK(((a == e) || (std::isnan(a) && std::isnan(e))));
        else
            CHECK(std::fabs(a - e) <= rtol * std::fabs(e));
    }
}

}  // namespace

TEST_CASE("infinities and overflow follow IEEE in exp, log, pow and the activations", "[ops][pointwise]") {
    const double inf = INFINITY;
    const std::vector<double> values = {inf, -inf, 88.8, -80.0, 1e20, -1e20, 0.0, 0.5, -2.0, 30.0, -40.0};
    const std::vector<double> positive = {inf, 0.0, 1e20, 1e-3, 3.0e38, 7.5};
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = Tensor::from_vector(values).to(dt), pv = Tensor::from_vector(positive).to(dt);
        Graph g;
        auto x = g.input("x", {static_cast<int64_t>(values.size())}, dt);
        auto p = g.input("p", {static_cast<int64_t>(positive.size())}, dt);
        g.output("exp", exp(x));
        g.output("log", log(p));
        g.output("sigmoid", sigmoid(x));
        g.output("softplus", softplus(x));
        g.output("tanh", tanh(x));
        g.output("elu", elu(x));
        g.output("two_pow_x", pow(g.constant(2.0, {}, dt), x));
        g.output("x_pow_2", pow(x, 2.0));
        g.output("p_pow_half", pow(p, 0.5));
        auto out = g.compile().run({{"x", xv}, {"p", pv}});
        // The double result rounded to the dtype (so exp(88.8) is inf in f32).
        auto expect = [&](const Tensor &in, double (*f)(double)) { return ref::cast(ref::map(in, f), dt); };
        const double tol = tolerance(dt);
        check_elementwise(out.at("exp"), expect(xv, [](double v) { return std::exp(v); }), tol, "exp");
        check_elementwise(out.at("log"), expect(pv, [](double v) { return std::log(v); }), tol, "log");
        check_elementwise(out.at("sigmoid"), expect(xv, [](double v) { return ref::sigmoid(v); }), tol,
                          "sigmoid");
        check_elementwise(out.at("softplus"), expect(xv, [](double v) { return ref::softplus(v); }), tol,
                          "softplus");
        check_elementwise(out.at("tanh"), expect(xv, [](double v) { return std::tanh(v); }), tol, "tanh");
        check_elementwise(out.at("elu"), expect(xv, [](double v) { return ref::elu(v); }), tol, "elu");
        check_elementwise(out.at("two_pow_x"), expect(xv, [](double v) { return std::pow(2.0, v); }), tol,
                          "2^x");
        check_elementwise(out.at("x_pow_2"), expect(xv, [](double v) { return std::pow(v, 2.0); }), tol,
                          "x^2");
        check_elementwise(out.at("p_pow_half"), expect(pv, [](double v) { return std::pow(v, 0.5); }), tol,
                          "p^0.5");
    }
}

TEST_CASE("NaN propagates as in PyTorch", "[ops][pointwise][nan]") {
    // PyTorch propagates NaN through every op below (max-like ops included).
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = Tensor::from_vector<double>({1.0, NAN, -2.0, 0.5}, {1, 1, 4}).to(dt);
        Graph g;
        auto x = g.input("x", {1, 1, 4}, dt);
        g.output("exp", exp(x));
        g.output("log", log(x));
        g.output("sigmoid", sigmoid(x));
        g.output("softplus", softplus(x));
        g.output("relu", relu(x));
        g.output("maximum", maximum(x, g.constant(0.0, {}, dt)));
        g.output("max", max(x));
        g.output("max_pool", max_pool1d(x, {2}));
        g.output("softmax", softmax(x, 2));
        auto out = g.compile().run({{"x", xv}});
        for (const char *name : {"exp", "log", "sigmoid", "softplus", "relu", "maximum"}) {
            INFO(name << ": " << out.at(name).to_string());
            CHECK(std::isnan(out.at(name).get_flat(1)));
        }
        for (const char *name : {"max", "max_pool", "softmax"}) {
            INFO(name << ": " << out.at(name).to_string());
            CHECK(std::isnan(out.at(name).get_flat(0)));
        }
    }
}

// ---- user errors ----

TEST_CASE("add of f32 and f64 names the op and both dtypes", "[ops][pointwise][errors]") {
    Graph g;
    auto a = g.input("a", {2, 3}, DType::f32), b = g.input("b", {2, 3}, DType::f64);
    REQUIRE_THROWS_WITH(a + b,
                        Contains("add") && Contains("dtype mismatch") && Contains("f32") && Contains("f64"));
}

TEST_CASE("shapes that do not broadcast are named", "[ops][pointwise][errors]") {
    Graph g;
    auto a = g.input("a", {2, 3}), b = g.input("b", {4, 3});
    REQUIRE_THROWS_WITH(a * b, Contains("mul") && Contains("[2, 3]") && Contains("[4, 3]") &&
                                   Contains("cannot be broadcast"));
}

TEST_CASE("float-only ops reject integers", "[ops][pointwise][errors]") {
    Graph g;
    auto i = g.input("i", {4}, DType::i32);
    REQUIRE_THROWS_WITH(exp(i), Contains("exp") && Contains("f32 or f64") && Contains("i32"));
    REQUIRE_THROWS_WITH(i / i, Contains("div") && Contains("i32"));
}

TEST_CASE("bad activation attributes are rejected", "[ops][pointwise][errors]") {
    Graph g;
    auto x = g.input("x", {4});
    REQUIRE_THROWS_WITH(gelu(x, "fast"), Contains("gelu") && Contains("\"fast\""));
    REQUIRE_THROWS_WITH(softplus(x, 0.0), Contains("softplus") && Contains("beta"));
    REQUIRE_THROWS_WITH(dropout(x, 1.5), Contains("dropout") && Contains("1.5"));
    REQUIRE_THROWS_WITH(where(x, x, x), Contains("where") && Contains("condition") && Contains("bool"));
}

TEST_CASE("running with a wrong or missing input names it", "[ops][pointwise][errors]") {
    Graph g;
    auto x = g.input("x", {2, 3}, DType::f32), y = g.input("y", {3}, DType::f32);
    g.output("z", relu(x) + y);
    auto c = g.compile();
    const Tensor yv = Tensor::ones({3});
    REQUIRE_THROWS_WITH(c.run({{"x", Tensor::ones({3, 2})}, {"y", yv}}),
                        Contains("'x'") && (Contains("f32[2,3]") || Contains("f32[2, 3]")) &&
                            Contains("f32[3, 2]"));
    REQUIRE_THROWS_WITH(c.run({{"x", Tensor::ones({2, 3}, DType::f64)}, {"y", yv}}),
                        Contains("'x'") && (Contains("f32[2,3]") || Contains("f32[2, 3]")) &&
                            Contains("f64[2, 3]"));
    REQUIRE_THROWS_WITH(c.run({{"y", yv}}), Contains("'x'") && Contains("was not given"));
    REQUIRE_THROWS_WITH(c.run({{"x", Tensor::ones({2, 3})}, {"y", yv}, {"q", yv}}),
                        Contains("'q'") && Contains("not an input"));
    REQUIRE_THROWS_WITH(c.run(Tensor::ones({2, 3})), Contains("2 inputs"));
}
