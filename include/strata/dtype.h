#pragma once
/// \file
/// Element types shared by the IR and the runtime.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace strata {

/// Element type of a tensor. `boolean` is stored as one byte (0 or 1). `i64` is PyTorch's
/// default integer (class targets, pooling indices); it is appended so the other values keep
/// their numbers.
enum class DType : uint8_t { f32, f64, i32, boolean, i64 };

inline constexpr DType f32 = DType::f32;
inline constexpr DType f64 = DType::f64;
inline constexpr DType i32 = DType::i32;
inline constexpr DType boolean = DType::boolean;
inline constexpr DType i64 = DType::i64;

/// Bytes per element.
inline size_t dtype_size(DType t) {
    switch (t) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i32: return 4;
    case DType::boolean: return 1;
    case DType::i64: return 8;
    }
    return 0;
}

/// The name used in IR text and messages: f32, f64, i32, i64, bool.
inline const char *dtype_name(DType t) {
    switch (t) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::i32: return "i32";
    case DType::boolean: return "bool";
    case DType::i64: return "i64";
    }
    return "?";
}

/// Parses a dtype name; returns false when the name is not one.
inline bool parse_dtype(std::string_view name, DType *out) {
    for (DType t : {DType::f32, DType::f64, DType::i32, DType::i64, DType::boolean}) {
        if (name == dtype_name(t)) {
            *out = t;
            return true;
        }
    }
    return false;
}

inline bool is_float(DType t) { return t == DType::f32 || t == DType::f64; }
/// i32 or i64: the dtypes of class targets and indices.
inline bool is_integer(DType t) { return t == DType::i32 || t == DType::i64; }

/// Maps a C++ element type to its DType.
template <typename T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::f64; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::i32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::i64; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::boolean; };

}  // namespace strata
