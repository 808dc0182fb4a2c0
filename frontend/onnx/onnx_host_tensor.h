#pragma once
// Tensors known at import time: initializers, Constant nodes, the .pb files of ONNX's
// test data, and the shape computations folded at import. Integers (and booleans) are
// kept exactly as int64, floats as double; the ONNX element type says which.

#include "frontend/onnx/onnx_proto_io.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace strata::onnx {

struct HostTensor {
    int32_t elem_type = ::onnx::TensorProto::FLOAT;  ///< onnx::TensorProto::DataType
    Shape shape;
    std::vector<int64_t> ints;   ///< integer and bool types
    std::vector<double> floats;  ///< FLOAT, DOUBLE

    bool is_float() const { return is_float_type(elem_type); }
    int64_t numel() const { return static_cast<int64_t>(is_float() ? floats.size() : ints.size()); }
    double value(int64_t i) const { return is_float() ? floats[i] : static_cast<double>(ints[i]); }
    /// Element i as an integer; `what` names it in the error when it is a float that is not whole.
    int64_t int_value(int64_t i, const std::string &what) const;
    /// Every element as an integer (a shape, axes, pads).
    std::vector<int64_t> int_values(const std::string &what) const;

    static bool is_float_type(int32_t type) {
        return type == ::onnx::TensorProto::FLOAT || type == ::onnx::TensorProto::DOUBLE;
    }
    static HostTensor of_ints(std::vector<int64_t> values, Shape shape, int32_t type = ::onnx::TensorProto::INT64);
    static HostTensor of_floats(std::vector<double> values, Shape shape, int32_t type = ::onnx::TensorProto::FLOAT);
};

/// The name of an ONNX element type ("FLOAT", "INT64").
std::string elem_type_name(int32_t type);
/// Strata's dtype for an ONNX element type; a strata::Error naming `where` when there is none.
DType strata_dtype(int32_t elem_type, const std::string &where);

/// A TensorProto's values; `where` names it in errors (bad sizes, external data, unsupported types).
HostTensor host_tensor(const ::onnx::TensorProto &proto, const std::string &where);
/// As a Strata tensor (FLOAT, DOUBLE, INT32, BOOL; INT64 only when asked to narrow it to i32 and every
/// value fits).
Tensor to_tensor(const HostTensor &host, const std::string &where);
/// A Strata tensor as a TensorProto-like host tensor.
HostTensor from_tensor(const Tensor &tensor);
/// A TensorProto of `tensor` named `name` (raw data, little-endian).
::onnx::TensorProto to_proto(const Tensor &tensor, const std::string &name);

}  // namespace strata::onnx
