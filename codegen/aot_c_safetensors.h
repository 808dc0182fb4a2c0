#pragma once
// Internal to codegen: the C99 text, in NAME.h, that reads the weights and
// training state from a safetensors file, checking every name, dtype, shape,
// size and offset (NAME_read_tensors), and allocates the aligned arrays that
// hold them (NAME_alloc_tensors). '@' stands for NAME.

namespace strata::codegen {

extern const char *const c_safetensors_reader;

}  // namespace strata::codegen
