#pragma once
/// \file
/// ONNX models as Strata modules: the graph becomes Strata IR ops, every float initializer a
/// parameter under its ONNX name ("conv1.weight"; BatchNormalization's mean and var are
/// buffers), so the model runs, trains, saves as a checkpoint and emits like any other.
///
///     auto model = strata::onnx::OnnxModel("picker.onnx");       // checked, converted
///     strata::Graph g;
///     auto x = g.input("x", {8, 3, 3000});
///     g.output("y", model(x));                                  // any batch
///     strata::onnx::import_to_checkpoint("picker.onnx", "picker.safetensors");  // `strata import`
///
/// Ops are imported for opsets 11 to 17 (and older where they did not change); an op, an
/// attribute or an input Strata does not import is a strata::Error naming the node, the op
/// and the attribute. Shape arithmetic (Shape, Gather, Concat, ... on values known at import)
/// is evaluated at import, on the shapes of the graph the model is called in.

#include "frontend/nn/module.h"

#include <strata/error.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace strata::onnx {

/// An op, an attribute or an input Strata does not import (a strata::Error naming the node, the
/// op and the attribute). The conformance runner counts these cases as "unsupported".
class Unsupported : public Error {
public:
    using Error::Error;
};

struct ImportOptions {
    /// The extent of a symbolic leading dim (the batch) in `inputs()` and the saved IR.
    int64_t batch = 1;
    /// Shapes of inputs, by name: replace the declared ones (needed where a dim other than the
    /// first is symbolic).
    std::map<std::string, Shape> input_shapes{};
    /// INT64 inputs fixed at import, by name (e.g. the shape input of a Reshape): shape and
    /// elements. They are constants of the imported model, no longer inputs.
    struct FixedInput {
        Shape shape;
        std::vector<int64_t> values;
    };
    std::map<std::string, FixedInput> fixed_inputs{};
};

/// An input of the ONNX graph (initializers listed as inputs by old exporters are left out).
struct ModelInput {
    std::string name;
    Shape shape;  ///< symbolic dims resolved by ImportOptions
    DType dtype = DType::f32;
};

class OnnxModelImpl : public nn::Module {
public:
    /// Reads and checks `path` (onnx::checker) and converts the graph once on its declared input
    /// shapes, so an unsupported op fails here.
    explicit OnnxModelImpl(const std::string &path, const ImportOptions &options = {});

    /// For a model of one input and one output.
    SymTensor forward(const SymTensor &input) override;
    /// The outputs by ONNX name, for inputs by ONNX name (any leading extent).
    std::map<std::string, SymTensor> forward(const std::map<std::string, SymTensor> &inputs);

    const std::vector<ModelInput> &inputs() const;
    const std::vector<std::string> &outputs() const;
    /// The ONNX opset of the model's default domain.
    int64_t opset() const;

    /// The model as an IR program text on `inputs()` (Graph::to_string), outputs named as in ONNX.
    std::string ir() const;

private:
    struct State;
    std::shared_ptr<State> state_;
    /// A constant computed at import that the graph needs as a tensor: a buffer named after it.
    SymTensor constant_buffer(const SymTensor &like, const std::string &name, const Tensor &value);
};
STRATA_MODULE(OnnxModel);

/// `strata import`: reads `onnx_path` and writes a Strata checkpoint (weights + IR) to `out`,
/// loadable by `strata emit`, `strata run` and load_checkpoint. Its metadata "buffers" lists the
/// tensors that are not trained (statistics, constants; one name a line), so that `strata emit
/// --train` of an imported classifier (its outputs the logits) trains the parameters alone.
void import_to_checkpoint(const std::string &onnx_path, const std::string &out, const ImportOptions &options = {});

}  // namespace strata::onnx
