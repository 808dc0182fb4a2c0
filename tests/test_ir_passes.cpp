// IR passes, MLIR style: each test is IR text in and the expected IR text out.

#include "ir/parser.h"
#include "ir/passes/common_subexpression_elimination.h"
#include "ir/passes/constant_folding.h"
#include "ir/passes/dead_code_elimination.h"
#include "ir/passes/fold_layout_chains.h"
#include "ir/passes/pipeline.h"
#include "ir/passes/rebatch.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "ir_test_helpers.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <unistd.h>

using namespace strata;
using namespace strata::ir;
using Catch::Contains;

namespace {

/// IR text written indented in a raw string: drops the first newline and each line's indent.
std::string ir_text(const char *text) {
    std::string out, line;
    std::string s(text);
    if (!s.empty() && s[0] == '\n') s.erase(0, 1);
    size_t start = 0;
    while (start < s.size()) {
        size_t end = s.find('\n', start);
        if (end == std::string::npos) end = s.size();
        line = s.substr(start, end - start);
        const size_t first = line.find_first_not_of(" \t");
        if (first != std::string::npos) out += line.substr(first) + '\n';
        start = end + 1;
    }
    return out;
}

/// Parses `input`, runs `pass`, verifies and prints the result.
std::string run_pass(Program (*pass)(const Program &), const std::string &input) {
    const Program result = pass(parse(input));
    verify(result);
    return print(result);
}

}  // namespace

TEST_CASE("dead_code_elimination drops unused nodes but keeps the signature") {
    const std::string input = ir_text(R"(
        %0 = input() {name="x"} : f32[4]
        %1 = input() {name="unused"} : f32[4]
        %2 = parameter() {name="w"} : f32[4]
        %3 = exp(%0) : f32[4]
        %4 = neg(%0) : f32[4]
        %5 = full() {value=1.0} : f32[4]
        %6 = mul(%4, %2) : f32[4]
        %7 = add(%3, %5) : f32[4]
        output "y" = %6
    )");
    REQUIRE(run_pass(dead_code_elimination, input) == ir_text(R"(
        %0 = input() {name="x"} : f32[4]
        %1 = input() {name="unused"} : f32[4]
        %2 = parameter() {name="w"} : f32[4]
        %3 = neg(%0) : f32[4]
        %4 = mul(%3, %2) : f32[4]
        output "y" = %4
    )"));
}

TEST_CASE("common_subexpression_elimination merges equal nodes") {
    // The parser already hash-conses, so the duplicate exp collapses on the way in.
    const std::string input = ir_text(R"(
        %0 = input() {name="x"} : f32[4]
        %1 = exp(%0) : f32[4]
        %2 = exp(%0) : f32[4]
        %3 = mul(%1, %2) : f32[4]
        output "y" = %3
    )");
    REQUIRE(run_pass(common_subexpression_elimination, input) == ir_text(R"(
        %0 = input() {name="x"} : f32[4]
        %1 = exp(%0) : f32[4]
        %2 = mul(%1, %1) : f32[4]
        output "y" = %2
    )"));
}

TEST_CASE("common_subexpression_elimination merges nodes that a rewrite made equal") {
    Program p = parse(ir_text(R"(
        %0 = input() {name="x"} : f32[4]
        %1 = exp(%0) : f32[4]
        %2 = neg(%0) : f32[4]
        %3 = mul(%1, %2) : f32[4]
        output "y" = %3
    )"));
    testing::corrupt_node(p, 2).op = Op::exp;  // what a careless in-place rewrite could leave behind
    REQUIRE(print(common_subexpression_elimination(p)) == ir_text(R"(
        %0 = input() {name="x"} : f32[4]
        %1 = exp(%0) : f32[4]
        %2 = mul(%1, %1) : f32[4]
        output "y" = %2
    )"));
}

TEST_CASE("fold_layout_chains: reshape chains and no-op reshapes") {
    const std::string input = ir_text(R"(
        %0 = input() {name="x"} : f32[2,3,4]
        %1 = reshape(%0) {shape=[6,4]} : f32[6,4]
        %2 = reshape(%1) {shape=[24]} : f32[24]
        %3 = reshape(%2) {shape=[2,3,4]} : f32[2,3,4]
        %4 = relu(%3) : f32[2,3,4]
        output "y" = %4
        output "flat" = %2
    )");
    REQUIRE(run_pass(fold_layout_chains, input) == ir_text(R"(
        %0 = input() {name="x"} : f32[2,3,4]
        %1 = reshape(%0) {shape=[6,4]} : f32[6,4]
        %2 = reshape(%0) {shape=[24]} : f32[24]
        %3 = relu(%0) : f32[2,3,4]
        output "y" = %3
        output "flat" = %2
    )"));
}

TEST_CASE("fold_layout_chains: permute chains compose, identity permutes vanish") {
    const std::string input = ir_text(R"(
        %0 = input() {name="x"} : f32[2,3,4]
        %1 = permute(%0) {dims=[1,2,0]} : f32[3,4,2]
        %2 = permute(%1) {dims=[0,2,1]} : f32[3,2,4]
        %3 = permute(%2) {dims=[1,0,2]} : f32[2,3,4]
        %4 = permute(%0) {dims=[0,1,2]} : f32[2,3,4]
        %5 = add(%3, %4) : f32[2,3,4]
        output "y" = %5
        output "t" = %2
    )");
    // %2 = x dims [1,2,0][[0,2,1]] = [1,0,2]; %3 composes to [0,1,2], the identity.
    REQUIRE(run_pass(fold_layout_chains, input) == ir_text(R"(
        %0 = input() {name="x"} : f32[2,3,4]
        %1 = permute(%0) {dims=[1,2,0]} : f32[3,4,2]
        %2 = permute(%0) {dims=[1,0,2]} : f32[3,2,4]
        %3 = add(%0, %0) : f32[2,3,4]
        output "y" = %3
        output "t" = %2
    )"));
}

TEST_CASE("fold_layout_chains: expand to the same shape and whole-dim slices vanish") {
    const std::string input = ir_text(R"(
        %0 = input() {name="x"} : f32[2,3]
        %1 = expand(%0) {shape=[2,3]} : f32[2,3]
        %2 = slice(%1) {dim=1, end=3, start=0, step=1} : f32[2,3]
        %3 = slice(%2) {dim=1, end=3, start=0, step=2} : f32[2,2]
        %4 = slice(%2) {dim=0, end=2, start=1, step=1} : f32[1,3]
        %5 = expand(%4) {shape=[4,2,3]} : f32[4,2,3]
        output "a" = %2
        output "b" = %3
        output "c" = %5
    )");
    REQUIRE(run_pass(fold_layout_chains, input) == ir_text(R"(
        %0 = input() {name="x"} : f32[2,3]
        %1 = slice(%0) {dim=1, end=3, start=0, step=2} : f32[2,2]
        %2 = slice(%0) {dim=0, end=2, start=1, step=1} : f32[1,3]
        %3 = expand(%2) {shape=[4,2,3]} : f32[4,2,3]
        output "a" = %0
        output "b" = %1
        output "c" = %3
    )"));
}

TEST_CASE("constant_folding: pointwise ops of fulls, rounded to the result dtype") {
    const std::string input = ir_text(R"(
        %0 = full() {value=2.0} : f32[]
        %1 = full() {value=3.0} : f32[2,3]
        %2 = mul(%0, %1) : f32[2,3]
        %3 = sqrt(%2) : f32[2,3]
        %4 = lt(%0, %1) : bool[2,3]
        %5 = cast(%3) {dtype=i32} : i32[2,3]
        %6 = neg(%5) : i32[2,3]
        %7 = where(%4, %1, %0) : f32[2,3]
        output "sqrt" = %3
        output "neg" = %6
        output "where" = %7
    )");
    // sqrt(6) as the nearest f32 is 2.4494898319244385; casting it to i32 truncates to 2.
    REQUIRE(run_pass(constant_folding, input) == ir_text(R"(
        %0 = full() {value=2.0} : f32[]
        %1 = full() {value=3.0} : f32[2,3]
        %2 = full() {value=6.0} : f32[2,3]
        %3 = full() {value=2.4494898319244385} : f32[2,3]
        %4 = full() {value=1.0} : bool[2,3]
        %5 = full() {value=2.0} : i32[2,3]
        %6 = full() {value=-2.0} : i32[2,3]
        output "sqrt" = %3
        output "neg" = %6
        output "where" = %1
    )"));
}

TEST_CASE("constant_folding: layout ops of fulls change only the shape") {
    const std::string input = ir_text(R"(
        %0 = full() {value=0.5} : f64[2,3]
        %1 = reshape(%0) {shape=[6]} : f64[6]
        %2 = permute(%0) {dims=[1,0]} : f64[3,2]
        %3 = expand(%1) {shape=[4,6]} : f64[4,6]
        %4 = slice(%0) {dim=0, end=1, start=0, step=1} : f64[1,3]
        output "r" = %1
        output "p" = %2
        output "e" = %3
        output "s" = %4
    )");
    REQUIRE(run_pass(constant_folding, input) == ir_text(R"(
        %0 = full() {value=0.5} : f64[2,3]
        %1 = full() {value=0.5} : f64[6]
        %2 = full() {value=0.5} : f64[3,2]
        %3 = full() {value=0.5} : f64[4,6]
        %4 = slice(%0) {dim=0, end=1, start=0, step=1} : f64[1,3]
        output "r" = %1
        output "p" = %2
        output "e" = %3
        output "s" = %4
    )"));
}

TEST_CASE("constant_folding leaves dropout, non-constant inputs and i32 overflow alone") {
    const std::string input = ir_text(R"(
        %0 = input() {name="x"} : f32[4]
        %1 = full() {value=1.0} : f32[4]
        %2 = dropout(%1) {p=0.5, seed=7} : f32[4]
        %3 = add(%0, %1) : f32[4]
        %4 = full() {value=2147483647.0} : i32[]
        %5 = add(%4, %4) : i32[]
        output "d" = %2
        output "a" = %3
        output "o" = %5
    )");
    REQUIRE(run_pass(constant_folding, input) == input);
}

TEST_CASE("constant_folding drops exact identities: x*1, 1*x, x/1, x-(+0)") {
    const std::string input = ir_text(R"(
        %0 = input() {name="x"} : f32[2,3]
        %1 = full() {value=1.0} : f32[2,3]
        %2 = full() {value=0.0} : f32[]
        %3 = full() {value=-0.0} : f32[]
        %4 = full() {value=1.0} : f32[4,2,3]
        %5 = mul(%1, %0) : f32[2,3]
        %6 = div(%5, %1) : f32[2,3]
        %7 = sub(%6, %2) : f32[2,3]
        %8 = sub(%7, %3) : f32[2,3]
        %9 = mul(%0, %4) : f32[4,2,3]
        %10 = add(%0, %2) : f32[2,3]
        %11 = div(%1, %0) : f32[2,3]
        output "same" = %7
        output "minus_neg_zero" = %8
        output "broadcast" = %9
        output "plus_zero" = %10
        output "reciprocal" = %11
    )");
    // x - (-0) and x + 0 turn -0 into +0, and x * ones([4,2,3]) broadcasts: all kept.
    REQUIRE(run_pass(constant_folding, input) == ir_text(R"(
        %0 = input() {name="x"} : f32[2,3]
        %1 = full() {value=1.0} : f32[2,3]
        %2 = full() {value=0.0} : f32[]
        %3 = full() {value=-0.0} : f32[]
        %4 = full() {value=1.0} : f32[4,2,3]
        %5 = sub(%0, %3) : f32[2,3]
        %6 = mul(%0, %4) : f32[4,2,3]
        %7 = add(%0, %2) : f32[2,3]
        %8 = div(%1, %0) : f32[2,3]
        output "same" = %0
        output "minus_neg_zero" = %5
        output "broadcast" = %6
        output "plus_zero" = %7
        output "reciprocal" = %8
    )"));
}

TEST_CASE("the default pipeline simplifies and cleans up") {
    const std::string input = ir_text(R"(
        %0 = input() {name="x"} : f32[2,3]
        %1 = parameter() {name="unused"} : f32[1]
        %2 = full() {value=2.0} : f32[]
        %3 = full() {value=0.25} : f32[]
        %4 = mul(%2, %3) : f32[]
        %5 = reshape(%0) {shape=[6]} : f32[6]
        %6 = reshape(%5) {shape=[2,3]} : f32[2,3]
        %7 = mul(%6, %4) : f32[2,3]
        %8 = exp(%0) : f32[2,3]
        output "y" = %7
    )");
    REQUIRE(print(run_passes(parse(input))) == ir_text(R"(
        %0 = input() {name="x"} : f32[2,3]
        %1 = parameter() {name="unused"} : f32[1]
        %2 = full() {value=0.5} : f32[]
        %3 = mul(%0, %2) : f32[2,3]
        output "y" = %3
    )"));
}

TEST_CASE("the default passes can be run one by one") {
    const std::vector<Pass> &passes = default_passes();
    REQUIRE(passes.size() == 5);
    REQUIRE(passes.front().name == "dead_code_elimination");
    REQUIRE(passes[1].name == "constant_folding");
    REQUIRE(passes[2].name == "fold_layout_chains");
    REQUIRE(passes[3].name == "common_subexpression_elimination");
    REQUIRE(passes.back().name == "dead_code_elimination");
    Program program = parse(ir_text(R"(
        %0 = full() {value=3.0} : f32[2]
        %1 = neg(%0) : f32[2]
        output "y" = %1
    )"));
    for (const Pass &pass : passes) {
        program = pass.run(program);
        REQUIRE_NOTHROW(verify(program));
    }
    REQUIRE(print(program) == "%0 = full() {value=-3.0} : f32[2]\noutput \"y\" = %0\n");
}

TEST_CASE("run_passes rejects a program that does not verify") {
    const Program p = parse("%0 = input() {name=\"x\"} : f32[2]\n%1 = exp(%0) : f32[2]\noutput \"y\" = %1\n");
    testing::corrupt_node(p, 1).type.dtype = DType::f64;
    REQUIRE_THROWS_WITH(run_passes(p), Contains("verify: %1 (exp): stored type f64[2]"));
}

TEST_CASE("STRATA_DUMP_IR=1 prints the IR after each pass to stderr") {
    const Program p = parse("%0 = input() {name=\"x\"} : f32[2]\n%1 = exp(%0) : f32[2]\noutput \"y\" = %1\n");
    // Send stderr to a temporary file while the passes run.
    std::FILE *capture = std::tmpfile();
    REQUIRE(capture != nullptr);
    std::fflush(stderr);
    const int saved = dup(fileno(stderr));
    dup2(fileno(capture), fileno(stderr));
    setenv("STRATA_DUMP_IR", "1", 1);
    run_passes(p);
    unsetenv("STRATA_DUMP_IR");
    std::fflush(stderr);
    dup2(saved, fileno(stderr));
    close(saved);

    std::string dumped;
    std::rewind(capture);
    for (int c; (c = std::fgetc(capture)) != EOF;) dumped += static_cast<char>(c);
    std::fclose(capture);
    const std::string body = print(p);
    REQUIRE(dumped == "// after dead_code_elimination\n" + body + "// after constant_folding\n" + body +
                          "// after fold_layout_chains\n" + body +
                          "// after common_subexpression_elimination\n" + body +
                          "// after dead_code_elimination\n" + body);
}

TEST_CASE("rebatch changes the inputs' batch and the reshapes that spell it out") {
    const std::string input = ir_text(R"(
        %0 = input() {name="x"} : f32[64,1,4,4]
        %1 = parameter() {name="w"} : f32[3,16]
        %2 = reshape(%0) {shape=[64,16]} : f32[64,16]
        %3 = linear(%2, %1) : f32[64,3]
        output "y" = %3
    )");
    REQUIRE(print(rebatch(parse(input), 5)) == ir_text(R"(
        %0 = input() {name="x"} : f32[5,1,4,4]
        %1 = parameter() {name="w"} : f32[3,16]
        %2 = reshape(%0) {shape=[5,16]} : f32[5,16]
        %3 = linear(%2, %1) : f32[5,3]
        output "y" = %3
    )"));
    REQUIRE_THROWS_WITH(rebatch(parse(input), 0), Contains("batch size must be positive"));
    const std::string folds_batch = ir_text(R"(
        %0 = input() {name="x"} : f32[4,3]
        %1 = reshape(%0) {shape=[12]} : f32[12]
        output "y" = %1
    )");
    REQUIRE_THROWS_WITH(rebatch(parse(folds_batch), 2), Contains("reshapes the batch dim"));
}
