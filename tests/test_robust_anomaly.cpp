// "Detect anomaly": find_first_non_finite names the input holding a NaN, or the first op that
// made a NaN or an infinity from finite inputs, in a program where fusion hides which op it was.
// Each expected answer is worked out by hand from the input values.
#include "frontend/debug/anomaly.h"
#include "frontend/functional.h"
#include "frontend/graph.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace strata;
using Catch::Matchers::Contains;

TEST_CASE("The first op to make a non-finite value is named, not the ops it flows through",
          "[robust][anomaly]") {
    Graph g;
    auto x = g.input("x", {2, 3});
    // sqrt(x - 1) is NaN where x < 1; the scaling and the sum only carry it on.
    auto shifted = x - 1.0;
    auto root = sqrt(shifted);
    g.output("y", sum(root * 2.0 + 1.0));
    const Tensor input = Tensor::from_vector<float>({4, 9, 2, 1, 0.5f, 5}, {2, 3});
    const auto found = find_first_non_finite(g, {{"x", input}});
    REQUIRE(found.has_value());
    CHECK(found->op == "sqrt");
    CHECK(found->label == root.node()->label());
    CHECK(found->element == 4);  // x = 0.5 is the first element below 1
    CHECK(std::isnan(found->value));
    CHECK_THAT(found->message, Contains("sqrt") && Contains("element 4") && Contains("finite inputs"));
    // And the compiled program really does give NaN, which is why one would look.
    CHECK(std::isnan(g.compile().run({{"x", input}}).at("y").get_flat(0)));
}

TEST_CASE("An infinity from a division by zero is found at its op", "[robust][anomaly]") {
    Graph g;
    auto a = g.input("a", {4});
    auto b = g.input("b", {4});
    auto ratio = a / b;
    g.output("y", relu(ratio) + 1.0);
    const auto found = find_first_non_finite(g, {{"a", Tensor::from_vector<float>({1, 2, 3, 4})},
                                                 {"b", Tensor::from_vector<float>({1, 1, 0, 2})}});
    REQUIRE(found.has_value());
    CHECK(found->op == "div");
    CHECK(found->element == 2);
    CHECK(found->value == std::numeric_limits<double>::infinity());
}

TEST_CASE("A NaN already in an input or a parameter is reported as that source", "[robust][anomaly]") {
    Graph g;
    auto x = g.input("x", {3});
    Tensor weight = Tensor::from_vector<float>({1, 2, 3});
    auto w = g.parameter("w", weight);
    g.output("y", sum(x * w));
    const float nan = std::numeric_limits<float>::quiet_NaN();

    auto in_input = find_first_non_finite(g, {{"x", Tensor::from_vector<float>({0, nan, 1})}});
    REQUIRE(in_input.has_value());
    CHECK(in_input->label == "input 'x'");
    CHECK(in_input->element == 1);
    CHECK_THAT(in_input->message, Contains("input 'x'") && Contains("f32[3]") && Contains("element 1"));

    weight.set_flat(2, -std::numeric_limits<double>::infinity());
    auto in_parameter = find_first_non_finite(g, {{"x", Tensor::from_vector<float>({0, 1, 1})}});
    REQUIRE(in_parameter.has_value());
    CHECK(in_parameter->label == "parameter 'w'");
    CHECK(in_parameter->element == 2);
}

TEST_CASE("A program whose values are all finite reports nothing", "[robust][anomaly]") {
    Graph g;
    auto x = g.input("x", {2, 2}, DType::f64);
    g.output("y", log(exp(x) + 1.0));
    CHECK_FALSE(find_first_non_finite(g, {{"x", Tensor::from_vector<double>({-3, 0, 2, 700}, {2, 2})}}));
}
