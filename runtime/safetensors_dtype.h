#pragma once
/// \file
/// The element types a safetensors file may hold, and their checked conversion to Strata's.
///
/// PyTorch writes I64 (BatchNorm's num_batches_tracked, class targets), F16 and BF16 (halved
/// checkpoints), and U8/I8/I16 (quantised or image data) besides F32. Strata's tensors are f32,
/// f64, i32, i64 and bool, so each other stored value is converted on load, and checked: a value the target
/// dtype cannot hold exactly is an error naming the tensor, the element and the value, except
/// that float rounding (F64 into f32, a large integer into a float) may be allowed explicitly.

#include <strata/dtype.h>
#include <strata/shape.h>

#include "runtime/tensor.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace strata {

/// An element type as a safetensors file stores it.
enum class StoredDType : uint8_t { f64, f32, f16, bf16, i64, i32, i16, i8, u8, boolean };

/// The format's name: "F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL".
const char *stored_dtype_name(StoredDType dtype);
/// Parses a format name; false when it is not one Strata reads.
bool parse_stored_dtype(const std::string &name, StoredDType *out);
/// Bytes per element.
size_t stored_dtype_size(StoredDType dtype);
/// The stored dtype of a Strata dtype (f32 → F32, bool → BOOL).
StoredDType stored_dtype_of(DType dtype);
/// The Strata dtype that holds every value of `dtype` exactly: F16, BF16 and F32 → f32;
/// F64 → f64; I8, I16, U8, I32 → i32; I64 → i64 (read as it is); BOOL → bool.
DType natural_dtype(StoredDType dtype);

/// What a conversion on load may change.
struct ConversionOptions {
    /// Accept float rounding (F64 into f32, an integer above 2^24 into f32): the nearest value is
    /// kept. Never accepted whatever this says: overflow (a value beyond the target's range),
    /// a fraction or NaN into an integer, and anything but 0 and 1 into bool.
    bool allow_rounding = false;
};

/// Converts `count` elements stored as `from` at `bytes` (little-endian) into a new tensor of
/// `shape` and dtype `to`. `what` names the tensor in messages ("model.safetensors: tensor
/// 'bn.num_batches_tracked' (I64 [])"). Throws `strata::Error` at the first value that does not
/// survive, naming its element index, its value and the target dtype.
Tensor convert_stored(const void *bytes, StoredDType from, const Shape &shape, DType to, const std::string &what,
                      const ConversionOptions &options = {});

/// The elements of `tensor` stored as `to` (little-endian, row-major), checked as above
/// (e.g. i32 → I64 for a file PyTorch reads as int64, or f32 → F16).
std::string encode_stored(const Tensor &tensor, StoredDType to, const std::string &what,
                          const ConversionOptions &options = {});

}  // namespace strata
