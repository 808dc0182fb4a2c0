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
/// Strata reads every dtype PyTorch writes but the 8-bit floats and complex numbers: F64, F32,
/// F16, BF16, I64, I32, I16, I8, U8 and BOOL (one byte, 0 or 1), converting each to one of its
/// own dtypes with checks (runtime/safetensors_dtype.h). It writes its own dtypes (F32, F64, I32,
/// BOOL), and the integer ones on request (`save_safetensors`'s `stored_as`: I64 for PyTorch's
/// int64 buffers). Writes are atomic (see `AtomicFileWriter`); reads check every size, offset
/// and dtype and throw `strata::Error` naming the file and the problem.

#include "runtime/safetensors_dtype.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace strata {

/// Named tensors in file order.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

/// One tensor's entry in a safetensors header.
struct SafetensorsEntry {
    std::string name;
    StoredDType stored = StoredDType::f32;  ///< the dtype in the file
    DType dtype = DType::f32;               ///< the Strata dtype it reads as by default: natural_dtype(stored)
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
/// `stored_as` names tensors to store in another dtype than their own (checked, see
/// `encode_stored`): {"bn.num_batches_tracked": StoredDType::i64} writes what PyTorch reads as int64.
void save_safetensors(const std::string &path, const NamedTensors &tensors,
                      const std::map<std::string, std::string> &metadata = {},
                      const std::map<std::string, StoredDType> &stored_as = {});

/// Reads and checks the whole file; each tensor comes back in its entry's `dtype`
/// (F16 and BF16 as f32; I8, I16 and U8 as i32; I64 as i64, PyTorch's int64, unconverted).
SafetensorsFile read_safetensors(const std::string &path);

/// Picks the Strata dtype a tensor is read as, from its entry; nullopt leaves the tensor out.
using SafetensorsDTypeChooser = std::function<std::optional<DType>(const SafetensorsEntry &)>;

/// Reads and checks the whole file, converting each tensor to `dtype_for(entry)` as
/// `convert_stored` does: a value the chosen dtype cannot hold is an error naming the file, the
/// tensor, the element and the value (float rounding passes only with `options.allow_rounding`).
/// A tensor left out is still read for the CRC, but neither converted nor kept.
SafetensorsFile read_safetensors(const std::string &path, const SafetensorsDTypeChooser &dtype_for,
                                 const ConversionOptions &options = {});

/// Reads and checks the header only (every offset is checked against the file size).
SafetensorsHeader read_safetensors_header(const std::string &path);

/// The CRC-32 of the data section `save_safetensors` writes for `tensors`
/// (equal to `SafetensorsFile::data_crc32` after reading it back).
uint32_t safetensors_data_crc32(const NamedTensors &tensors);

}  // namespace strata
