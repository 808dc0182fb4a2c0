// Degenerate shapes and absurd attributes: zero-size dims, a single element, element counts past
// 32-bit indexing, and attributes so large that shape arithmetic would overflow all give a
// strata::Error naming the op and the limit (or the right answer), never a crash or a wrong size.
#include "frontend/functional.h"
#include "frontend/graph.h"
#include "ir/parser.h"
#include "runtime/idx.h"
#include "runtime/miniseed.h"

#include <catch2/catch.hpp>

#include "tests/support/error_message.h"
#include "tests/support/temp_dir.h"

#include <cmath>
#include <filesystem>
#include <limits>

using namespace strata;
using Catch::Matchers::Contains;
using strata::testing::error_message;

namespace {

constexpr int64_t huge = int64_t{1} << 62;
const std::string corpus = std::string(STRATA_SOURCE_DIR) + "/fuzz/corpus/";

/// The error parsing a one-op program `x : f32[...]` -> `line` gives.
std::string parse_error(const std::string &input_type, const std::string &line) {
    return error_message([&] { ir::parse("%0 = input() {name=\"x\"} : " + input_type + "\n" + line + "\n"); });
}

}  // namespace

TEST_CASE("Zero-size tensors are refused at compile time, naming the node", "[robust][degenerate]") {
    Graph g;
    auto x = g.input("x", {0, 3});
    g.output("y", relu(x));
    const std::string message = error_message([&] { g.compile(); });
    CHECK_THAT(message, Contains("input") && Contains("zero-size") && Contains("f32[0,3]"));

    Graph h;  // an empty slice in the middle of a program
    auto a = h.input("a", {4, 3});
    h.output("y", exp(slice(a, 0, 2, 2)));
    CHECK_THAT(error_message([&] { h.compile(); }), Contains("slice") && Contains("zero-size"));

    Graph r;  // reducing an empty dim has no identity for max
    auto e = r.input("e", {0, 3});
    CHECK_THAT(error_message([&] { max(e, {0}); }), Contains("max") && Contains("extent 0"));
}

TEST_CASE("Single-element tensors compute what a hand calculation gives", "[robust][degenerate]") {
    Graph g;
    auto x = g.input("x", {1, 1, 1, 1});
    auto w = g.input("w", {1, 1, 1, 1});
    auto y = conv2d(x, w);                               // 1x1 conv of 1x1 image: x * w
    g.output("conv", y);
    g.output("softmax", softmax(reshape(y, {1, 1}), 1));  // one class: probability 1
    g.output("mean", mean(y));
    g.output("pool", max_pool2d(y, {1, 1}));
    auto out = g.compile().run({{"x", Tensor::full({1, 1, 1, 1}, 3.0)}, {"w", Tensor::full({1, 1, 1, 1}, -2.5)}});
    CHECK(out.at("conv").get_flat(0) == -7.5);
    CHECK(out.at("softmax").get_flat(0) == 1.0);
    CHECK(out.at("mean").get_flat(0) == -7.5);
    CHECK(out.at("pool").get_flat(0) == -7.5);
}

TEST_CASE("Tensors past 32-bit indexing are refused at compile time with the limit",
          "[robust][degenerate]") {
    Graph g;  // 65536 x 65536 = 2^32 elements from two small inputs
    auto a = g.input("a", {65536, 1});
    auto b = g.input("b", {1, 65536});
    g.output("y", a + b);
    const std::string message = error_message([&] { g.compile(); });
    CHECK_THAT(message, Contains("add") && Contains("4294967296 elements") && Contains("2^31-1"));

    Graph h;
    auto big = h.input("x", {int64_t{1} << 31}, DType::f64);
    h.output("y", relu(big));
    CHECK_THAT(error_message([&] { h.compile(); }), Contains("input") && Contains("2^31-1"));

    // Shapes whose element count overflows 64 bits never get that far.
    CHECK_THAT(error_message([&] { Graph f; f.input("x", {huge, 4}); }), Contains("64 bits"));
    CHECK_THAT(error_message([&] { Tensor::empty({huge, 4}); }), Contains("64 bits"));
    // Nor do empty shapes whose strides would overflow.
    CHECK_THAT(error_message([&] { Tensor::empty({0, int64_t{1} << 40, int64_t{1} << 40}); }),
               Contains("strides") && Contains("64 bits"));
}

TEST_CASE("Absurd attributes give an error naming the op instead of overflowing", "[robust][degenerate]") {
    const std::string conv_input = "f32[1,1,8,8]\n%1 = input() {name=\"w\"} : f32[1,1,3,3]";
    CHECK_THAT(parse_error(conv_input, "%2 = conv2d(%0, %1) {dilation=[1,1], groups=1, padding=[4611686018427387904,0], "
                                       "stride=[1,1]} : f32[1,1,1,6]"),
               Contains("conv2d") && Contains("overflow"));
    CHECK_THAT(parse_error(conv_input, "%2 = conv2d(%0, %1) {dilation=[4611686018427387904,1], groups=1, "
                                       "padding=[0,0], stride=[1,1]} : f32[1,1,1,6]"),
               Contains("conv2d") && Contains("overflow"));
    CHECK_THAT(parse_error("f32[1,1,8]", "%1 = max_pool1d(%0) {ceil_mode=true, dilation=[4611686018427387904], "
                                         "kernel_size=[4], padding=[0], stride=[1]} : f32[1,1,1]"),
               Contains("max_pool1d") && Contains("overflow"));
    CHECK_THAT(parse_error("f32[2,3]", "%1 = pad(%0) {mode=\"constant\", pad=[9223372036854775807,1], value=0.0} "
                                       ": f32[2,3]"),
               Contains("pad") && Contains("overflow"));
    CHECK_THAT(parse_error("f32[1,1,8]", "%1 = conv_transpose1d(%0, %0) {dilation=[1], groups=1, output_padding=[0], "
                                         "padding=[0], stride=[4611686018427387904]} : f32[1,1,1]"),
               Contains("conv_transpose1d") && Contains("overflow"));
    CHECK_THAT(parse_error("f32[4611686018427387904,1]", "%1 = concat(%0, %0, %0) {dim=0} : f32[1,1]"),
               Contains("concat") && Contains("overflow"));
}

TEST_CASE("A huge but valid stride gives PyTorch's output size and values", "[robust][degenerate]") {
    // floor((8 - 3) / 2^40) + 1 = 1 row; column stride 1 gives 6 columns.
    Graph g;
    auto x = g.input("x", {1, 1, 8, 8});
    auto w = g.input("w", {1, 1, 3, 3});
    ConvOptions options;
    options.stride = {int64_t{1} << 40, 1};
    auto y = conv2d(x, w, {}, options);
    REQUIRE(y.shape() == Shape{1, 1, 1, 6});
    g.output("y", y);
    Tensor input = Tensor::arange(64).reshape({1, 1, 8, 8});
    const Tensor out = g.compile().run({{"x", input}, {"w", Tensor::ones({1, 1, 3, 3})}}).at("y");
    for (int64_t col = 0; col < 6; ++col) {  // the 3x3 window sum at the top-left rows
        double expected = 0;
        for (int64_t r = 0; r < 3; ++r)
            for (int64_t c = 0; c < 3; ++c) expected += static_cast<double>(r * 8 + col + c);
        CHECK(out.get_flat(col) == expected);
    }
    // A slice step beyond the extent keeps only the first element.
    Graph h;
    auto v = h.input("v", {5});
    h.output("y", slice(v, 0, 1, 5, std::numeric_limits<int64_t>::max()));
    const Tensor first = h.compile().run(Tensor::arange(5));
    REQUIRE(first.shape() == Shape{1});
    CHECK(first.get_flat(0) == 1.0);
}

TEST_CASE("Fuzz crash inputs now give errors that say what is wrong", "[robust][degenerate][fuzz]") {
    // IDX: an empty first dim with two huge ones (the strides would overflow).
    CHECK_THAT(error_message([] { read_idx(corpus + "fuzz_idx/crash_zero_extent_huge_strides.idx"); }),
               Contains("overflow"));
    // MiniSEED: 20 samples with a sample-rate factor of 0.
    CHECK_THAT(error_message([] { read_miniseed(corpus + "fuzz_miniseed/crash_zero_sampling_rate.mseed"); }),
               Contains("sampling rate") && Contains("positive"));
}
