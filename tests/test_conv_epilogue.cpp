// A 2-d conv fused into its epilogue (schedules/fusion.cpp): the stored
// elementwise node its output flows into (bias, scale, residual add, relu, a
// relu's gradient mask) computes the conv's tiles per (image, channel block).
// Checked against the naive reference and the "simple" schedule (values, f32
// and f64) and finite differences; the dump says which convs are fused, and a
// rule on the conv or a long chain keeps them apart.

#include "codegen/compiler.h"
#include "tests/grad_test_helpers.h"
#include "tests/op_test_helpers.h"

using namespace strata;
namespace ref = strata::reference;
using Catch::Contains;
using testing::tolerance;

namespace {

codegen::CompileOptions simple_schedule() {
    codegen::CompileOptions o;
    o.schedule = "simple";
    return o;
}

size_t count_of(const std::string &text, const std::string &what) {
    size_t count = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
    return count;
}

constexpr const char *kFused = "per channel block in the loops of its epilogue";

/// relu(conv2d(x, w, b, padding 1) * 0.5 + x) by the naive reference.
Tensor reference_block(const Tensor &x, const Tensor &w, const Tensor &b) {
    Tensor y = ref::conv2d(x, w, b, ref::ConvArgs{{1, 1}, {1, 1}, {1, 1}, {1, 1}, 1, "zeros"});
    for (int64_t i = 0; i < y.numel(); ++i) y.set_flat(i, std::max(0.0, y.get_flat(i) * 0.5 + x.get_flat(i)));
    return y;
}

}  // namespace

TEST_CASE("a conv's tiles computed in its epilogue's loops give the reference's and the simple schedule's numbers",
          "[ops][conv]") {
    // Rows of 8 and 16 (shorter than two vectors: the column-shifted form in
    // f32, rows of whole vectors in f64) and of 21 (flattened rows with wrapped
    // positions), 16 and 24 channels (a partial channel block), one image
    // (threads over channel blocks) and 8 (a task per image).
    struct Case {
        int64_t batch, width;
        DType dt;
    };
    Generator gen(31);
    for (const Case &k : {Case{8, 16, DType::f32}, Case{1, 16, DType::f32}, Case{1, 8, DType::f32},
                          Case{8, 8, DType::f64}, Case{8, 21, DType::f64}}) {
        const int64_t batch = k.batch, width = k.width;
        const DType dt = k.dt;
        INFO(dtype_name(dt) << " batch " << batch << " width " << width);
        const int64_t c = width == 16 ? 24 : 16;
        const Shape xs = {batch, c, 5, width};
        const Tensor xv = testing::randn(xs, dt, gen);
        const Tensor w = Tensor::randn({c, c, 3, 3}, gen, dt, 0.0, 0.2), b = testing::randn({c}, dt, gen);
        const Tensor wt = Tensor::randn({c, c, 3, 3}, gen, dt, 0.0, 0.2);
        Graph g;
        auto x = g.input("x", xs, dt);
        auto pw = g.parameter("w", w), pb = g.parameter("b", b), pwt = g.parameter("wt", wt);
        // Forward: bias, scale, residual add and relu after the conv.
        g.output("block", relu(conv2d(x, pw, pb, {.padding = 1}) * 0.5 + x));
        // A transposed conv, an add, a relu and a product, read twice (the
        // relu's gradient mask comes from autodiff in the test below).
        const SymTensor masked = relu(conv_transpose2d(x * x, pwt, {}, {.padding = {1, 1}}) + x) * x;
        g.output("masked", masked);
        g.output("masked_sum", sum(masked, {1}));
        // A stride-2 transposed conv, computed by phase, its phases read interleaved.
        const ConvTransposeOptions up = {.stride = {2, 2}, .padding = {1, 1}, .output_padding = {1, 0}};
        g.output("up", relu(conv_transpose2d(x, pwt, {}, up)) * 2.0);
        const std::string dump = codegen::schedule_in_effect(g.program());
        INFO(dump);
        CHECK(count_of(dump, kFused) == 3);

        const std::map<std::string, Tensor> feeds = {{"x", xv}};
        auto out = g.compile().run(feeds);
        auto simple = g.compile(simple_schedule()).run(feeds);
        const double tol = tolerance(dt, 9 * c);
        CHECK_CLOSE(out.at("block"), reference_block(xv, w, b), dt, tol);
        CHECK_CLOSE(out.at("block"), simple.at("block"), dt, tol);
        CHECK_CLOSE(out.at("masked"), simple.at("masked"), dt, tol);
        CHECK_CLOSE(out.at("masked_sum"), simple.at("masked_sum"), dt, tol);
        CHECK_CLOSE(out.at("up"), simple.at("up"), dt, tol);
    }
}

TEST_CASE("gradients through convs fused into their epilogues match finite differences", "[grad][conv]") {
    // A residual block: the backward's input gradients (transposed convs, one
    // by phase) are fused into the add and the relu mask after them. Rows of 8
    // f64 (one vector) take the column-shifted flattened form.
    Generator gen(37);
    const std::vector<testing::GradSource> sources = {{"x", testing::randn64_away_from_zero({4, 3, 4, 8}, gen)},
                                                      {"w1", testing::randn64({3, 3, 3, 3}, gen, 0.5)},
                                                      {"w2", testing::randn64({3, 3, 3, 3}, gen, 0.5)},
                                                      {"b", testing::randn64({3}, gen)}};
    CHECK_GRADIENTS(sources, [](Graph &, const testing::Syms &in) -> testing::Syms {
        const SymTensor &x = in[0], &w1 = in[1], &w2 = in[2], &b = in[3];
        const SymTensor h = relu(conv2d(x, w1, b, {.padding = 1}));
        // The strided conv's input gradient is a stride-2 transposed conv (by phase).
        return {relu(conv2d(h, w2, {}, {.padding = 1}) + x), conv2d(x, w2, {}, {.stride = {2}, .padding = 1})};
    });
}

TEST_CASE("a rule on the conv keeps its output stored, with the same numbers", "[ops][conv]") {
    Generator gen(41);
    const Tensor xv = testing::randn({4, 16, 6, 16}, DType::f32, gen);
    const Tensor w = Tensor::randn({16, 16, 3, 3}, gen, DType::f32, 0.0, 0.2);
    Graph g;
    auto x = g.input("x", {4, 16, 6, 16});
    g.output("y", relu(conv2d(x, g.parameter("w", w), {}, {.padding = 1}) + x));
    REQUIRE(count_of(codegen::schedule_in_effect(g.program()), kFused) == 1);
    codegen::CompileOptions ruled;
    ruled.rules.for_op("conv2d").tile(16, 4);
    const std::string dump = codegen::schedule_in_effect(g.program(), ruled);
    INFO(dump);
    CHECK(count_of(dump, kFused) == 0);
    const std::map<std::string, Tensor> feeds = {{"x", xv}};
    CHECK_CLOSE(g.compile(ruled).run(feeds).at("y"), g.compile().run(feeds).at("y"), DType::f32,
                tolerance(DType::f32, 144));
}
