#pragma once
/// \file
/// The safetensors file format (https://github.com/huggingface/safetensors),
/// written and read exactly, so files open with the Python `safetensors` package:
///
///     8 bytes    N, the header length, unsigned little-endian
///     N bytes    a JSON object, padded with spaces to a multiple of 8:
///                {"__metadata__": {"key": "value", ...},
///                 "conv1.weight": {"dtype": "F32", "shape": [6, 1, 5, 5], "data_offsets": [0, 600]}, ...}
///     the data   each tensor's elements, row-major and little-endian, laid end to end;
///                data_offsets are [begin, end) byte offsets from the start of the data
///
/// Strata reads and writes the dtypes it has: F32, F64, I32 and BOOL (one byte, 0 or 1).
/// Writes are atomic (see `AtomicFileWriter`); reads check every size, offset and
/// dtype and throw `strata::Error` naming the file and the problem.

#include "runtime/tensor.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace strata {

/// Named tensors in file order.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

/// One tensor's entry in a safetensors header.
struct SafetensorsEntry {
    std::string name;
    DType dtype = DType::f32;
    Shape shape;
    uint64_t begin = 0, end = 0;  ///< byte offsets [begin, end) from the start of the data
};

/// A checked header: the layout of the data without the data itself.
struct SafetensorsHeader {
    std::vector<SafetensorsEntry> entries;  ///< sorted by offset (file order)
    std::map<std::string, std::string> metadata;
    uint64_t header_bytes = 0;  ///< N: the JSON text and its padding
    uint64_t data_bytes = 0;    ///< the data section (the file is 8 + N + data_bytes long)
};

/// A whole file read into memory.
struct SafetensorsFile {
    NamedTensors tensors;  ///< in file order (contiguous, owning)
    std::map<std::string, std::string> metadata;
    uint32_t data_crc32 = 0;  ///< zlib's CRC-32 of the whole data section

    /// The tensor named `name`, or nullptr.
    const Tensor *find(const std::string &name) const;
};

/// The safetensors name of a dtype: "F32", "F64", "I32", "BOOL".
const char *safetensors_dtype_name(DType dtype);

/// Writes `tensors` (in this order) and `metadata` to `path` atomically. Names must be
/// unique, non-empty and not "__metadata__"; "__metadata__" is omitted when `metadata` is
/// empty, as the Python package does. Non-contiguous tensors are written row-major.
void save_safetensors(const std::string &path, const NamedTensors &tensors,
                      const std::map<std::string, std::string> &metadata = {});

/// Reads and checks the whole file.
SafetensorsFile read_safetensors(const std::string &path);

/// Reads and checks the header only (every offset is checked against the file size).
SafetensorsHeader read_safetensors_header(const std::string &path);

/// The CRC-32 of the data section `save_safetensors` writes for `tensors`
/// (equal to `SafetensorsFile::data_crc32` after reading it back).
uint32_t safetensors_data_crc32(const NamedTensors &tensors);

}  // namespace strata
