// Host tensor slicing and indexing (Tensor::slice, select, operator[], index_select) with
// PyTorch's rules, checked against a naive reference of Python's slice semantics; views into the
// middle of a tensor reach compiled kernels only as aligned copies.
#include "codegen/compiler.h"
#include "frontend/functional.h"
#include "frontend/graph.h"
#include "runtime/tensor.h"

#include <catch2/catch.hpp>

#include "tests/support/error_message.h"

#include <cstdint>
#include <optional>
#include <vector>

using namespace strata;
using Catch::Matchers::Contains;
using strata::testing::error_message;

namespace {

std::vector<double> values(const Tensor &t) {
    std::vector<double> out;
    for (int64_t i = 0; i < t.numel(); ++i) out.push_back(t.get_flat(i));
    return out;
}

/// The indices Python's `range(n)[start:end:step]` picks (step > 0): the reference for slice.
std::vector<int64_t> python_slice(int64_t n, std::optional<int64_t> start, std::optional<int64_t> end, int64_t step) {
    auto resolve = [n](int64_t i) {
        if (i < 0) i += n;
        return i < 0 ? 0 : i > n ? n : i;
    };
    std::vector<int64_t> picked;
    for (int64_t i = resolve(start.value_or(0)); i < resolve(end.value_or(n)); i += step) picked.push_back(i);
    return picked;
}

/// x = arange(2 * 5 * 3) as [2, 5, 3] in `dtype`.
Tensor numbered(DType dtype = DType::f32) { return Tensor::arange(30, dtype).reshape({2, 5, 3}); }

}  // namespace

TEST_CASE("slice picks what Python slicing picks, for every start, end and step", "[runtime][tensor]") {
    const Tensor x = numbered(DType::f64);
    const int64_t n = x.size(1);
    for (int64_t start = -7; start <= 7; ++start)
        for (int64_t end = -7; end <= 7; ++end)
            for (int64_t step : {1, 2, 3, 6}) {
                INFO("x[:, " << start << ":" << end << ":" << step << "]");
                const std::vector<int64_t> rows = python_slice(n, start, end, step);
                const Tensor s = x.slice(1, start, end, step);
                REQUIRE(s.shape() == Shape{2, static_cast<int64_t>(rows.size()), 3});
                for (int64_t b = 0; b < 2; ++b)
                    for (size_t r = 0; r < rows.size(); ++r)
                        for (int64_t c = 0; c < 3; ++c)
                            CHECK(s.at<double>({b, static_cast<int64_t>(r), c}) == x.at<double>({b, rows[r], c}));
            }
    CHECK(x.slice(1).shape() == x.shape());
    CHECK(values(x.slice(2, std::nullopt, std::nullopt, 2)) == values(x.index_select(2, {0, 2})));
    CHECK(x.slice(-1, -1).shape() == Shape{2, 5, 1});
    CHECK(x.slice(0, 5, 9).shape() == Shape{0, 5, 3});  // past the end: empty, as in PyTorch
    CHECK(x.slice(1, 0, 5, INT64_MAX).shape() == Shape{2, 1, 3});
    CHECK(x.slice(1, 1, std::nullopt, 2).strides() == Shape{15, 6, 1});  // PyTorch's strides
    CHECK(x.slice(1, 1, 2, 3).strides() == Shape{15, 9, 1});
}

TEST_CASE("slice and select are views: writes reach the tensor they came from", "[runtime][tensor]") {
    Tensor x = numbered();
    Tensor column = x.select(2, 1);  // x[:, :, 1]
    CHECK(column.shape() == Shape{2, 5});
    CHECK(values(column) == std::vector<double>{1, 4, 7, 10, 13, 16, 19, 22, 25, 28});
    column.at<float>({1, 4}) = -1;
    CHECK(x.at<float>({1, 4, 1}) == -1);
    x.slice(1, 1, 4, 2).copy_from(Tensor::zeros({2, 2, 3}));  // x[:, 1:4:2] = 0
    CHECK(x.at<float>({0, 1, 0}) == 0);
    CHECK(x.at<float>({0, 3, 2}) == 0);
    CHECK(x.at<float>({0, 2, 0}) == 6);
    // A clone does not share.
    Tensor copy = x[1].clone();
    copy.set_flat(0, 99);
    CHECK(x.at<float>({1, 0, 0}) == 15);
}

TEST_CASE("select, the index operator and item read single elements, counting from the end when negative",
          "[runtime][tensor]") {
    const Tensor x = numbered(DType::i32);
    CHECK(x[1][2][0].item<int32_t>() == 21);
    CHECK(x[-1][-1][-1].item<int32_t>() == 29);
    CHECK(x.select(1, -5).shape() == Shape{2, 3});
    CHECK(values(x.select(1, -5)) == values(x.select(1, 0)));
    const Tensor element = x[0][1][2];
    CHECK(element.dim() == 0);
    CHECK(element.numel() == 1);
    CHECK(element.item() == 5);
    // Views of permuted tensors index what the permutation shows.
    const Tensor t = x.permute({2, 0, 1});  // [3, 2, 5]
    CHECK(t[2][1][4].item<int32_t>() == x.at<int32_t>({1, 4, 2}));
}

TEST_CASE("index_select gathers entries in the given order into a new tensor", "[runtime][tensor]") {
    const Tensor x = numbered();
    const Tensor rows = x.index_select(1, {4, 0, 4});
    CHECK(rows.shape() == Shape{2, 3, 3});
    for (int64_t b = 0; b < 2; ++b)
        for (int64_t c = 0; c < 3; ++c) {
            CHECK(rows.at<float>({b, 0, c}) == x.at<float>({b, 4, c}));
            CHECK(rows.at<float>({b, 1, c}) == x.at<float>({b, 0, c}));
            CHECK(rows.at<float>({b, 2, c}) == x.at<float>({b, 4, c}));
        }
    CHECK(rows.is_contiguous());
    CHECK(x.index_select(0, {}).shape() == Shape{0, 5, 3});
    // From a strided view.
    CHECK(values(x.select(2, 0).index_select(0, {1})) == std::vector<double>{15, 18, 21, 24, 27});
}

TEST_CASE("bad indices, dims and steps name what was wrong", "[runtime][tensor][error]") {
    const Tensor x = numbered();
    CHECK_THAT(error_message([&] { x.select(0, 2); }),
               Contains("index 2 is out of range for dimension 0 of size 2 (shape [2, 5, 3])"));
    CHECK_THAT(error_message([&] { x[-3]; }), Contains("index -3 is out of range"));
    CHECK_THAT(error_message([&] { x.slice(3, 0, 1); }),
               Contains("dimension 3 is out of range for a 3-d tensor of shape [2, 5, 3] (expected one in [-3, 2])"));
    CHECK_THAT(error_message([&] { x.slice(1, 0, 2, 0); }), Contains("step must be positive, got 0"));
    CHECK_THAT(error_message([&] { x.slice(1, 0, 2, -1); }), Contains("step must be positive, got -1"));
    CHECK_THAT(error_message([&] { x.index_select(1, {0, 5}); }),
               Contains("index 5 (entry 1 of the indices) is out of range for dimension 1 of size 5"));
    CHECK_THAT(error_message([&] { x.index_select(1, {-1}); }), Contains("expected an index in [0, 5)"));
    CHECK_THAT(error_message([&] { Tensor::full({}, 1.0).select(0, 0); }), Contains("a 0-d tensor has no dimension"));
    CHECK_THAT(error_message([&] { Tensor().slice(0); }), Contains("undefined"));
}

TEST_CASE("a view into the middle of a tensor is copied to an aligned tensor by contiguous()", "[runtime][tensor]") {
    const Tensor x = Tensor::arange(64 * 3).reshape({64, 3});
    const Tensor row = x[1];  // starts 12 bytes into the storage
    CHECK(row.is_contiguous());
    CHECK_FALSE(row.is_aligned());
    const Tensor fixed = row.contiguous();
    CHECK(fixed.is_aligned());
    CHECK(fixed.raw_data() != row.raw_data());
    CHECK(values(fixed) == std::vector<double>{3, 4, 5});
    // Aligned and contiguous: itself (no copy); reshape keeps a contiguous view a view.
    CHECK(x.contiguous().raw_data() == x.raw_data());
    CHECK(x.slice(0, 0, 2).contiguous().raw_data() == x.raw_data());
    CHECK(row.reshape({3, 1}).raw_data() == row.raw_data());
}

TEST_CASE("compiled programs take misaligned and strided views as inputs and refuse them as outputs",
          "[runtime][tensor][codegen]") {
    Graph g;
    SymTensor a = g.input("a", {4, 3});
    g.output("y", a * 2.0 + 1.0);
    const CompiledGraph compiled = g.compile();
    const Tensor x = Tensor::arange(7 * 3).reshape({7, 3});
    for (const Tensor &view : {x.slice(0, 1, 5), x.slice(0, 3), x.slice(0, 0, 7, 2)}) {
        INFO("view starting at element " << (static_cast<const float *>(view.raw_data()) - x.data<float>()));
        const Tensor got = compiled.run(view);
        const Tensor want = compiled.run(view.clone());
        CHECK(values(got) == values(want));
        for (int64_t i = 0; i < view.numel(); ++i) CHECK(got.get_flat(i) == view.get_flat(i) * 2 + 1);
    }
    // run_into writes whole, aligned outputs: a view is refused, not written half.
    codegen::Executable exe = codegen::compile(g.program());
    std::vector<Tensor> outputs = {Tensor::zeros({5, 3}).slice(0, 1)};
    CHECK_THAT(error_message([&] { exe.run_into({{"a", x.slice(0, 0, 4)}}, outputs); }),
               Contains("must be a contiguous f32[4,3] starting at a 64-byte boundary"));
}
