#pragma once
// Tensors in files for `strata run`: NumPy's .npy (version 1-3, little-endian f4/f8/i4/i8/b1,
// C order) and ONNX's TensorProto .pb (as in ONNX's test data).

#include "runtime/tensor.h"

#include <string>

namespace strata::tools {

/// The tensor in `path` (.npy or .pb, by extension). INT64 data is narrowed to i32 when every value
/// fits (Strata computes integers in i32); a strata::Error names the file and what is wrong.
Tensor read_tensor_file(const std::string &path);

/// Writes `tensor` to `path` (.npy or .pb, by extension) atomically.
void write_tensor_file(const std::string &path, const Tensor &tensor);

}  // namespace strata::tools
