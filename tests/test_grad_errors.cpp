// User errors of `grad`: each throws strata::Error naming what is wrong —
// a loss that reaches the requested tensor only through a non-differentiable
// op (argmax, a comparison, an integer cast), a loss that is not a single
// float value, and a request for the gradient of an integer tensor. A loss
// that also has a differentiable path is fine: the cut path adds nothing.

#include "tests/grad_test_helpers.h"

using namespace strata;
using Catch::Contains;

TEST_CASE("grad through argmax alone names argmax", "[grad][errors]") {
    Graph g;
    const SymTensor x = g.input("x", {4, 5}, DType::f64), w = g.input("w", {4, 5}, DType::f64);
    const SymTensor weights = g.input("weights", {4}, DType::f64);
    // The only path from w to the loss runs through argmax (an i32 index).
    const SymTensor loss = sum(cast(argmax(x * w, 1), DType::f64) * weights);
    REQUIRE_THROWS_AS(grad(loss, {w}), Error);
    REQUIRE_THROWS_WITH(grad(loss, {w}), Contains("argmax") && Contains("not differentiable"));
}

TEST_CASE("grad through a comparison or an integer cast alone names that op", "[grad][errors]") {
    Graph g;
    const SymTensor w = g.input("w", {3, 4}, DType::f64);
    const SymTensor through_gt = sum(cast(w > g.constant(0.0, {}, DType::f64), DType::f64));
    REQUIRE_THROWS_WITH(grad(through_gt, {w}), Contains("gt") && Contains("not differentiable"));
    const SymTensor through_int = sum(cast(cast(w * 3.0, DType::i32), DType::f64));
    REQUIRE_THROWS_WITH(grad(through_int, {w}), Contains("cast") && Contains("not differentiable"));
}

TEST_CASE("a cut path next to a differentiable one adds nothing", "[grad][errors]") {
    Graph g;
    const SymTensor w = g.input("w", {3, 4}, DType::f64);
    // d/dw of sum(w) + sum(argmax(w, 1) as f64) is all ones: argmax contributes no gradient.
    const SymTensor loss = sum(w) + sum(cast(argmax(w, 1), DType::f64));
    g.output("dw", grad(loss, {w})[0]);
    Generator gen(1001);
    for (const std::string &schedule : reference::grad_schedules()) {
        const CompiledGraph compiled = g.compile(testing::schedule_options(schedule));
        const Tensor dw = compiled.run({{"w", testing::randn64({3, 4}, gen)}}).at("dw");
        for (int64_t k = 0; k < dw.numel(); ++k) CHECK(dw.get_flat(k) == 1.0);
    }
}

TEST_CASE("grad of a non-scalar loss names the loss and its type", "[grad][errors]") {
    Graph g;
    const SymTensor x = g.input("x", {3, 4}, DType::f64);
    REQUIRE_THROWS_AS(grad(x * 2.0, {x}), Error);
    REQUIRE_THROWS_WITH(grad(x * 2.0, {x}), Contains("loss") && Contains("single") && Contains("f64[3,4]"));
    // A one-element tensor of rank > 0 is a single value, as in PyTorch's backward().
    CHECK_NOTHROW(grad(sum(x, {0, 1}, true), {x}));
    // An integer scalar is not a loss.
    const SymTensor count = sum(cast(x > x * 2.0, DType::i32));
    REQUIRE_THROWS_WITH(grad(count, {x}), Contains("loss") && Contains("i32"));
}

TEST_CASE("grad with respect to an i32 input names the input and its type", "[grad][errors]") {
    Graph g;
    const SymTensor x = g.input("x", {3, 4}, DType::f64);
    const SymTensor index = g.input("index", {3}, DType::i32);
    const SymTensor loss = sum(x) + sum(cast(index, DType::f64));
    REQUIRE_THROWS_AS(grad(loss, {x, index}), Error);
    REQUIRE_THROWS_WITH(grad(loss, {x, index}), Contains("i32[3]") && Contains("only f32/f64"));
}

TEST_CASE("grad with tensors from two graphs says so", "[grad][errors]") {
    Graph g1, g2;
    const SymTensor x1 = g1.input("x", {2}, DType::f64), x2 = g2.input("x", {2}, DType::f64);
    REQUIRE_THROWS_WITH(grad(sum(x1), {x2}), Contains("another graph"));
}
