#pragma once
/// \file
/// PyTorch's `state_dict` for Strata modules: weights by name in safetensors files, so a model
/// trained in PyTorch loads into the same architecture written with Strata's `nn` modules,
/// and a model trained or fine-tuned in Strata goes back to PyTorch.
///
///     # PyTorch
///     from safetensors.torch import save_file
///     save_file(model.state_dict(), "model.safetensors")
///
///     // Strata
///     Net net;                                  // the same names: conv1.weight, bn1.running_mean...
///     nn::load_state_dict(*net, "model.safetensors");           // strict, like PyTorch
///     nn::save_state_dict(*net, "tuned.safetensors");
///
///     # PyTorch again
///     model.load_state_dict(safetensors.torch.load_file("tuned.safetensors"))
///
/// The keys are PyTorch's: every parameter and buffer by its path ("features.0.weight"), and
/// each batch norm's `num_batches_tracked` (stored as I64, as PyTorch has it). Values are
/// converted to the model's dtype on load (F16, BF16, I64... see runtime/safetensors_dtype.h);
/// a conversion that would lose information is an error naming the tensor and the value.

#include "frontend/nn/module.h"
#include "runtime/safetensors.h"

#include <string>
#include <vector>

namespace strata::nn {

/// How `load_state_dict` matches the file's keys with the module's.
struct LoadStateDictOptions {
    /// As PyTorch's `strict`: a key of the module missing from the file, or a key of the file
    /// the module does not have, is an error (all of them in one message). When false they
    /// are returned instead, and the keys present load. A batch norm's num_batches_tracked
    /// may be missing either way (PyTorch fills it in for files without its version metadata);
    /// the module keeps its own then.
    bool strict = true;
    /// Accept float rounding when the file's dtype is wider than the model's (F64 weights into an
    /// f32 model). Off, such a file is refused at the first value f32 cannot hold exactly.
    bool allow_rounding = false;
};

/// What a non-strict load left unmatched, as PyTorch's `_IncompatibleKeys`.
struct IncompatibleKeys {
    std::vector<std::string> missing_keys;     ///< the module's keys the file lacks, module order
    std::vector<std::string> unexpected_keys;  ///< the file's keys the module lacks, file order
    bool empty() const { return missing_keys.empty() && unexpected_keys.empty(); }
};

/// The module's state by PyTorch name and in PyTorch's order: each module's parameters, buffers
/// (a batch norm's num_batches_tracked after its running statistics), then its children; shared
/// (tied) tensors under every path that reaches them. The tensors share storage with the module's.
NamedTensors state_dict(const Module &module);

/// Loads `path` (a safetensors file) into `module` by name. A shape that differs from the
/// module's is an error whatever `strict` says, as in PyTorch; every missing, unexpected and
/// mismatched key is listed in one message in PyTorch's words, naming the module type and the
/// file. Nothing in the module changes unless the whole load succeeds.
IncompatibleKeys load_state_dict(Module &module, const std::string &path, const LoadStateDictOptions &options = {});

/// The same from tensors in memory (e.g. `read_safetensors(path).tensors`, or weights made in
/// C++): matched, checked and converted the same way; messages name the tensors alone.
IncompatibleKeys load_state_dict(Module &module, const NamedTensors &tensors, const LoadStateDictOptions &options = {});

/// Writes `state_dict(module)` to `path` (atomically) in the module's dtypes, with
/// num_batches_tracked as I64 and the metadata {"format": "pt"} that safetensors.torch writes:
/// PyTorch's `safetensors.torch.load_file` + `load_state_dict` accept it for the same architecture.
void save_state_dict(const Module &module, const std::string &path);

}  // namespace strata::nn
