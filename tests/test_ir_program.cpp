// Program construction: hash-consing and the shape rules (happy paths and user errors).

#include "ir/program.h"

#include <catch2/catch.hpp>

#include <type_traits>
#include <utility>

using namespace strata;
using namespace strata::ir;
using Catch::Contains;

namespace {

Type f32_of(Shape shape) { return {DType::f32, std::move(shape)}; }

Attrs conv_attrs(Ints stride, Ints padding, Ints dilation, int64_t groups) {
    return {{"stride", stride}, {"padding", padding}, {"dilation", dilation}, {"groups", groups}};
}

}  // namespace

TEST_CASE("building the same expression twice gives the same node") {
    Program p;
    const Node *x = p.input("x", f32_of({2, 3}));
    const Node *y = p.input("y", f32_of({2, 3}));
    const Node *a = p.make(Op::add, {x, y});
    REQUIRE(p.make(Op::add, {x, y}) == a);
    REQUIRE(p.make(Op::add, {y, x}) != a);
    REQUIRE(p.make(Op::leaky_relu, {a}, {{"negative_slope", 0.1}}) ==
            p.make(Op::leaky_relu, {a}, {{"negative_slope", 0.1}}));
    REQUIRE(p.make(Op::leaky_relu, {a}, {{"negative_slope", 0.1}}) !=
            p.make(Op::leaky_relu, {a}, {{"negative_slope", 0.2}}));
    // Sources are told apart by their type too.
    REQUIRE(p.full(1.0, f32_of({2})) == p.full(1.0, f32_of({2})));
    REQUIRE(p.full(1.0, f32_of({2})) != p.full(1.0, f32_of({3})));
    REQUIRE(p.nodes().size() == 8);
}

// Nodes are shared by every user of a hash-consed program: nodes() hands out read-only ones.
static_assert(std::is_const_v<std::remove_reference_t<decltype(*std::declval<const Program &>().nodes().front())>>,
              "Program::nodes() must not give write access to a node");

TEST_CASE("shape inference: pointwise broadcasting and comparisons") {
    Program p;
    const Node *a = p.input("a", f32_of({2, 1, 3}));
    const Node *b = p.input("b", f32_of({4, 3}));
    REQUIRE(p.make(Op::add, {a, b})->type == f32_of({2, 4, 3}));
    const Node *lt = p.make(Op::lt, {a, b});
    REQUIRE(lt->type == Type{DType::boolean, {2, 4, 3}});
    REQUIRE(p.make(Op::where, {lt, a, b})->type == f32_of({2, 4, 3}));
    REQUIRE(p.make(Op::cast, {a}, {{"dtype", DType::i32}})->type == Type{DType::i32, {2, 1, 3}});
}

TEST_CASE("shape inference: reductions") {
    Program p;
    const Node *x = p.input("x", f32_of({2, 3, 4}));
    Attrs keep{{"dims", Ints{1, 2}}, {"keepdim", true}};
    REQUIRE(p.make(Op::sum, {x}, keep)->shape() == Shape{2, 1, 1});
    REQUIRE(p.make(Op::mean, {x}, {{"dims", Ints{0}}, {"keepdim", false}})->shape() == Shape{3, 4});
    REQUIRE(p.make(Op::argmax, {x}, {{"dim", int64_t{2}}, {"keepdim", false}})->type ==
            Type{DType::i32, {2, 3}});
}

TEST_CASE("shape inference: conv2d with stride and padding") {
    Program p;
    const Node *x = p.input("x", f32_of({2, 3, 32, 32}));
    const Node *w = p.parameter("w", f32_of({8, 3, 5, 5}));
    const Node *b = p.parameter("b", f32_of({8}));
    REQUIRE(p.make(Op::conv2d, {x, w, b}, conv_attrs({2, 2}, {2, 2}, {1, 1}, 1))->shape() ==
            Shape{2, 8, 16, 16});
    // Grouped and dilated: span 2*(3-1)+1 = 5, (32 - 5) / 1 + 1 = 28.
    const Node *wg = p.parameter("wg", f32_of({6, 1, 3, 3}));
    const Node *x6 = p.input("x6", f32_of({1, 6, 32, 32}));
    REQUIRE(p.make(Op::conv2d, {x6, wg}, conv_attrs({1, 1}, {0, 0}, {2, 2}, 6))->shape() ==
            Shape{1, 6, 28, 28});
}

TEST_CASE("shape inference: conv_transpose2d with output_padding") {
    Program p;
    const Node *x = p.input("x", f32_of({1, 4, 5, 5}));
    const Node *w = p.parameter("w", f32_of({4, 2, 3, 3}));
    Attrs attrs = conv_attrs({2, 2}, {1, 1}, {1, 1}, 1);
    attrs.set("output_padding", Ints{1, 1});
    // (5 - 1) * 2 - 2 * 1 + 3 + 1 = 10
    REQUIRE(p.make(Op::conv_transpose2d, {x, w}, attrs)->shape() == Shape{1, 2, 10, 10});
}

TEST_CASE("shape inference: max_pool2d floor and ceil mode") {
    Program p;
    const Node *x = p.input("x", f32_of({1, 1, 5, 5}));
    Attrs attrs{{"kernel_size", Ints{2, 2}},
                {"stride", Ints{2, 2}},
                {"padding", Ints{0, 0}},
                {"dilation", Ints{1, 1}},
                {"ceil_mode", false}};
    REQUIRE(p.make(Op::max_pool2d, {x}, attrs)->shape() == Shape{1, 1, 2, 2});
    attrs.set("ceil_mode", true);
    REQUIRE(p.make(Op::max_pool2d, {x}, attrs)->shape() == Shape{1, 1, 3, 3});
}

TEST_CASE("shape inference: pad, concat and matmul broadcasting") {
    Program p;
    const Node *x = p.input("x", f32_of({1, 2, 5, 5}));
    // pad runs from the last dim outwards: [left, right, top, bottom].
    REQUIRE(
        p.make(Op::pad, {x}, {{"pad", Ints{1, 2, 3, 4}}, {"mode", std::string("constant")}, {"value", 0.0}})
            ->shape() == Shape{1, 2, 12, 8});
    const Node *a = p.input("a", f32_of({2, 3, 4}));
    const Node *b = p.input("b", f32_of({2, 5, 4}));
    REQUIRE(p.make(Op::concat, {a, b, a}, {{"dim", int64_t{1}}})->shape() == Shape{2, 11, 4});
    const Node *m = p.input("m", f32_of({2, 1, 3, 4}));
    const Node *n = p.input("n", f32_of({5, 4, 6}));
    REQUIRE(p.make(Op::matmul, {m, n})->shape() == Shape{2, 5, 3, 6});
}

TEST_CASE("shape error: add of shapes that do not broadcast") {
    Program p;
    const Node *a = p.input("a", f32_of({2, 3}));
    const Node *b = p.input("b", f32_of({4, 3}));
    REQUIRE_THROWS_WITH(
        p.make(Op::add, {a, b}),
        Contains("add: shapes [2, 3] and [4, 3] cannot be broadcast together (dimension 0: 2 vs 4)"));
}

TEST_CASE("shape error: conv2d input channels do not match the weight") {
    Program p;
    const Node *x = p.input("x", f32_of({1, 3, 8, 8}));
    const Node *w = p.parameter("w", f32_of({4, 2, 3, 3}));
    REQUIRE_THROWS_WITH(p.make(Op::conv2d, {x, w}, conv_attrs({1, 1}, {0, 0}, {1, 1}, 1)),
                        Contains("conv2d: input has 3 channels (shape [1, 3, 8, 8]) but weight [4, 2, 3, 3] "
                                 "with groups=1 expects 2"));
}

TEST_CASE("shape error: conv2d stride must be positive") {
    Program p;
    const Node *x = p.input("x", f32_of({1, 3, 8, 8}));
    const Node *w = p.parameter("w", f32_of({4, 3, 3, 3}));
    REQUIRE_THROWS_WITH(p.make(Op::conv2d, {x, w}, conv_attrs({0, 1}, {0, 0}, {1, 1}, 1)),
                        Contains("conv2d: stride must be positive, got [0,1]"));
}

TEST_CASE("shape error: conv2d kernel larger than the padded input") {
    Program p;
    const Node *x = p.input("x", f32_of({1, 1, 4, 4}));
    const Node *w = p.parameter("w", f32_of({1, 1, 7, 7}));
    REQUIRE_THROWS_WITH(
        p.make(Op::conv2d, {x, w}, conv_attrs({1, 1}, {1, 1}, {1, 1}, 1)),
        Contains("conv2d: kernel size 7 (dilated span 7) is larger than the padded input size 6"));
}

TEST_CASE("shape error: conv2d groups must divide the channels") {
    Program p;
    const Node *x = p.input("x", f32_of({1, 3, 8, 8}));
    const Node *w = p.parameter("w", f32_of({4, 1, 3, 3}));
    REQUIRE_THROWS_WITH(p.make(Op::conv2d, {x, w}, conv_attrs({1, 1}, {0, 0}, {1, 1}, 2)),
                        Contains("conv2d: groups=2 does not divide the 3 input channels"));
}

TEST_CASE("shape error: dtype mismatch") {
    Program p;
    const Node *a = p.input("a", f32_of({2}));
    const Node *b = p.input("b", Type{DType::f64, {2}});
    REQUIRE_THROWS_WITH(p.make(Op::mul, {a, b}),
                        Contains("mul: dtype mismatch: input 0 is f32 but input 1 is f64"));
}

TEST_CASE("shape error: wrong number of inputs") {
    Program p;
    const Node *a = p.input("a", f32_of({2}));
    REQUIRE_THROWS_WITH(p.make(Op::add, {a}), Contains("add: takes 2 input(s), got 1"));
    REQUIRE_THROWS_WITH(p.make(Op::linear, {a}), Contains("linear: takes 2 to 3 inputs, got 1"));
}

TEST_CASE("shape error: unknown attribute") {
    Program p;
    const Node *a = p.input("a", f32_of({2}));
    REQUIRE_THROWS_WITH(p.make(Op::relu, {a}, {{"alpha", 1.0}}),
                        Contains("relu: unknown attribute 'alpha' (the op takes: no attributes)"));
}

TEST_CASE("shape error: missing attribute") {
    Program p;
    const Node *x = p.input("x", f32_of({1, 3, 8, 8}));
    const Node *w = p.parameter("w", f32_of({4, 3, 3, 3}));
    REQUIRE_THROWS_WITH(p.make(Op::conv2d, {x, w},
                               {{"stride", Ints{1, 1}}, {"padding", Ints{0, 0}}, {"dilation", Ints{1, 1}}}),
                        Contains("conv2d: missing attribute 'groups' (expected a value of kind int)"));
}
