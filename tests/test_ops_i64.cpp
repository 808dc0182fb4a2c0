// The i64 dtype in compiled kernels, under the default and the "simple" schedule: casts to and
// from i64 with PyTorch's rules and i64 arithmetic exact beyond 2^53 (against plain int64 loops);
// cross_entropy and nll_loss on PyTorch's int64 targets (against the naive reference, bit for bit
// against i32 targets, and their gradients against finite differences); max_pool indices as i64
// and max_unpool reading them; the run-time checks that an i64 beyond i32 never wraps onto a valid
// class or index; and a training step on an i64 target batch.

#include "frontend/nn.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/train_step.h"
#include "frontend/train/trainer.h"
#include "runtime/random.h"
#include "tests/grad_test_helpers.h"
#include "tests/op_test_helpers.h"
#include "tests/support/error_message.h"
#include "tests/support/synthetic_images.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

using namespace strata;
namespace ref = strata::reference;
using Catch::Contains;
using reference::GradSource;
using testing::float_dtypes;
using testing::kSchedules;
using testing::with_schedule;
using testing::tolerance;

namespace {

constexpr int64_t kBeyondDouble = (int64_t{1} << 53) + 1;  // the first integer a double cannot hold
constexpr int64_t kBeyondI32 = (int64_t{1} << 32) + 1;     // wraps to 1 in 32 bits

/// `t` as i64 (class indices made by the i32 helpers).
Tensor as_i64(const Tensor &t) { return t.to(DType::i64); }

/// Each element of `actual` (any integer dtype) equals `expected`, compared as int64.
void check_integers(const Tensor &actual, DType dtype, const std::vector<int64_t> &expected) {
    REQUIRE(actual.dtype() == dtype);
    REQUIRE(actual.numel() == static_cast<int64_t>(expected.size()));
    for (int64_t i = 0; i < actual.numel(); ++i) {
        INFO("element " << i);
        CHECK(actual.get_flat_int64(i) == expected[static_cast<size_t>(i)]);
    }
}

/// The same bits: dtype, shape and every element (NaN included).
bool same_values(const Tensor &a, const Tensor &b) {
    if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
    const Tensor ca = a.contiguous(), cb = b.contiguous();
    return std::memcmp(ca.raw_data(), cb.raw_data(), ca.nbytes()) == 0;
}

/// Class indices in [0, classes) with every `every`-th one set to `ignore`, as i32.
Tensor targets(const Shape &shape, int64_t classes, Generator &gen, int64_t every, int64_t ignore) {
    Tensor t = testing::random_classes(shape, classes, gen);
    for (int64_t i = 0; i < t.numel(); i += every) t.set_flat(i, static_cast<double>(ignore));
    return t;
}

}  // namespace

TEST_CASE("cast to and from i64 follows PyTorch, and i64 arithmetic is exact beyond 2^53", "[ops][i64]") {
    const int64_t big = int64_t{1} << 60;
    const std::vector<int64_t> a = {kBeyondDouble, -kBeyondDouble, kBeyondI32 + 4, -3, 0, big};
    const Tensor av = Tensor::from_vector<int64_t>(a);
    const Tensor fv = Tensor::from_vector<double>({-2.9, 2.9, 1e15 + 0.5, -0.0, 7.0, -1e18});
    const Tensor iv = Tensor::from_vector<int32_t>({-7, 0, std::numeric_limits<int32_t>::max(), 1, -1, 5});
    const Tensor bv = Tensor::from_vector<bool>({true, false, true, true, false, false});
    Graph g;
    auto x = g.input("a", {6}, DType::i64), f = g.input("f", {6}, DType::f64);
    auto i = g.input("i", {6}, DType::i32), b = g.input("b", {6}, DType::boolean);
    g.output("to_i32", cast(x, DType::i32));
    g.output("to_f64", cast(x, DType::f64));
    g.output("to_f32", cast(x, DType::f32));
    g.output("to_bool", cast(x, DType::boolean));
    g.output("from_f64", cast(f, DType::i64));
    g.output("from_i32", cast(i, DType::i64));
    g.output("from_bool", cast(b, DType::i64));
    g.output("affine", x * 3.0 - x + cast(i, DType::i64));
    g.output("neg_abs", abs(-x));
    g.output("sum", sum(x));
    g.output("max", max(x));
    g.output("argmax", argmax(x, 0));
    g.output("lt", lt(x, cast(i, DType::i64)));
    g.output("alpha", add(x, x, -2.0));
    for (const char *schedule : kSchedules) {
        INFO(schedule);
        auto out = g.compile(with_schedule(schedule)).run({{"a", av}, {"f", fv}, {"i", iv}, {"b", bv}});
        // Into i32: the low 32 bits (torch's .to(torch.int32) wraps).
        std::vector<int64_t> wrapped, affine, neg_abs, alpha;
        for (size_t k = 0; k < a.size(); ++k) {
            wrapped.push_back(static_cast<int32_t>(static_cast<uint32_t>(a[k])));
            affine.push_back(a[k] * 3 - a[k] + iv.data<int32_t>()[k]);
            neg_abs.push_back(a[k] < 0 ? -a[k] : a[k]);
            alpha.push_back(a[k] - 2 * a[k]);
        }
        check_integers(out.at("to_i32"), DType::i32, wrapped);
        REQUIRE(out.at("to_f64").dtype() == DType::f64);
        REQUIRE(out.at("to_f32").dtype() == DType::f32);
        for (size_t k = 0; k < a.size(); ++k) {
            INFO("element " << k);
            CHECK(out.at("to_f64").data<double>()[k] == static_cast<double>(a[k]));  // round to nearest
            CHECK(out.at("to_f32").data<float>()[k] == static_cast<float>(a[k]));
            CHECK(out.at("to_bool").get_flat(static_cast<int64_t>(k)) == (a[k] != 0 ? 1.0 : 0.0));
        }
        check_integers(out.at("from_f64"), DType::i64, {-2, 2, 1000000000000000, 0, 7, -1000000000000000000});
        check_integers(out.at("from_i32"), DType::i64, {-7, 0, 2147483647, 1, -1, 5});
        check_integers(out.at("from_bool"), DType::i64, {1, 0, 1, 1, 0, 0});
        check_integers(out.at("affine"), DType::i64, affine);
        check_integers(out.at("neg_abs"), DType::i64, neg_abs);
        check_integers(out.at("sum"), DType::i64, {(kBeyondI32 + 4) - 3 + big});
        check_integers(out.at("max"), DType::i64, {big});
        check_integers(out.at("argmax"), DType::i32, {5});
        check_integers(out.at("lt"), DType::boolean, {0, 1, 0, 1, 0, 0});
        check_integers(out.at("alpha"), DType::i64, alpha);
    }
    CHECK_THROWS_WITH(add(g.input("c", {2}, DType::i64), g.input("d", {2}, DType::i64), 0.5),
                      Contains("add: for i64 tensors alpha must be an integer"));
}

TEST_CASE("cross_entropy and nll_loss take PyTorch's i64 class targets", "[ops][i64][losses]") {
    Generator gen(6401);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor logits = Tensor::randn({9, 5}, gen, dt, 0.0, 2.0), wide = testing::randn({3, 5, 7}, dt, gen);
        const Tensor weight = testing::rand({5}, dt, gen, 0.2, 2.0);
        const Tensor t32 = targets({9}, 5, gen, 4, -100), t2_32 = targets({9}, 5, gen, 3, 2);
        const Tensor tk32 = targets({3, 7}, 5, gen, 5, -100);
        const std::map<std::string, Tensor> feeds = {{"x", logits}, {"w", weight}, {"k", wide},
                                                     {"t32", t32}, {"t64", as_i64(t32)}, {"t2_64", as_i64(t2_32)},
                                                     {"tk32", tk32}, {"tk64", as_i64(tk32)}};
        Graph g;
        auto x = g.input("x", {9, 5}, dt), w = g.input("w", {5}, dt), k = g.input("k", {3, 5, 7}, dt);
        auto t32_in = g.input("t32", {9}, DType::i32), t64 = g.input("t64", {9}, DType::i64);
        auto t2 = g.input("t2_64", {9}, DType::i64);
        auto tk32_in = g.input("tk32", {3, 7}, DType::i32), tk64 = g.input("tk64", {3, 7}, DType::i64);
        g.output("mean", cross_entropy(x, t64));
        g.output("mean32", cross_entropy(x, t32_in));
        g.output("none", cross_entropy(x, t64, {.reduction = "none"}));
        g.output("smooth_weighted", cross_entropy(x, t64, {.label_smoothing = 0.2, .weight = w}));
        g.output("ignore_2", cross_entropy(x, t2, {.reduction = "sum", .ignore_index = 2}));
        g.output("k_dim", cross_entropy(k, tk64, {.label_smoothing = 0.1}));
        g.output("k_dim32", cross_entropy(k, tk32_in, {.label_smoothing = 0.1}));
        g.output("nll", nll_loss(log_softmax(x, 1), t64, {.weight = w}));
        g.output("nll32", nll_loss(log_softmax(x, 1), t32_in, {.weight = w}));
        g.output("nll_k", nll_loss(log_softmax(k, 1), tk64, "none"));
        for (const char *schedule : kSchedules) {
            INFO(schedule);
            auto out = g.compile(with_schedule(schedule)).run(feeds);
            const double tol = tolerance(dt, 45);
            CHECK_CLOSE(out.at("mean"), ref::cross_entropy(logits, t32), dt, tol);
            CHECK_CLOSE(out.at("none"), ref::cross_entropy(logits, t32, "none"), dt, tol);
            CHECK_CLOSE(out.at("smooth_weighted"), ref::cross_entropy(logits, t32, "mean", -100, 0.2, weight), dt, tol);
            CHECK_CLOSE(out.at("ignore_2"), ref::cross_entropy(logits, t2_32, "sum", 2), dt, tol);
            CHECK_CLOSE(out.at("k_dim"), ref::cross_entropy(wide, tk32, "mean", -100, 0.1), dt, tol);
            CHECK_CLOSE(out.at("nll"), ref::nll_loss(ref::log_softmax(logits, 1), t32, "mean", -100, weight), dt, tol);
            CHECK_CLOSE(out.at("nll_k"), ref::nll_loss(ref::log_softmax(wide, 1), tk32, "none"), dt, tol);
            // The same kernels as for i32 targets: the same bits.
            CHECK(same_values(out.at("mean"), out.at("mean32")));
            CHECK(same_values(out.at("k_dim"), out.at("k_dim32")));
            CHECK(same_values(out.at("nll"), out.at("nll32")));
        }
    }
}

TEST_CASE("grad: cross_entropy and nll_loss with i64 targets, logits and class weight", "[grad][i64][losses]") {
    Generator gen(6402);
    const std::vector<GradSource> sources = {
        {"logits", testing::randn64({6, 4, 3}, gen)},
        {"weight", testing::rand64({4}, gen, 0.2, 2.0)},
        {"target", as_i64(testing::targets_with_ignored({6, 3}, 4, -1, gen)), false}};
    CHECK_GRADIENTS(sources, [](Graph &, const testing::Syms &in) -> testing::Syms {
        const SymTensor &logits = in[0], &weight = in[1], &target = in[2];
        return {cross_entropy(logits, target, {.ignore_index = -1, .label_smoothing = 0.3, .weight = weight}),
                cross_entropy(logits, target, {.reduction = "none", .ignore_index = -1}),
                nll_loss(log_softmax(logits, 1), target, {.reduction = "sum", .ignore_index = -1, .weight = weight})};
    });
}

TEST_CASE("An i64 class target beyond i32 fails the run, never wraps onto a class", "[ops][i64][losses][errors]") {
    // 2^32 + 1 is class 1 in 32 bits: the check must see all 64.
    const Tensor bad = Tensor::from_vector<int64_t>({0, kBeyondI32, 2});
    const Tensor logits = Tensor::zeros({3, 3}, DType::f64);
    Graph g;
    auto x = g.input("x", {3, 3}, DType::f64), t = g.input("t", {3}, DType::i64);
    g.output("ce", cross_entropy(x, t));
    g.output("nll", nll_loss(x, t, "sum"));
    const CompiledGraph compiled = g.compile();
    const std::string message = testing::error_message([&] { compiled.run({{"x", logits}, {"t", bad}}); });
    CHECK_THAT(message, Contains("4294967297 is out of bounds as the class target at position"));
    CHECK_THAT(message, Contains("(expected a class in [0, 3) or the ignore_index -100)"));
    // A valid batch runs: the failure was the value's.
    const Tensor good = Tensor::from_vector<int64_t>({0, 1, -100});
    CHECK(compiled.run({{"x", logits}, {"t", good}}).at("ce").item() == Approx(std::log(3.0)));
}

TEST_CASE("max_pool indices as PyTorch's i64, and max_unpool reading them", "[ops][i64][pool]") {
    Generator gen(6403);
    for (DType dt : float_dtypes) {
        INFO(dtype_name(dt));
        const Tensor x1 = testing::randn({2, 3, 17}, dt, gen), x2 = testing::randn({2, 3, 7, 9}, dt, gen);
        Graph g;
        auto i1 = g.input("x1", {2, 3, 17}, dt), i2 = g.input("x2", {2, 3, 7, 9}, dt);
        const MaxPoolWithIndices p1 = max_pool1d_with_indices(i1, {2}, {.indices_dtype = DType::i64});
        const MaxPoolWithIndices p2 =
            max_pool2d_with_indices(i2, {3}, {.stride = {2}, .padding = {1}, .indices_dtype = DType::i64});
        const MaxPoolWithIndices p2_32 = max_pool2d_with_indices(i2, {3}, {.stride = {2}, .padding = {1}});
        g.output("i1", p1.indices);
        g.output("i2", p2.indices);
        g.output("u1", max_unpool1d(p1.output, p1.indices, {2}, {.output_size = {17}}));
        const SymTensor u2 = max_unpool2d(p2.output, p2.indices, {3}, {.stride = {2}, .padding = {1}});
        const SymTensor u2_32 = max_unpool2d(p2_32.output, p2_32.indices, {3}, {.stride = {2}, .padding = {1}});
        g.output("u2", u2);
        g.output("u2_32", u2_32);
        // max_unpool's gradient gathers at the indices (max_unpoolNd_grad reads them as i64 too).
        const SymTensor w = g.input("w", {2, 3, 7, 9}, dt);
        g.output("grad", g.gradients(sum(u2 * w), {i2})[0]);
        g.output("grad_32", g.gradients(sum(u2_32 * w), {i2})[0]);
        const Tensor wv = testing::randn({2, 3, 7, 9}, dt, gen);
        using P = ref::PoolArgs;
        const P window1{{2}, {2}, {0}, {1}}, window2{{3, 3}, {2, 2}, {1, 1}, {1, 1}};
        for (const char *schedule : kSchedules) {
            INFO(schedule);
            auto out = g.compile(with_schedule(schedule)).run({{"x1", x1}, {"x2", x2}, {"w", wv}});
            const Tensor ri1 = ref::max_pool1d_indices(x1, window1), ri2 = ref::max_pool2d_indices(x2, window2);
            CHECK(out.at("i1").dtype() == DType::i64);
            CHECK(out.at("i2").dtype() == DType::i64);
            CHECK_EXACT(out.at("i1"), ri1);
            CHECK_EXACT(out.at("i2"), ri2);
            CHECK_CLOSE(out.at("u1"), ref::max_unpool(ref::max_pool1d(x1, window1), ri1, {17}), dt, 0);
            CHECK_CLOSE(out.at("u2"), ref::max_unpool(ref::max_pool2d(x2, window2), ri2, {7, 9}), dt, 0);
            CHECK(same_values(out.at("u2"), out.at("u2_32")));
            CHECK(same_values(out.at("grad"), out.at("grad_32")));
        }
    }
}

TEST_CASE("An i64 unpool index beyond i32 fails the run, never wraps onto its window", "[ops][i64][pool][errors]") {
    const Tensor values = Tensor::from_vector<float>({5.0f, 6.0f}, {1, 1, 2});
    Graph g;
    auto v = g.input("v", {1, 1, 2}), idx = g.input("idx", {1, 1, 2}, DType::i64);
    g.output("u", max_unpool1d(v, idx, {2}));
    const CompiledGraph compiled = g.compile();
    const Tensor ok = Tensor::from_vector<int64_t>({1, 2}, {1, 1, 2});
    const Tensor u = compiled.run({{"v", values}, {"idx", ok}}).at("u");
    CHECK(u.get_flat(1) == 5.0);
    CHECK(u.get_flat(2) == 6.0);
    // 2^32 + 1 is index 1 in 32 bits, inside window 0.
    const Tensor wrapping = Tensor::from_vector<int64_t>({kBeyondI32, 2}, {1, 1, 2});
    CHECK_THAT(testing::error_message([&] { compiled.run({{"v", values}, {"idx", wrapping}}); }),
               Contains("4294967297 is not a max_unpool index of its window"));
    CHECK_THROWS_WITH(max_pool1d_with_indices(v, {2}, {.indices_dtype = DType::f32}),
                      Contains("max_pool1d_indices: indices_dtype must be i32 or i64, got f32"));
}

TEST_CASE("A training step takes an i64 target batch, as PyTorch's DataLoader gives it", "[ops][i64][train]") {
    Generator gen(6404);
    nn::Linear model32(6, 4), model64(6, 4);
    nn::load_state_dict(*model64, nn::state_dict(*model32));
    optim::SGD sgd32(optim::SGDOptions(0.1).momentum(0.9)), sgd64(optim::SGDOptions(0.1).momentum(0.9));
    const auto loss = [](const SymTensor &y, const SymTensor &t) { return cross_entropy(y, t); };
    TrainStep step32(*model32, sgd32, {5, 6}, {5}, DType::i32, loss);
    TrainStep step64(*model64, sgd64, {5, 6}, {5}, DType::i64, loss);
    for (int i = 0; i < 3; ++i) {
        INFO("step " << i);
        const Tensor x = testing::randn({5, 6}, DType::f32, gen), t = testing::random_classes({5}, 4, gen);
        const TrainStep::Result r32 = step32.step(x, t), r64 = step64.step(x, as_i64(t));
        CHECK(r64.loss == r32.loss);
        CHECK(r64.correct == r32.correct);
    }
    const NamedTensors after32 = nn::state_dict(*model32), after64 = nn::state_dict(*model64);
    REQUIRE(after32.size() == after64.size());
    for (size_t k = 0; k < after32.size(); ++k) {
        INFO(after32[k].first);
        CHECK(same_values(after32[k].second, after64[k].second));
    }
    // The label check reads all 64 bits: 2^32 + 1 is not class 1.
    const Tensor bad = Tensor::from_vector<int64_t>({0, 1, kBeyondI32, 2, 3});
    CHECK_THAT(testing::error_message([&] { step64.step(Tensor::zeros({5, 6}), bad); }),
               Contains("label 4294967297 at position 2 of the batch is outside [0, 4)"));
}

TEST_CASE("Trainer fits and evaluates on i64 targets as on i32 ones, accuracy included", "[ops][i64][train]") {
    const Dataset data32 = testing::synthetic_images();
    const Dataset data64{data32.inputs, data32.targets.to(DType::i64)};
    const auto run = [](const Dataset &data) {
        manual_seed(5);
        nn::Sequential net(nn::Flatten(), nn::Linear(64, 3));
        optim::SGD sgd(optim::SGDOptions(0.1));
        TrainerOptions options;
        options.batch_size = 16;
        options.epochs = 2;
        options.shuffle = false;
        options.progress = false;
        Trainer trainer(*net, sgd, [](const SymTensor &y, const SymTensor &t) { return cross_entropy(y, t); },
                        options);
        const std::vector<EpochStats> epochs = trainer.fit(data);
        return std::make_pair(epochs.back(), trainer.evaluate(data));
    };
    const auto [fit32, eval32] = run(data32);
    const auto [fit64, eval64] = run(data64);
    CHECK(fit64.train_loss == fit32.train_loss);
    CHECK(fit64.train_accuracy == fit32.train_accuracy);
    CHECK(eval64.loss == eval32.loss);
    CHECK(eval64.accuracy == eval32.accuracy);
    CHECK(eval64.accuracy > 0.5);  // it learned: accuracy is counted, not NaN
}
