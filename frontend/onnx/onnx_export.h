#pragma once
/// \file
/// ONNX export: a Strata model program and its weights as an ONNX model (opset 17, IR version 8)
/// that onnx.checker.check_model(full_check=True) accepts.
///
///     strata::Graph g;  ...  g.output("logits", net->forward(g.input("image", {1, 1, 28, 28})));
///     strata::onnx::export_model(g.program(), g.parameter_values(), "lenet.onnx");  // or `strata export`
///
/// The graph's inputs are the program's inputs (same names, static shapes), its initializers the
/// program's parameters (same names, values from `weights`) and its outputs the program's outputs.
/// Each op becomes the ONNX op of the same meaning; where ONNX has none (gelu, softplus's
/// threshold, circular padding, adaptive pooling to sizes that do not divide), the export is the
/// same arithmetic, in the order Strata's lowering does it, spelled in ONNX ops. What ONNX cannot
/// express — a gradient op, dropout's training-mode mask, label smoothing — is a strata::Error
/// naming the node and op. The model is checked (checker + strict shape inference) before it is
/// returned or written.

#include "ir/program.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <map>
#include <string>

namespace strata::onnx {

struct ExportOptions {
    /// The graph's name in the file (ONNX requires one).
    std::string graph_name = "strata_model";
    /// The ONNX opset; 13 to 17 (Debian's onnx 1.12 knows up to 17).
    int64_t opset = 17;
};

/// The serialized ModelProto of `program` with `weights` (one tensor per parameter, by name, of
/// the parameter's dtype and shape), checked by onnx's full checker.
std::string export_model_bytes(const ir::Program &program, const std::map<std::string, Tensor> &weights,
                             const ExportOptions &options = {});

/// export_model_bytes written to `path` atomically.
void export_model(const ir::Program &program, const std::map<std::string, Tensor> &weights, const std::string &path,
               const ExportOptions &options = {});

/// Runs onnx::checker::check_model and strict shape inference with type checks (what
/// onnx.checker.check_model(model, full_check=True) does) on a serialized ModelProto;
/// a strata::Error naming `where` and the checker's message when it fails.
void check_model_bytes(const std::string &bytes, const std::string &where);

}  // namespace strata::onnx
