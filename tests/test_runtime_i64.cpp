// The i64 dtype outside compiled kernels: IR text, host tensors (exact beyond 2^53, PyTorch's
// conversions), safetensors read and written as I64 natively, and the emitted C header's types.
// The compiled side (casts, losses, pooling indices, a training step) is tests/test_ops_i64.cpp.

#include "codegen/aot_c_api.h"
#include "ir/parser.h"
#include "ir/passes/constant_folding.h"
#include "ir/printer.h"
#include "ir/program.h"
#include "runtime/safetensors.h"
#include "runtime/tensor.h"

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

using namespace strata;
using Catch::Contains;
using strata::testing::TempDir;

namespace {

constexpr int64_t kBeyondDouble = (int64_t{1} << 53) + 1;  // the first integer a double cannot hold

}  // namespace

TEST_CASE("i64 is a dtype of the IR text, printed and parsed back", "[runtime][i64]") {
    DType parsed = DType::f32;
    REQUIRE(parse_dtype("i64", &parsed));
    CHECK(parsed == DType::i64);
    CHECK(std::string(dtype_name(DType::i64)) == "i64");
    CHECK(dtype_size(DType::i64) == 8);
    CHECK(is_integer(DType::i64));
    CHECK_FALSE(is_float(DType::i64));

    ir::Program p;
    const ir::Node *t = p.input("target", ir::Type{DType::i64, {4}});
    const ir::Node *checked = p.make(ir::Op::check_class_index, {t}, {{"classes", int64_t{3}}, {"ignore_index", int64_t{-100}}});
    p.add_output("as_f64", p.make(ir::Op::cast, {checked}, {{"dtype", DType::f64}}));
    p.add_output("back", p.make(ir::Op::cast, {p.make(ir::Op::cast, {t}, {{"dtype", DType::i32}})}, {{"dtype", DType::i64}}));
    const std::string text = ir::print(p);
    CHECK_THAT(text, Contains(": i64[4]"));
    CHECK_THAT(text, Contains("dtype=i64"));
    CHECK(ir::print(ir::parse(text)) == text);
    std::string unknown = text;
    unknown.replace(unknown.find("i64[4]"), 3, "i16");
    CHECK_THROWS_WITH(ir::parse(unknown), Contains("unknown dtype 'i16' (expected f32, f64, i32, i64 or bool)"));
}

TEST_CASE("IR shape rules take i64 class targets and indices, and say what else they take", "[runtime][i64]") {
    ir::Program p;
    const ir::Node *logits = p.input("logits", ir::Type{DType::f32, {2, 3}});
    const ir::Node *t64 = p.input("t64", ir::Type{DType::i64, {2}});
    const ir::Node *tf = p.input("tf", ir::Type{DType::f32, {2}});
    const ir::Attrs ce{{"ignore_index", int64_t{-100}}, {"label_smoothing", 0.0}, {"reduction", std::string("mean")}};
    CHECK(p.make(ir::Op::cross_entropy, {logits, t64}, ce)->type == ir::Type{DType::f32, {}});
    CHECK_THROWS_WITH(p.make(ir::Op::cross_entropy, {logits, tf}, ce),
                      Contains("cross_entropy: target must hold class indices as i32 or i64, got f32[2]"));
    // The lowering compares targets in 32 bits: an ignore_index beyond i32 would wrap onto a class.
    const ir::Attrs far{{"ignore_index", int64_t{1} << 32}, {"label_smoothing", 0.0}, {"reduction", std::string("sum")}};
    CHECK_THROWS_WITH(p.make(ir::Op::cross_entropy, {logits, t64}, far),
                      Contains("cross_entropy: ignore_index 4294967296 is outside the i32 range"));
    CHECK_THROWS_WITH(p.make(ir::Op::check_class_index, {t64}, {{"classes", int64_t{3}}, {"ignore_index", int64_t{-(int64_t{1} << 40)}}}),
                      Contains("check_class_index: ignore_index -1099511627776 is outside the i32 range"));
    CHECK_THROWS_WITH(p.make(ir::Op::check_class_index, {tf}, {{"classes", int64_t{3}}, {"ignore_index", int64_t{-100}}}),
                      Contains("check_class_index: the targets must hold class indices as i32 or i64, got f32[2]"));
}

TEST_CASE("constant_folding folds i64 only where a double is exact", "[runtime][i64][passes]") {
    ir::Program p;
    const ir::Type scalar{DType::i64, {}};
    const ir::Node *largest = p.full(9007199254740991.0, scalar), *two = p.full(2.0, scalar);  // 2^53 - 1
    p.add_output("within", p.make(ir::Op::sub, {largest, two}));
    p.add_output("beyond", p.make(ir::Op::add, {largest, two}));  // 2^53 + 1: a double would say 2^53
    p.add_output("truncated", p.make(ir::Op::cast, {p.full(-3.7, ir::Type{DType::f64, {}})}, {{"dtype", DType::i64}}));
    p.add_output("nan", p.make(ir::Op::cast, {p.full(std::nan(""), ir::Type{DType::f64, {}})}, {{"dtype", DType::i64}}));
    const ir::Program folded = ir::constant_folding(p);
    const ir::Node *within = folded.find_output("within"), *beyond = folded.find_output("beyond");
    REQUIRE(within->op == ir::Op::full);
    CHECK(within->attrs.get_float("value") == 9007199254740989.0);
    CHECK(within->dtype() == DType::i64);
    CHECK(beyond->op == ir::Op::add);  // left to the kernel, which adds in 64 bits
    REQUIRE(folded.find_output("truncated")->op == ir::Op::full);
    CHECK(folded.find_output("truncated")->attrs.get_float("value") == -3.0);
    CHECK(folded.find_output("nan")->op == ir::Op::cast);
}

TEST_CASE("Host tensors hold every i64 exactly and convert as PyTorch does", "[runtime][i64]") {
    const int64_t big = std::numeric_limits<int64_t>::max(), small = std::numeric_limits<int64_t>::min();
    const Tensor t = Tensor::from_vector<int64_t>({kBeyondDouble, -kBeyondDouble, big, small, (int64_t{1} << 32) + 5, -3});
    REQUIRE(t.dtype() == DType::i64);
    CHECK(t.nbytes() == 48);
    CHECK(t.get_flat_int64(0) == kBeyondDouble);
    CHECK(t.data<int64_t>()[2] == big);
    CHECK(t.clone().get_flat_int64(1) == -kBeyondDouble);
    CHECK(t.reshape({2, 3}).at<int64_t>({1, 0}) == small);
    CHECK(t.to_string() == "tensor([9007199254740993, -9007199254740993, 9223372036854775807, -9223372036854775808, "
                           "4294967301, -3], dtype=i64)");

    // Into i32: wrapped to the low 32 bits, as torch's .to(torch.int32).
    const Tensor as_i32 = t.to(DType::i32);
    CHECK(as_i32.data<int32_t>()[0] == 1);  // 2^53 + 1
    CHECK(as_i32.data<int32_t>()[2] == -1);
    CHECK(as_i32.data<int32_t>()[3] == 0);
    CHECK(as_i32.data<int32_t>()[4] == 5);
    CHECK(as_i32.data<int32_t>()[5] == -3);
    // Into floats: rounded to nearest; into bool: != 0.
    CHECK(t.to(DType::f64).data<double>()[0] == 9007199254740992.0);
    CHECK(t.to(DType::f32).data<float>()[4] == 4294967296.0f);
    CHECK(t.to(DType::boolean).get_flat(5) == 1.0);
    // From i32 and bool: exact; from floats: truncated toward zero, NaN and overflow to INT64_MIN (x86).
    CHECK(Tensor::from_vector<int32_t>({-7}).to(DType::i64).data<int64_t>()[0] == -7);
    CHECK(Tensor::from_vector<bool>({true}).to(DType::i64).data<int64_t>()[0] == 1);
    const Tensor reals = Tensor::from_vector<double>({-2.9, 2.9, 1e15 + 0.5, std::nan(""), 1e19, -9.3e18});
    const Tensor truncated = reals.to(DType::i64);
    CHECK(truncated.data<int64_t>()[0] == -2);
    CHECK(truncated.data<int64_t>()[1] == 2);
    CHECK(truncated.data<int64_t>()[2] == 1000000000000000);
    CHECK(truncated.data<int64_t>()[3] == small);
    CHECK(truncated.data<int64_t>()[4] == small);
    CHECK(truncated.data<int64_t>()[5] == small);
    // A strided view copies exactly too.
    const Tensor matrix = Tensor::from_vector<int64_t>({kBeyondDouble, 1, 2, -kBeyondDouble}, {2, 2});
    CHECK(matrix.permute({1, 0}).contiguous().get_flat_int64(3) == -kBeyondDouble);
    Tensor target = Tensor::zeros({2, 2}, DType::i64);
    target.copy_from(matrix.permute({1, 0}));
    CHECK(target.get_flat_int64(0) == kBeyondDouble);
    CHECK(target.get_flat_int64(1) == 2);
    target.set_flat_int64(1, -kBeyondDouble);
    CHECK(target.at<int64_t>({0, 1}) == -kBeyondDouble);
    CHECK(Tensor::full({1}, 3.0, DType::i64).item<int64_t>() == 3);
    // item<integer> reads all 64 bits, and checks the range of the type asked for.
    const Tensor one = Tensor::from_vector<int64_t>({kBeyondDouble});
    CHECK(one.item<int64_t>() == kBeyondDouble);
    CHECK(one.item<uint64_t>() == static_cast<uint64_t>(kBeyondDouble));
    CHECK_THROWS_WITH(one.item<int32_t>(), Contains("Tensor::item<int32>: the value 9007199254740992"));
    CHECK_THROWS_WITH(Tensor::from_vector<int64_t>({-1}).item<uint32_t>(), Contains("Tensor::item<uint32>"));
}

TEST_CASE("safetensors reads and writes I64 natively, exact beyond 2^53", "[runtime][i64][safetensors]") {
    TempDir dir;
    const std::string path = dir / "targets.safetensors";
    const Tensor targets = Tensor::from_vector<int64_t>({kBeyondDouble, -1, 7, std::numeric_limits<int64_t>::min()}, {2, 2});
    save_safetensors(path, {{"targets", targets}});
    const SafetensorsHeader header = read_safetensors_header(path);
    REQUIRE(header.entries.size() == 1);
    CHECK(header.entries[0].stored == StoredDType::i64);
    CHECK(header.entries[0].dtype == DType::i64);
    CHECK(header.entries[0].end - header.entries[0].begin == 32);
    const SafetensorsFile file = read_safetensors(path);
    const Tensor back = file.tensors.at(0).second;
    REQUIRE(back.dtype() == DType::i64);
    REQUIRE(back.shape() == Shape{2, 2});
    for (int64_t i = 0; i < 4; ++i) CHECK(back.get_flat_int64(i) == targets.get_flat_int64(i));
    CHECK(file.data_crc32 == safetensors_data_crc32({{"targets", targets}}));

    // Read as i32 when asked, checked: 2^53 + 1 does not fit.
    const auto as = [&](DType dtype) {
        return read_safetensors(path, [&](const SafetensorsEntry &) { return std::optional<DType>(dtype); });
    };
    CHECK_THROWS_WITH(as(DType::i32), Contains("element 0 is 9007199254740993, which i32 cannot hold"));
    CHECK_THROWS_WITH(as(DType::f64), Contains("element 0 is 9007199254740993, which f64 rounds to"));
    // i32 (and bool) written as I64 on request read back as i64.
    const std::string wide = dir / "wide.safetensors";
    save_safetensors(wide, {{"n", Tensor::from_vector<int32_t>({-5, 6})}}, {}, {{"n", StoredDType::i64}});
    CHECK(read_safetensors(wide).tensors.at(0).second.get_flat_int64(0) == -5);
    // i64 written as I32 is checked like any narrowing.
    CHECK_THROWS_WITH(save_safetensors(dir / "narrow.safetensors", {{"t", targets}}, {}, {{"t", StoredDType::i32}}),
                      Contains("element 0 is 9007199254740993, which I32 cannot hold"));
}

TEST_CASE("The emitted C header declares i64 tensors as int64_t", "[runtime][i64][emit]") {
    codegen::CApi api;
    api.name = "picker";
    api.target = "host";
    api.schedule = api.train_schedule = "default";
    api.inputs = {{"x", DType::f32, {2, 3}}, {"hint", DType::i64, {2}}};
    api.outputs = {{"indices", DType::i64, {2, 1}}};
    codegen::CBuffer in{"hint", "picker_hint_shape", api.inputs[1], true};
    codegen::CBuffer out{"indices", "picker_indices_shape", api.outputs[0], false};
    api.embedded_predict = {{"x", "picker_x_shape", api.inputs[0], true}, in, out};
    const std::string header = codegen::c_header(api);
    CHECK_THAT(header, Contains("const int64_t *hint"));
    CHECK_THAT(header, Contains("int64_t *indices"));
    CHECK_THAT(header, Contains("/* input hint: i64[2] */"));
    // The buffer's type as Halide reads it: a signed integer of 64 bits.
    CHECK_THAT(header, Contains("halide_type_int, 64, 1"));
    CHECK_THAT(header, Contains("halide_type_int, 64, 0"));
}
