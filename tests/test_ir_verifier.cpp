// The IR verifier: a valid program passes; each broken invariant is reported with the node.
//
// Program::make never builds broken IR, so these tests break it by hand, the
// way a buggy pass casting away const could (tests/ir_test_helpers.h).

#include "ir/parser.h"
#include "ir/verifier.h"
#include "ir_test_helpers.h"

#include <catch2/catch.hpp>

using namespace strata;
using namespace strata::ir;
using Catch::Contains;

namespace {

/// %0 x, %1 y, %2 add, %3 leaky_relu, %4 exp; output "out" = %3.
Program small_program() {
    return parse("%0 = input() {name=\"x\"} : f32[2,3]\n"
                 "%1 = parameter() {name=\"y\"} : f32[3]\n"
                 "%2 = add(%0, %1) : f32[2,3]\n"
                 "%3 = leaky_relu(%2) {negative_slope=0.1} : f32[2,3]\n"
                 "%4 = exp(%0) : f32[2,3]\n"
                 "output \"out\" = %3\n");
}

Node &node_at(const Program &p, size_t i) { return testing::corrupt_node(p, i); }

}  // namespace

TEST_CASE("verify accepts a well-formed program") {
    const Program p = small_program();
    REQUIRE_NOTHROW(verify(p));
}

TEST_CASE("verify: stored type differs from the inferred type") {
    const Program p = small_program();
    node_at(p, 2).type.shape = {3, 2};
    REQUIRE_THROWS_WITH(verify(p), "verify: %2 (add): stored type f32[3,2] but its inputs give f32[2,3]");
}

TEST_CASE("verify: the shape rule rejects the node's inputs") {
    const Program p = small_program();
    node_at(p, 1).type.shape = {4};  // the parameter no longer broadcasts against x
    REQUIRE_THROWS_WITH(verify(p),
                        Contains("verify: %2 (add): add: shapes [2, 3] and [4] cannot be broadcast"));
}

TEST_CASE("verify: an input that comes later (not topological)") {
    const Program p = small_program();
    node_at(p, 2).inputs[1] = &node_at(p, 4);
    REQUIRE_THROWS_WITH(verify(p),
                        Contains("verify: %2 (add): input 1 is %4 (exp), which does not come before it"));
}

TEST_CASE("verify: an input from another program") {
    const Program p = small_program();
    const Program other = small_program();
    node_at(p, 4).inputs[0] = &node_at(other, 0);
    REQUIRE_THROWS_WITH(verify(p), "verify: %4 (exp): input 0 does not belong to this program");
}

TEST_CASE("verify: wrong number of inputs") {
    const Program p = small_program();
    node_at(p, 4).inputs.push_back(&node_at(p, 0));
    REQUIRE_THROWS_WITH(verify(p), "verify: %4 (exp): has 2 input(s), the op takes 1");
}

TEST_CASE("verify: a stored id that is not the node's position") {
    const Program p = small_program();
    node_at(p, 4).id = 7;
    REQUIRE_THROWS_WITH(verify(p), "verify: %7 (exp): stored id 7 but the node is at position 4");
}

TEST_CASE("verify: attributes that do not match the schema") {
    const Program p = small_program();
    SECTION("missing") {
        node_at(p, 3).attrs = Attrs{};
        REQUIRE_THROWS_WITH(verify(p),
                            "verify: %3 (leaky_relu): missing attribute 'negative_slope' of kind float");
    }
    SECTION("wrong kind") {
        node_at(p, 3).attrs.set("negative_slope", int64_t{1});
        REQUIRE_THROWS_WITH(
            verify(p), "verify: %3 (leaky_relu): attribute 'negative_slope' is 1 but must be of kind float");
    }
    SECTION("unknown") {
        node_at(p, 4).attrs.set("base", 2.0);
        REQUIRE_THROWS_WITH(verify(p), "verify: %4 (exp): unknown attribute 'base'");
    }
}

TEST_CASE("verify: two sources with the same name") {
    Program p = small_program();
    const Type type{DType::f32, {5}};
    p.make(Op::parameter, {}, {{"name", std::string("x")}}, &type);  // bypasses Program::parameter's check
    REQUIRE_THROWS_WITH(verify(p),
                        "verify: %5 (parameter): another input or parameter is named \"x\" already");
}

TEST_CASE("verify: a source with a bad type") {
    const Program p = small_program();
    node_at(p, 0).type.shape = {-1, 3};
    REQUIRE_THROWS_WITH(verify(p), "verify: %0 (input): type f32[-1,3] has a negative extent");
}

TEST_CASE("verify: output names must be non-empty and unique") {
    SECTION("empty") {
        Program p = small_program();
        p.add_output("", &node_at(p, 4));
        REQUIRE_THROWS_WITH(verify(p), "verify: an output has an empty name");
    }
    SECTION("duplicate") {
        Program p = small_program();
        // add_output refuses duplicates, so write one in directly.
        auto &outputs = const_cast<std::vector<Output> &>(p.outputs());
        outputs.push_back({"out", &node_at(p, 4)});
        REQUIRE_THROWS_WITH(verify(p), "verify: two outputs are named \"out\"");
    }
}
