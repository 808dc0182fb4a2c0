#pragma once
/// \file
/// Batches of named tensors, for models with several inputs and outputs and losses with several
/// targets (a picker's traces in, a detection and an onset out):
///
///     TensorSpecs inputs = {{"traces", {{16, 3, 3000}}}};
///     TensorSpecs targets = {{"is_event", {{16}}}, {"onset", {{16}, DType::i32}}};
///     ForwardFn forward = [&](const SymMap &in) {
///         SymTensor features = net->backbone(in.at("traces"));
///         return SymMap{{"detection", net->detect(features)}, {"onset", net->pick(features)}};
///     };
///     MultiLossFn loss = [](const SymMap &out, const SymMap &t) {
///         return binary_cross_entropy_with_logits(out.at("detection"), t.at("is_event")) +
///                0.5 * cross_entropy(out.at("onset"), t.at("onset"));
///     };
///
/// A single-input model is the special case {"input"} -> {"output"}, loss on {"target"}.

#include "frontend/graph.h"
#include "runtime/tensor.h"

#include <functional>
#include <map>
#include <string>

namespace strata {

using TensorMap = std::map<std::string, Tensor>;
using SymMap = std::map<std::string, SymTensor>;

/// The shape (examples along dim 0) and dtype of one named tensor of a batch.
struct TensorSpec {
    Shape shape;
    DType dtype = DType::f32;
};
using TensorSpecs = std::map<std::string, TensorSpec>;

/// The model's named outputs built from its named inputs (nodes of one graph).
using ForwardFn = std::function<SymMap(const SymMap &inputs)>;
/// The scalar loss from the model's outputs and the batch's targets: any function of them,
/// such as a weighted sum of several losses.
using MultiLossFn = std::function<SymTensor(const SymMap &outputs, const SymMap &targets)>;

/// The names the single-input form uses.
inline const std::string kInputName = "input", kOutputName = "output", kTargetName = "target";

/// The specs of `tensors` with dim 0 set to `batch` (dtype and the other extents as they are).
TensorSpecs batch_specs(const TensorMap &tensors, int64_t batch);

/// Checks that `batch` holds exactly the tensors `specs` names, with their shapes and dtypes;
/// `what` names the group in messages ("input", "target").
void check_batch(const TensorMap &batch, const TensorSpecs &specs, const char *what, const std::string &where);

}  // namespace strata

namespace strata {

/// A data set of named tensors, examples along dim 0 of each: the model's inputs and the loss's
/// targets (and what the metrics read).
struct NamedDataset {
    TensorMap inputs;
    TensorMap targets;

    /// The examples (dim 0, the same in every tensor; `check` makes sure).
    int64_t size() const;
    /// Every tensor defined with the same number of examples, no name both an input and a target.
    void check() const;
    /// Examples [begin, end) (copies).
    NamedDataset slice(int64_t begin, int64_t end) const;
};

}  // namespace strata
