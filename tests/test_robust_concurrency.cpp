// Two compiled programs run from two threads at the same time (and one program from two threads)
// give bit for bit the results they give when run one after the other.
#include "frontend/functional.h"
#include "frontend/graph.h"
#include "runtime/generator.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

using namespace strata;

namespace {

bool same_bits(const Tensor &a, const Tensor &b) {
    return a.dtype() == b.dtype() && a.shape() == b.shape() &&
           std::memcmp(a.contiguous().raw_data(), b.contiguous().raw_data(), a.nbytes()) == 0;
}

/// A conv / pool / linear classifier and a matmul-softmax-reduction program: different op classes,
/// schedules and thread-pool use.
struct Programs {
    Graph conv_graph, dense_graph;
    CompiledGraph conv, dense;
    Tensor conv_input, dense_input;

    Programs() {
        Generator gen(5);
        auto x = conv_graph.input("x", {4, 3, 16, 16});
        auto w = conv_graph.parameter("w", Tensor::randn({8, 3, 3, 3}, gen));
        auto lw = conv_graph.parameter("lw", Tensor::randn({10, 8 * 7 * 7}, gen));
        auto h = max_pool2d(relu(conv2d(x, w)), {2, 2});
        conv_graph.output("y", softmax(linear(reshape(h, {4, 8 * 7 * 7}), lw), 1));
        conv = conv_graph.compile();
        conv_input = Tensor::randn({4, 3, 16, 16}, gen);

        auto a = dense_graph.input("a", {64, 96}, DType::f64);
        auto b = dense_graph.parameter("b", Tensor::randn({96, 80}, gen, DType::f64));
        dense_graph.output("y", sum(log_softmax(matmul(a, b), 1), {0}));
        dense = dense_graph.compile();
        dense_input = Tensor::randn({64, 96}, gen, DType::f64);
    }
};

}  // namespace

TEST_CASE("Two compiled programs run from two threads at once match their sequential results",
          "[robust][concurrency]") {
    Programs p;
    const Tensor conv_expected = p.conv.run(p.conv_input);
    const Tensor dense_expected = p.dense.run(p.dense_input);
    constexpr int runs = 25;
    std::atomic<int> conv_mismatches{0}, dense_mismatches{0};
    std::atomic<bool> go{false};
    std::thread t1([&] {
        while (!go) std::this_thread::yield();
        for (int i = 0; i < runs; ++i)
            if (!same_bits(p.conv.run(p.conv_input), conv_expected)) ++conv_mismatches;
    });
    std::thread t2([&] {
        while (!go) std::this_thread::yield();
        for (int i = 0; i < runs; ++i)
            if (!same_bits(p.dense.run(p.dense_input), dense_expected)) ++dense_mismatches;
    });
    go = true;
    t1.join();
    t2.join();
    CHECK(conv_mismatches == 0);
    CHECK(dense_mismatches == 0);
}

TEST_CASE("One compiled program run from two threads at once with different inputs matches",
          "[robust][concurrency]") {
    Programs p;
    Generator gen(9);
    const Tensor other_input = Tensor::randn({4, 3, 16, 16}, gen);
    const Tensor expected_a = p.conv.run(p.conv_input), expected_b = p.conv.run(other_input);
    REQUIRE_FALSE(same_bits(expected_a, expected_b));
    std::atomic<int> mismatches{0};
    auto worker = [&](const Tensor &input, const Tensor &expected) {
        for (int i = 0; i < 25; ++i)
            if (!same_bits(p.conv.run(input), expected)) ++mismatches;
    };
    std::thread t1(worker, std::cref(p.conv_input), std::cref(expected_a));
    std::thread t2(worker, std::cref(other_input), std::cref(expected_b));
    t1.join();
    t2.join();
    CHECK(mismatches == 0);
}
