#pragma once
// Reading ONNX's protobuf files (models and single tensors) with libonnx's generated
// classes and its checker. Internal to strata_onnx: it includes onnx-ml.pb.h.

#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h (ONNX_ML=1)

#include <string>

namespace strata::onnx {

/// The model in `path`, parsed and accepted by onnx::checker::check_model; a strata::Error
/// naming the file when it cannot be read, is not a ModelProto or fails the checker.
::onnx::ModelProto read_model(const std::string &path);

/// The model serialized in `bytes` (read from `where`), parsed and checked as read_model does.
::onnx::ModelProto parse_model(const std::string &bytes, const std::string &where);

/// A TensorProto file (the input_N.pb / output_N.pb of ONNX's test data).
::onnx::TensorProto read_tensor_proto(const std::string &path);

/// The opset of the default ("" or "ai.onnx") domain the model imports.
int64_t default_opset(const ::onnx::ModelProto &model);

}  // namespace strata::onnx
