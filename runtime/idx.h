#pragma once
/// \file
/// Reading IDX files, the format of MNIST and Fashion-MNIST, plain or gzip-compressed.
///
/// An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
/// dimensions), one big-endian u32 extent per dimension, then the values row-major and
/// big-endian. Files are read defensively: every inconsistency throws `strata::Error`
/// naming the file and the numbers involved.

#include "runtime/tensor.h"

#include <cstdint>
#include <string>

namespace strata {

/// The element type codes an IDX header may carry (its third byte).
enum class IdxType : uint8_t {
    u8 = 0x08,   ///< unsigned byte
    i8 = 0x09,   ///< signed byte
    i16 = 0x0B,  ///< short, big-endian
    i32 = 0x0C,  ///< int, big-endian
    f32 = 0x0D,  ///< float, big-endian
    f64 = 0x0E,  ///< double, big-endian
};

/// Bytes per element of an IDX type.
size_t idx_type_size(IdxType type);
/// A readable name: "unsigned byte", "signed byte", "short", "int", "float", "double".
const char *idx_type_name(IdxType type);

/// What an IDX header says.
struct IdxHeader {
    IdxType type = IdxType::u8;
    Shape shape;
    /// Bytes of data the header promises (product of the extents times the element size).
    int64_t payload_bytes = 0;
};

/// Reads and checks only the header of an IDX file.
IdxHeader read_idx_header(const std::string &path);

/// Reads an IDX file (plain or gzip) into a tensor of the header's shape, values unchanged:
/// the integer types (u8, i8, i16, i32) become i32, float becomes f32, double becomes f64.
/// MNIST labels come out as i32 class indices. Throws `strata::Error` on a missing file,
/// a bad magic number, extents that overflow, a truncated payload, trailing bytes after
/// the payload, or a corrupt gzip stream.
Tensor read_idx(const std::string &path);

/// Reads an IDX file of unsigned bytes (an image file) as f32 scaled to [0, 1] (value / 255),
/// with the header's shape. Throws like `read_idx`, and when the type is not unsigned byte.
Tensor read_idx_images(const std::string &path);

}  // namespace strata
