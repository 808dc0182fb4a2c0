#include "runtime/safetensors_dtype.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace strata {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "stored dtypes are decoded as little-endian memory");

namespace {

constexpr StoredDType all_stored[] = {StoredDType::f64, StoredDType::f32,    StoredDType::f16, StoredDType::bf16,
                                      StoredDType::i64, StoredDType::i32,    StoredDType::i16, StoredDType::i8,
                                      StoredDType::u8,  StoredDType::boolean};

/// One stored element, widened without loss: integers to int64, floats to double.
struct Value {
    bool is_integer = false;
    int64_t integer = 0;
    double real = 0.0;

    std::string str() const { return is_integer ? std::to_string(integer) : fmt::format("{}", real); }
};

float float_from_bits(uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

/// IEEE half precision to float (exact: every half is a float).
float half_to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
    if (exponent == 0x1f) return float_from_bits(sign | 0x7f800000u | (mantissa << 13));  // inf, NaN
    if (exponent != 0) return float_from_bits(sign | ((exponent + 112) << 23) | (mantissa << 13));
    // Zero or subnormal: mantissa * 2^-24.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
}

template <typename T> T load(const uint8_t *p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

Value decode(const uint8_t *p, StoredDType dtype) {
    Value v;
    v.is_integer = true;
    switch (dtype) {
    case StoredDType::f64: return {false, 0, load<double>(p)};
    case StoredDType::f32: return {false, 0, load<float>(p)};
    case StoredDType::f16: return {false, 0, half_to_float(load<uint16_t>(p))};
    case StoredDType::bf16: return {false, 0, float_from_bits(static_cast<uint32_t>(load<uint16_t>(p)) << 16)};
    case StoredDType::i64: v.integer = load<int64_t>(p); break;
    case StoredDType::i32: v.integer = load<int32_t>(p); break;
    case StoredDType::i16: v.integer = load<int16_t>(p); break;
    case StoredDType::i8: v.integer = load<int8_t>(p); break;
    case StoredDType::u8: v.integer = load<uint8_t>(p); break;
    case StoredDType::boolean: v.integer = load<uint8_t>(p); break;
    }
    return v;
}

/// Says why `v` does not survive the conversion, where it is and how to accept rounding.
[[noreturn]] void fail_value(const std::string &what, int64_t index, const Value &v, const std::string &why) {
    fail("{}: element {} is {}, which {}", what, index, v.str(), why);
}

/// `v` as a double, or an error when a float target cannot hold it exactly (or at all).
double to_real(const Value &v, int64_t index, const char *target, bool single, const std::string &what,
               const ConversionOptions &options) {
    if (v.is_integer) {
        // |v| <= 2^24 (f32) or 2^53 (f64) converts exactly; beyond, only some integers do.
        const double d = single ? static_cast<double>(static_cast<float>(v.integer)) : static_cast<double>(v.integer);
        const bool exact = d < 9223372036854775808.0 && static_cast<int64_t>(d) == v.integer;
        if (!exact && !options.allow_rounding)
            fail_value(what, index, v,
                       fmt::format("{} rounds to {}: the conversion would lose information (set "
                                   "allow_rounding to accept it)",
                                   target, d));
        return d;
    }
    if (!single || std::isnan(v.real)) return v.real;
    if (std::isfinite(v.real) && std::fabs(v.real) > std::numeric_limits<float>::max())
        fail_value(what, index, v, fmt::format("is beyond the range of {} (overflow)", target));
    const auto f = static_cast<float>(v.real);
    if (static_cast<double>(f) != v.real && !options.allow_rounding)
        fail_value(what, index, v,
                   fmt::format("{} rounds to {}: the conversion would lose information (set allow_rounding "
                               "to accept it)",
                               target, f));
    return f;
}

/// `v` as an integer in [low, high], or an error (rounding is never allowed into an integer).
int64_t to_integer(const Value &v, int64_t index, int64_t low, int64_t high, const char *target,
                   const std::string &what) {
    int64_t i = v.integer;
    if (!v.is_integer) {
        if (!std::isfinite(v.real) || v.real != std::trunc(v.real))
            fail_value(what, index, v, fmt::format("is not an integer, as {} needs", target));
        if (!(v.real >= -9223372036854775808.0 && v.real < 9223372036854775808.0))
            fail_value(what, index, v, fmt::format("{} cannot hold (its range is {} to {})", target, low, high));
        i = static_cast<int64_t>(v.real);
    }
    if (i < low || i > high) {
        if (low == 0 && high == 1) fail_value(what, index, v, fmt::format("is neither 0 nor 1, as {} needs", target));
        fail_value(what, index, v, fmt::format("{} cannot hold (its range is {} to {})", target, low, high));
    }
    return i;
}

template <typename T> void store(uint8_t *p, T v) { std::memcpy(p, &v, sizeof(T)); }

/// Writes `v` at `p` as `to` (called `name` in messages), checked.
void encode(uint8_t *p, const Value &v, StoredDType to, const char *name, int64_t index, const std::string &what,
            const ConversionOptions &options) {
    switch (to) {
    case StoredDType::f64: store(p, to_real(v, index, name, false, what, options)); return;
    case StoredDType::f32: store(p, static_cast<float>(to_real(v, index, name, true, what, options))); return;
    case StoredDType::f16:
    case StoredDType::bf16: fail("{}: Strata does not write {}; write F32 or F64", what, name);
    case StoredDType::i64:
        store(p, to_integer(v, index, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), name,
                            what));
        return;
    case StoredDType::i32:
        store(p, static_cast<int32_t>(to_integer(v, index, INT32_MIN, INT32_MAX, name, what)));
        return;
    case StoredDType::i16:
        store(p, static_cast<int16_t>(to_integer(v, index, INT16_MIN, INT16_MAX, name, what)));
        return;
    case StoredDType::i8: store(p, static_cast<int8_t>(to_integer(v, index, INT8_MIN, INT8_MAX, name, what))); return;
    case StoredDType::u8: store(p, static_cast<uint8_t>(to_integer(v, index, 0, UINT8_MAX, name, what))); return;
    case StoredDType::boolean: store(p, static_cast<uint8_t>(to_integer(v, index, 0, 1, name, what))); return;
    }
}

}  // namespace

const char *stored_dtype_name(StoredDType dtype) {
    switch (dtype) {
    case StoredDType::f64: return "F64";
    case StoredDType::f32: return "F32";
    case StoredDType::f16: return "F16";
    case StoredDType::bf16: return "BF16";
    case StoredDType::i64: return "I64";
    case StoredDType::i32: return "I32";
    case StoredDType::i16: return "I16";
    case StoredDType::i8: return "I8";
    case StoredDType::u8: return "U8";
    case StoredDType::boolean: return "BOOL";
    }
    return "?";
}

bool parse_stored_dtype(const std::string &name, StoredDType *out) {
    for (StoredDType t : all_stored) {
        if (name == stored_dtype_name(t)) {
            *out = t;
            return true;
        }
    }
    return false;
}

size_t stored_dtype_size(StoredDType dtype) {
    switch (dtype) {
    case StoredDType::f64:
    case StoredDType::i64: return 8;
    case StoredDType::f32:
    case StoredDType::i32: return 4;
    case StoredDType::f16:
    case StoredDType::bf16:
    case StoredDType::i16: return 2;
    case StoredDType::i8:
    case StoredDType::u8:
    case StoredDType::boolean: return 1;
    }
    return 0;
}

StoredDType stored_dtype_of(DType dtype) {
    switch (dtype) {
    case DType::f32: return StoredDType::f32;
    case DType::f64: return StoredDType::f64;
    case DType::i32: return StoredDType::i32;
    case DType::i64: return StoredDType::i64;
    case DType::boolean: return StoredDType::boolean;
    }
    return StoredDType::f32;
}

DType natural_dtype(StoredDType dtype) {
    switch (dtype) {
    case StoredDType::f64: return DType::f64;
    case StoredDType::f32:
    case StoredDType::f16:
    case StoredDType::bf16: return DType::f32;
    case StoredDType::boolean: return DType::boolean;
    case StoredDType::i64: return DType::i64;
    default: return DType::i32;
    }
}

Tensor convert_stored(const void *bytes, StoredDType from, const Shape &shape, DType to, const std::string &what,
                      const ConversionOptions &options) {
    Tensor out = Tensor::uninitialized(shape, to);
    const auto *in = static_cast<const uint8_t *>(bytes);
    auto *dst = static_cast<uint8_t *>(out.raw_data());
    const StoredDType target = stored_dtype_of(to);
    const size_t in_size = stored_dtype_size(from), out_size = dtype_size(to);
    // A stored BOOL is a byte that must be 0 or 1 even when it is read as bool (no conversion).
    if (from == target && from != StoredDType::boolean) {
        if (out.nbytes() > 0) std::memcpy(dst, in, out.nbytes());
        return out;
    }
    const int64_t n = out.numel();
    for (int64_t i = 0; i < n; ++i) {
        const Value v = decode(in + static_cast<size_t>(i) * in_size, from);
        if (from == StoredDType::boolean && v.integer > 1)
            fail("{}: element {} is byte 0x{:02x}; BOOL elements are 0 or 1", what, i, v.integer);
        encode(dst + static_cast<size_t>(i) * out_size, v, target, dtype_name(to), i, what, options);
    }
    return out;
}

std::string encode_stored(const Tensor &tensor, StoredDType to, const std::string &what,
                          const ConversionOptions &options) {
    const Tensor t = tensor.contiguous();
    const StoredDType from = stored_dtype_of(t.dtype());
    std::string out(static_cast<size_t>(t.numel()) * stored_dtype_size(to), '\0');
    const auto *in = static_cast<const uint8_t *>(t.raw_data());
    if (from == to) {
        if (!out.empty()) std::memcpy(out.data(), in, out.size());
        return out;
    }
    auto *dst = reinterpret_cast<uint8_t *>(out.data());
    for (int64_t i = 0; i < t.numel(); ++i)
        encode(dst + static_cast<size_t>(i) * stored_dtype_size(to),
               decode(in + static_cast<size_t>(i) * dtype_size(t.dtype()), from), to, stored_dtype_name(to), i, what,
               options);
    return out;
}

}  // namespace strata
