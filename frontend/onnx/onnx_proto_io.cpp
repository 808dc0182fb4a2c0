#include "frontend/onnx/onnx_proto_io.h"

#include "runtime/input_file.h"

#include <strata/error.h>

#include <onnx/checker.h>

namespace strata::onnx {

::onnx::ModelProto parse_model(const std::string &bytes, const std::string &where) {
    ::onnx::ModelProto model;
    if (bytes.empty()) fail("{}: empty file (expected an ONNX model, a serialized ModelProto)", where);
    if (!model.ParseFromString(bytes))
        fail("{}: not an ONNX model: protobuf could not parse it as a ModelProto ({} bytes)", where, bytes.size());
    if (!model.has_graph()) fail("{}: the ONNX model has no graph", where);
    try {
        ::onnx::checker::check_model(model);
    } catch (const std::exception &e) {
        fail("{}: the ONNX checker rejects the model: {}", where, e.what());
    }
    return model;
}

::onnx::ModelProto read_model(const std::string &path) {
    return parse_model(InputFile(path, "an ONNX model").read_all(), path);
}

::onnx::TensorProto read_tensor_proto(const std::string &path) {
    const std::string bytes = InputFile(path, "an ONNX TensorProto file").read_all();
    ::onnx::TensorProto tensor;
    if (!tensor.ParseFromString(bytes))
        fail("{}: not an ONNX tensor: protobuf could not parse it as a TensorProto ({} bytes)", path, bytes.size());
    return tensor;
}

int64_t default_opset(const ::onnx::ModelProto &model) {
    for (const auto &opset : model.opset_import())
        if (opset.domain().empty() || opset.domain() == "ai.onnx") return opset.version();
    // IR version 1-2 models may omit it: opset 1 is what they meant.
    return 1;
}

}  // namespace strata::onnx
