#pragma once
// Tensors in files for `strata run`: NumPy's .npy (version 1-3, little-endian f4/f8/i4/i8/b1,
// C order), ONNX's TensorProto .pb (as in ONNX's test data) and safetensors (one tensor by name).

#include "runtime/tensor.h"

#include <string>

namespace strata::tools {

/// The tensor in `path` (.npy, .pb or .safetensors, by extension). From a .safetensors file: the
/// tensor named `name`, else its only tensor (an error listing the tensors otherwise); its stored
/// dtype is converted as read_safetensors does (F16/BF16 -> f32, I8/I16/U8 -> i32). INT64 data is
/// narrowed to i32 when every value fits (Strata computes integers in i32); a strata::Error names
/// the file (and tensor) and what is wrong.
Tensor read_tensor_file(const std::string &path, const std::string &name = "");

/// Writes `tensor` to `path` (.npy, .pb or .safetensors, by extension) atomically; in a
/// .safetensors file the tensor is named `name` ("output" when empty).
void write_tensor_file(const std::string &path, const Tensor &tensor, const std::string &name = "");

}  // namespace strata::tools
