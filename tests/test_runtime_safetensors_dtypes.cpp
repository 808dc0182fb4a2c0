// safetensors dtypes beyond Strata's own: every one PyTorch writes is read (F16 and BF16 against
// a naive decoder of their bits), converted to the dtype asked for, and refused with a message
// naming the tensor, the element and the value when the conversion would lose information.
#include "runtime/safetensors.h"

#include <catch2/catch.hpp>

#include "tests/support/safetensors_bytes.h"
#include "tests/support/temp_dir.h"

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <string>

using namespace strata;
using Catch::Matchers::Contains;
using strata::testing::make_safetensors_file;
using strata::testing::raw_bytes;
using strata::testing::TempDir;

namespace {

/// A file holding one tensor "t" of `dtype` and `shape` ("[3]") with the given data bytes.
std::string one_tensor_file(const TempDir &dir, const std::string &dtype, const std::string &shape,
                            const std::string &data) {
    const std::string json = R"({"t":{"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":[0,)" +
                             std::to_string(data.size()) + "]}}";
    static int count = 0;  // a new file each time: one test reads several of a dtype
    return dir.write(dtype + std::to_string(count++) + ".safetensors", make_safetensors_file(json, data));
}

/// Reads tensor "t" as `dtype`.
Tensor read_as(const std::string &path, DType dtype, bool allow_rounding = false) {
    ConversionOptions options;
    options.allow_rounding = allow_rounding;
    return read_safetensors(
               path, [&](const SafetensorsEntry &) { return std::optional<DType>(dtype); }, options)
        .tensors.at(0)
        .second;
}

/// The message of the strata::Error that reading `path` as `dtype` throws ("" when none).
std::string read_error(const std::string &path, DType dtype, bool allow_rounding = false) {
    try {
        read_as(path, dtype, allow_rounding);
    } catch (const Error &e) {
        return e.what();
    }
    return "";
}

/// IEEE binary16 by its definition: (-1)^s 2^(e-15) (1 + m/1024), subnormals 2^-14 (m/1024).
double half_reference(uint16_t bits) {
    const int sign = bits >> 15, exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ff;
    double magnitude;
    if (exponent == 31)
        magnitude = mantissa ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
    else if (exponent == 0)
        magnitude = std::ldexp(mantissa / 1024.0, -14);
    else
        magnitude = std::ldexp(1.0 + mantissa / 1024.0, exponent - 15);
    return sign ? -magnitude : magnitude;
}

/// bfloat16 by its definition: 8 exponent bits (bias 127) and 7 mantissa bits.
double bf16_reference(uint16_t bits) {
    const int sign = bits >> 15, exponent = (bits >> 7) & 0xff, mantissa = bits & 0x7f;
    double magnitude;
    if (exponent == 255)
        magnitude = mantissa ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
    else if (exponent == 0)
        magnitude = std::ldexp(mantissa / 128.0, -126);
    else
        magnitude = std::ldexp(1.0 + mantissa / 128.0, exponent - 127);
    return sign ? -magnitude : magnitude;
}

bool same_value(double got, double want) {
    return (std::isnan(got) && std::isnan(want)) || (got == want && std::signbit(got) == std::signbit(want));
}

}  // namespace

TEST_CASE("Every F16 and BF16 bit pattern reads as the value its definition gives", "[runtime][safetensors]") {
    TempDir dir;
    uint16_t all[65536];
    for (uint32_t i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
    using Decoder = double (*)(uint16_t);
    const std::pair<const char *, Decoder> formats[] = {{"F16", half_reference}, {"BF16", bf16_reference}};
    for (const auto &[dtype, reference] : formats) {
        INFO(dtype);
        const SafetensorsFile file = read_safetensors(one_tensor_file(dir, dtype, "[256, 256]", raw_bytes(all)));
        const Tensor &t = file.tensors.at(0).second;
        REQUIRE(t.dtype() == DType::f32);  // exact: every F16 and BF16 value is an f32
        REQUIRE(t.shape() == Shape{256, 256});
        int wrong = 0;
        for (uint32_t i = 0; i < 65536; ++i)
            if (!same_value(t.data<float>()[i], reference(static_cast<uint16_t>(i))) && wrong++ < 5)
                FAIL_CHECK("bits 0x" << std::hex << i << ": got " << t.data<float>()[i] << ", expected "
                                     << reference(static_cast<uint16_t>(i)));
        CHECK(wrong == 0);
        // As f64 the values are the same (F16 -> f64 is exact too).
        const Tensor wide = read_as(one_tensor_file(dir, dtype, "[65536]", raw_bytes(all)), DType::f64);
        CHECK(wide.get_flat(0x3c00) == (dtype == std::string("F16") ? 1.0 : bf16_reference(0x3c00)));
    }
    CHECK(half_reference(0x7bff) == 65504.0);  // the references themselves, on known values
    CHECK(half_reference(0x0001) == std::ldexp(1.0, -24));
    CHECK(bf16_reference(0x3f80) == 1.0);
    CHECK(bf16_reference(0xc060) == -3.5);
}

TEST_CASE("Integer dtypes read as i32 (I64 as i64) with their extreme values", "[runtime][safetensors]") {
    TempDir dir;
    const int64_t i64[] = {-2147483648LL, -5, 0, 2147483647LL};
    const int16_t i16[] = {-32768, -1, 0, 32767};
    const int8_t i8[] = {-128, -1, 0, 127};
    const uint8_t u8[] = {0, 1, 128, 255};
    const std::pair<const char *, std::string> files[] = {
        {"I64", raw_bytes(i64)}, {"I16", raw_bytes(i16)}, {"I8", raw_bytes(i8)}, {"U8", raw_bytes(u8)}};
    const double expected[4][4] = {
        {-2147483648.0, -5, 0, 2147483647.0}, {-32768, -1, 0, 32767}, {-128, -1, 0, 127}, {0, 1, 128, 255}};
    for (int k = 0; k < 4; ++k) {
        INFO(files[k].first);
        const DType natural = k == 0 ? DType::i64 : DType::i32;
        const std::string path = one_tensor_file(dir, files[k].first, "[2, 2]", files[k].second);
        const SafetensorsHeader header = read_safetensors_header(path);
        CHECK(std::string(stored_dtype_name(header.entries.at(0).stored)) == files[k].first);
        CHECK(header.entries.at(0).dtype == natural);
        const Tensor t = read_safetensors(path).tensors.at(0).second;
        REQUIRE(t.dtype() == natural);
        for (int i = 0; i < 4; ++i) CHECK(t.get_flat(i) == expected[k][i]);
        const Tensor as_f64 = read_as(path, DType::f64);  // exact in f64
        for (int i = 0; i < 4; ++i) CHECK(as_f64.data<double>()[i] == expected[k][i]);
    }
}

TEST_CASE("Conversions that keep every value are accepted", "[runtime][safetensors]") {
    TempDir dir;
    const float f32[] = {0.1f, -0.0f, std::numeric_limits<float>::infinity(), 3.0f};
    const Tensor wide = read_as(one_tensor_file(dir, "F32", "[4]", raw_bytes(f32)), DType::f64);
    CHECK(wide.data<double>()[0] == static_cast<double>(0.1f));
    CHECK(std::signbit(wide.data<double>()[1]));
    CHECK(std::isinf(wide.data<double>()[2]));

    const double f64[] = {0.5, -0x1p100, std::numeric_limits<double>::quiet_NaN(),
                          -std::numeric_limits<double>::infinity()};
    const Tensor narrow = read_as(one_tensor_file(dir, "F64", "[4]", raw_bytes(f64)), DType::f32);
    CHECK(narrow.data<float>()[0] == 0.5f);
    CHECK(narrow.data<float>()[1] == -0x1p100f);
    CHECK(std::isnan(narrow.data<float>()[2]));
    CHECK(std::isinf(narrow.data<float>()[3]));

    const int64_t i64[] = {-16777216, 16777216, 7, 0};
    const Tensor as_f32 = read_as(one_tensor_file(dir, "I64", "[4]", raw_bytes(i64)), DType::f32);
    CHECK(as_f32.data<float>()[1] == 16777216.0f);
    const double integral[] = {-3.0, -0.0, 2147483647.0, 1.0};
    CHECK(read_as(one_tensor_file(dir, "F64", "[4]", raw_bytes(integral)), DType::i32).get_flat(2) == 2147483647.0);
    const uint8_t flags[] = {0, 1, 1, 0};
    const Tensor as_bool = read_as(one_tensor_file(dir, "U8", "[4]", raw_bytes(flags)), DType::boolean);
    CHECK(as_bool.data<bool>()[1]);
    const Tensor from_bool = read_as(one_tensor_file(dir, "BOOL", "[4]", raw_bytes(flags)), DType::f32);
    CHECK(from_bool.get_flat(2) == 1.0);
}

TEST_CASE("A conversion that would lose information names the tensor, element and value",
          "[runtime][safetensors][errors]") {
    TempDir dir;
    const double f64[] = {0.5, 0.1, 1e300, 2.0};
    const std::string doubles = one_tensor_file(dir, "F64", "[4]", raw_bytes(f64));
    CHECK_THAT(read_error(doubles, DType::f32),
               Contains(doubles + ": tensor 't' (F64 [4]): element 1 is 0.1, which f32 rounds to 0.1: the "
                                  "conversion would lose information (set allow_rounding to accept it)"));
    const double finite[] = {0.5, 0.1, 3.0, 1e-300};
    const std::string rounding = one_tensor_file(dir, "F64", "[4]", raw_bytes(finite));
    const Tensor rounded = read_as(rounding, DType::f32, /*allow_rounding=*/true);
    CHECK(rounded.data<float>()[1] == 0.1f);
    CHECK(rounded.data<float>()[3] == 0.0f);  // underflow to 0 is rounding too
    // Overflow is never rounding.
    CHECK_THAT(read_error(doubles, DType::f32, true),
               Contains("element 2 is 1e+300, which is beyond the range of f32 (overflow)"));
    CHECK_THAT(read_error(doubles, DType::i32), Contains("element 0 is 0.5, which is not an integer, as i32 needs"));
    const float nan[] = {std::numeric_limits<float>::quiet_NaN()};
    CHECK_THAT(read_error(one_tensor_file(dir, "F32", "[]", raw_bytes(nan)), DType::i32),
               Contains("(F32 []): element 0 is nan, which is not an integer"));

    const int64_t i64[] = {1, 3000000000LL};
    const std::string big = one_tensor_file(dir, "I64", "[2]", raw_bytes(i64));
    const std::string message = big + ": tensor 't' (I64 [2]): element 1 is 3000000000, which i32 cannot hold (its "
                                      "range is -2147483648 to 2147483647)";
    CHECK_THAT(read_error(big, DType::i32), Contains(message));
    // The default read keeps I64 as i64: nothing to lose.
    CHECK(read_safetensors(big).tensors.at(0).second.get_flat_int64(1) == 3000000000LL);
    CHECK(read_as(big, DType::f64).get_flat(1) == 3e9);
    const int64_t odd[] = {16777217, (int64_t{1} << 53) + 1};
    const std::string odd_path = one_tensor_file(dir, "I64", "[2]", raw_bytes(odd));
    CHECK_THAT(read_error(odd_path, DType::f32), Contains("element 0 is 16777217, which f32 rounds to 16777216"));
    CHECK_THAT(read_error(odd_path, DType::f64), Contains("element 1 is 9007199254740993, which f64 rounds to"));
    CHECK(read_as(odd_path, DType::f32, true).get_flat(0) == 16777216.0);
    const int16_t two[] = {0, 2};
    CHECK_THAT(read_error(one_tensor_file(dir, "I16", "[2]", raw_bytes(two)), DType::boolean),
               Contains("element 1 is 2, which is neither 0 nor 1, as bool needs"));
    const uint8_t bad_bool[] = {1, 7};
    CHECK_THAT(read_error(one_tensor_file(dir, "BOOL", "[2]", raw_bytes(bad_bool)), DType::i32),
               Contains("(BOOL [2]): element 1 is byte 0x07; BOOL elements are 0 or 1"));
}

TEST_CASE("Tensors can be stored in another dtype, checked, as PyTorch's int64 buffers are", "[runtime][safetensors]") {
    TempDir dir;
    const std::string path = dir / "wide.safetensors";
    const Tensor steps = Tensor::from_vector<int32_t>({-2, 300}, {2});
    save_safetensors(path, {{"w", Tensor::ones({1})}, {"steps", steps}}, {}, {{"steps", StoredDType::i64}});
    const SafetensorsHeader header = read_safetensors_header(path);
    REQUIRE(header.entries.size() == 2);
    CHECK(header.entries[1].stored == StoredDType::i64);
    CHECK(header.entries[1].end - header.entries[1].begin == 16);
    std::ifstream in(path, std::ios::binary);
    const std::string bytes(std::istreambuf_iterator<char>(in), {});
    const int64_t expected[] = {-2, 300};
    CHECK(bytes.substr(bytes.size() - 16) == raw_bytes(expected));
    const Tensor back = read_safetensors(path).find("steps")->clone();
    CHECK(back.dtype() == DType::i64);  // as PyTorch reads it
    CHECK(back.get_flat(1) == 300.0);

    // Storing f32 as I64 keeps integers only; nothing is written when one is not.
    const std::string refused = dir / "refused.safetensors";
    CHECK_THROWS_WITH(
        save_safetensors(refused, {{"x", Tensor::from_vector<float>({1.0f, 1.5f})}}, {}, {{"x", StoredDType::i64}}),
        Contains(refused + ": tensor 'x': element 1 is 1.5, which is not an integer, as I64 needs"));
    CHECK_THROWS_WITH(
        save_safetensors(refused, {{"x", Tensor::full({1}, 0.1, DType::f64)}}, {}, {{"x", StoredDType::f32}}),
        Contains("element 0 is 0.1, which F32 rounds to 0.1"));
    CHECK_THROWS_WITH(save_safetensors(refused, {{"x", Tensor::ones({1})}}, {}, {{"y", StoredDType::i64}}),
                      Contains("stored_as names tensor 'y', which is not among the tensors to save"));
    CHECK(dir.files() == std::set<std::string>{"wide.safetensors"});
}
