// Losses against the naive reference: cross_entropy (class indices,
// reductions, ignore_index, label smoothing, K-dimensional inputs), nll_loss,
// mse_loss and binary_cross_entropy_with_logits (stable at large logits); a
// large case; and the user errors of the loss API.

#include "tests/op_test_helpers.h"
#include "tests/support/error_message.h"

#include <cmath>

using namespace strata;
namespace ref = strata::reference;
using Catch::Contains;
using testing::float_dtypes;
using testing::tolerance;

namespace {

/// Class indices in [0, classes), with every `every`-th one set to `ignore`.
Tensor targets(const Shape &shape, int64_t classes, Generator &gen, int64_t every, int64_t ignore) {
    Tensor t = testing::random_classes(shape, classes, gen);
    for (int64_t i = 0; i < t.numel(); i += every) t.set_flat(i, static_cast<double>(ignore));
    return t;
}

}  // namespace

TEST_CASE("cross_entropy: reductions, ignore_index and label smoothing", "[ops][losses]") {
    Generator gen(70);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor logits = Tensor::randn({13, 7}, gen, dt, 0.0, 2.0);
        const Tensor t = targets({13}, 7, gen, 4, -100);  // elements 0, 4, 8, 12 ignored
        const Tensor t2 = targets({13}, 7, gen, 3, 2);    // ignore_index 2 is also a real class
        Graph g;
        auto x = g.input("x", {13, 7}, dt);
        auto it = g.input("t", {13}, DType::i32), it2 = g.input("t2", {13}, DType::i32);
        g.output("mean", cross_entropy(x, it));
        g.output("sum", cross_entropy(x, it, {.reduction = "sum"}));
        g.output("none", cross_entropy(x, it, {.reduction = "none"}));
        g.output("ignore_2", cross_entropy(x, it2, {.ignore_index = 2}));
        g.output("smooth_mean", cross_entropy(x, it, {.label_smoothing = 0.1}));
        g.output("smooth_sum",
                 cross_entropy(x, it2, {.reduction = "sum", .ignore_index = 2, .label_smoothing = 0.25}));
        g.output("smooth_none", cross_entropy(x, it, {.reduction = "none", .label_smoothing = 0.3}));
        auto out = g.compile().run({{"x", logits}, {"t", t}, {"t2", t2}});
        const double tol = tolerance(dt, 13 * 7);
        CHECK_CLOSE(out.at("mean"), ref::cross_entropy(logits, t), dt, tol);
        CHECK_CLOSE(out.at("sum"), ref::cross_entropy(logits, t, "sum"), dt, tol);
        CHECK_CLOSE(out.at("none"), ref::cross_entropy(logits, t, "none"), dt, tol);
        CHECK_CLOSE(out.at("ignore_2"), ref::cross_entropy(logits, t2, "mean", 2), dt, tol);
        CHECK_CLOSE(out.at("smooth_mean"), ref::cross_entropy(logits, t, "mean", -100, 0.1), dt, tol);
        CHECK_CLOSE(out.at("smooth_sum"), ref::cross_entropy(logits, t2, "sum", 2, 0.25), dt, tol);
        CHECK_CLOSE(out.at("smooth_none"), ref::cross_entropy(logits, t, "none", -100, 0.3), dt, tol);
        CHECK(out.at("mean").shape() == Shape{});
        CHECK(out.at("none").shape() == Shape{13});
    }
}

TEST_CASE("cross_entropy and nll_loss on K-dimensional inputs", "[ops][losses]") {
    Generator gen(71);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor logits = testing::randn({3, 5, 4, 7}, dt, gen), lp = testing::randn({3, 5, 13}, dt, gen);
        const Tensor t = targets({3, 4, 7}, 5, gen, 5, -100), t1 = targets({3, 13}, 5, gen, 7, 1);
        Graph g;
        auto x = g.input("x", {3, 5, 4, 7}, dt), l = g.input("lp", {3, 5, 13}, dt);
        auto it = g.input("t", {3, 4, 7}, DType::i32), it1 = g.input("t1", {3, 13}, DType::i32);
        g.output("ce_mean", cross_entropy(x, it, {.label_smoothing = 0.2}));
        g.output("ce_none", cross_entropy(x, it, {.reduction = "none"}));
        g.output("nll_mean", nll_loss(l, it1, "mean", 1));
        g.output("nll_sum", nll_loss(l, it1, "sum", 1));
        g.output("nll_none", nll_loss(l, it1, "none"));
        auto out = g.compile().run({{"x", logits}, {"lp", lp}, {"t", t}, {"t1", t1}});
        const double tol = tolerance(dt, 84 * 5);
        CHECK_CLOSE(out.at("ce_mean"), ref::cross_entropy(logits, t, "mean", -100, 0.2), dt, tol);
        CHECK_CLOSE(out.at("ce_none"), ref::cross_entropy(logits, t, "none"), dt, tol);
        CHECK(out.at("ce_none").shape() == Shape{3, 4, 7});
        CHECK_CLOSE(out.at("nll_mean"), ref::nll_loss(lp, t1, "mean", 1), dt, tol);
        CHECK_CLOSE(out.at("nll_sum"), ref::nll_loss(lp, t1, "sum", 1), dt, tol);
        // Class 1 is not ignored here (the default ignore_index is -100).
        CHECK_CLOSE(out.at("nll_none"), ref::nll_loss(lp, t1, "none"), dt, tol);
    }
}

TEST_CASE("a mean over only ignored targets is NaN, as in PyTorch", "[ops][losses]") {
    const Tensor logits = Tensor::ones({3, 4}, DType::f64);
    const Tensor t = Tensor::full({3}, -100, DType::i32);
    Graph g;
    auto x = g.input("x", {3, 4}, DType::f64);
    auto it = g.input("t", {3}, DType::i32);
    g.output("mean", cross_entropy(x, it));
    g.output("sum", cross_entropy(x, it, {.reduction = "sum"}));
    auto out = g.compile().run({{"x", logits}, {"t", t}});
    CHECK(std::isnan(out.at("mean").item()));
    CHECK(std::isnan(ref::cross_entropy(logits, t).item()));
    CHECK(out.at("sum").item() == 0.0);
}

TEST_CASE("mse_loss and binary_cross_entropy_with_logits", "[ops][losses]") {
    Generator gen(72);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor xv = testing::randn({5, 13}, dt, gen), yv = testing::randn({5, 13}, dt, gen);
        // Logits up to +-40: the naive log(sigmoid) would overflow or lose everything.
        Tensor logits = Tensor::randn({5, 13}, gen, dt, 0.0, 3.0);
        for (int64_t i = 0; i < 13; ++i) logits.set_flat(i, i % 2 ? 40.0 - i : -40.0 + i);
        const Tensor probs = testing::rand({5, 13}, dt, gen, 0.0, 1.0);
        Graph g;
        auto x = g.input("x", {5, 13}, dt), y = g.input("y", {5, 13}, dt);
        auto l = g.input("l", {5, 13}, dt), p = g.input("p", {5, 13}, dt);
        g.output("mse_mean", mse_loss(x, y));
        g.output("mse_sum", mse_loss(x, y, "sum"));
        g.output("mse_none", mse_loss(x, y, "none"));
        g.output("bce_mean", binary_cross_entropy_with_logits(l, p));
        g.output("bce_sum", binary_cross_entropy_with_logits(l, p, "sum"));
        g.output("bce_none", binary_cross_entropy_with_logits(l, p, "none"));
        auto out = g.compile().run({{"x", xv}, {"y", yv}, {"l", logits}, {"p", probs}});
        const double tol = tolerance(dt, 65);
        CHECK_CLOSE(out.at("mse_mean"), ref::mse_loss(xv, yv), dt, tol);
        CHECK_CLOSE(out.at("mse_sum"), ref::mse_loss(xv, yv, "sum"), dt, tol);
        CHECK_CLOSE(out.at("mse_none"), ref::mse_loss(xv, yv, "none"), dt, tol);
        CHECK_CLOSE(out.at("bce_mean"), ref::binary_cross_entropy_with_logits(logits, probs), dt, tol);
        CHECK_CLOSE(out.at("bce_sum"), ref::binary_cross_entropy_with_logits(logits, probs, "sum"), dt, tol);
        CHECK_CLOSE(out.at("bce_none"), ref::binary_cross_entropy_with_logits(logits, probs, "none"), dt,
                    tol);
    }
}

TEST_CASE("a large cross_entropy is parallelised with the same numbers", "[ops][losses]") {
    // 513 samples of 65 classes: the log_softmax and the sums cross the thread threshold.
    Generator gen(73);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor logits = Tensor::randn({513, 65}, gen, dt, 0.0, 2.0);
        const Tensor t = targets({513}, 65, gen, 11, -100);
        Graph g;
        auto x = g.input("x", {513, 65}, dt);
        auto it = g.input("t", {513}, DType::i32);
        g.output("mean", cross_entropy(x, it, {.label_smoothing = 0.05}));
        g.output("none", cross_entropy(x, it, {.reduction = "none"}));
        auto out = g.compile().run({{"x", logits}, {"t", t}});
        CHECK_CLOSE(out.at("mean"), ref::cross_entropy(logits, t, "mean", -100, 0.05), dt,
                    tolerance(dt, 513 * 65));
        CHECK_CLOSE(out.at("none"), ref::cross_entropy(logits, t, "none"), dt, tolerance(dt, 65));
    }
}

// ---- user errors ----

TEST_CASE("loss targets of the wrong dtype or shape are named", "[ops][losses][errors]") {
    Graph g;
    auto x = g.input("x", {4, 3});
    REQUIRE_THROWS_WITH(cross_entropy(x, g.input("f", {4})),
                        Contains("cross_entropy") && Contains("i32") && Contains("f32"));
    REQUIRE_THROWS_WITH(cross_entropy(x, g.input("t", {3}, DType::i32)),
                        Contains("cross_entropy") && Contains("[4, 3]") && Contains("[4]") &&
                            Contains("[3]"));
    REQUIRE_THROWS_WITH(nll_loss(g.input("v", {4}), g.input("t4", {4}, DType::i32)),
                        Contains("nll_loss") && Contains("[N, C, ...]"));
    REQUIRE_THROWS_WITH(binary_cross_entropy_with_logits(x, g.input("y", {4, 1})),
                        Contains("binary_cross_entropy_with_logits") && Contains("[4, 1]") &&
                            Contains("[4, 3]"));
    REQUIRE_THROWS_WITH(mse_loss(x, g.input("z", {5, 3})), Contains("[4, 3]") && Contains("[5, 3]"));
}

TEST_CASE("bad loss options are rejected", "[ops][losses][errors]") {
    Graph g;
    auto x = g.input("x", {4, 3});
    auto t = g.input("t", {4}, DType::i32);
    REQUIRE_THROWS_WITH(cross_entropy(x, t, {.reduction = "avg"}),
                        Contains("reduction") && Contains("\"avg\""));
    REQUIRE_THROWS_WITH(cross_entropy(x, t, {.label_smoothing = 1.5}),
                        Contains("label_smoothing") && Contains("1.5"));
    REQUIRE_THROWS_WITH(mse_loss(x, x, "total"), Contains("mse_loss") && Contains("\"total\""));
}

TEST_CASE("a class target outside 0..C-1 fails the run, naming its position and value", "[ops][losses][errors]") {
    // PyTorch raises "Target 4 is out of bounds"; clamping gave class 3's loss and nll_loss gave 0.
    Generator gen(72);
    const Tensor logits = Tensor::randn({3, 4, 2}, gen, DType::f32, 0.0, 1.0);
    struct Case { const char *loss; int64_t bad; };
    for (const Case &c : {Case{"cross_entropy", 4}, Case{"cross_entropy", -1}, Case{"nll_loss", 7},
                          Case{"nll_loss", -2}}) {
        INFO(c.loss << " with target " << c.bad);
        Graph g;
        auto x = g.input("x", {3, 4, 2});
        auto t = g.input("t", {3, 2}, DType::i32);
        const bool ce = std::string(c.loss) == "cross_entropy";
        g.output("loss", ce ? cross_entropy(x, t) : nll_loss(log_softmax(x, 1), t));
        Tensor targets = Tensor::zeros({3, 2}, DType::i32);
        targets.set_flat(0, 1);
        CHECK_NOTHROW(g.compile().run({{"x", logits}, {"t", targets}}));
        targets.set_flat(3, -100);  // ignore_index is not a class, and is fine
        CHECK_NOTHROW(g.compile().run({{"x", logits}, {"t", targets}}));
        targets.set_flat(3, static_cast<double>(c.bad));  // row 1, position 1
        const std::string message = testing::error_message([&] { g.compile().run({{"x", logits}, {"t", targets}}); });
        CHECK_THAT(message, Contains(fmt::format("{} is out of bounds as the class target at position [ 1 , 1 ] "
                                                 "(expected a class in [0, 4) or the ignore_index -100)",
                                                 c.bad)));
    }
    // The gradient (the training path) checks too.
    Graph g;
    auto x = g.input("x", {3, 4, 2});
    auto t = g.input("t", {3, 2}, DType::i32);
    g.output("grad", grad(cross_entropy(x, t), {x})[0]);
    Tensor targets = Tensor::zeros({3, 2}, DType::i32);
    targets.set_flat(5, 9);
    CHECK_THROWS_WITH(g.compile().run({{"x", logits}, {"t", targets}}), Contains("9 is out of bounds as the class target at position [ 2 , 1 ]"));
}
