#include "frontend/onnx/onnx_host_tensor.h"

#include "frontend/onnx/onnx_import.h"

#include <strata/error.h>

#include <cmath>
#include <cstring>
#include <limits>

namespace strata::onnx {

namespace {

using TP = ::onnx::TensorProto;

size_t raw_element_size(int32_t type) {
    switch (type) {
    case TP::FLOAT: case TP::INT32: case TP::UINT32: return 4;
    case TP::DOUBLE: case TP::INT64: case TP::UINT64: return 8;
    case TP::INT16: case TP::UINT16: return 2;
    case TP::INT8: case TP::UINT8: case TP::BOOL: return 1;
    default: return 0;
    }
}

template <typename T> T load(const char *p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

}  // namespace

HostTensor HostTensor::of_ints(std::vector<int64_t> values, Shape shape, int32_t type) {
    HostTensor t;
    t.elem_type = type;
    t.shape = std::move(shape);
    t.ints = std::move(values);
    return t;
}

HostTensor HostTensor::of_floats(std::vector<double> values, Shape shape, int32_t type) {
    HostTensor t;
    t.elem_type = type;
    t.shape = std::move(shape);
    t.floats = std::move(values);
    return t;
}

int64_t HostTensor::int_value(int64_t i, const std::string &what) const {
    if (!is_float()) return ints[i];
    const double v = floats[i];
    if (!(std::trunc(v) == v) || std::abs(v) > 9.0e18) fail("{}: element {} is {}, not a whole number", what, i, v);
    return static_cast<int64_t>(v);
}

std::vector<int64_t> HostTensor::int_values(const std::string &what) const {
    std::vector<int64_t> out(numel());
    for (int64_t i = 0; i < numel(); ++i) out[i] = int_value(i, what);
    return out;
}

std::string elem_type_name(int32_t type) {
    if (TP::DataType_IsValid(type)) return TP::DataType_Name(static_cast<TP::DataType>(type));
    return fmt::format("element type {}", type);
}

DType strata_dtype(int32_t elem_type, const std::string &where) {
    switch (elem_type) {
    case TP::FLOAT: return DType::f32;
    case TP::DOUBLE: return DType::f64;
    case TP::INT32: return DType::i32;
    case TP::BOOL: return DType::boolean;
    default:
        throw Unsupported(fmt::format("{}: element type {} has no Strata dtype (Strata computes in FLOAT, DOUBLE, "
                                      "INT32 and BOOL)",
                                      where, elem_type_name(elem_type)));
    }
}

HostTensor host_tensor(const TP &proto, const std::string &where) {
    if (proto.data_location() == TP::EXTERNAL)
        fail("{}: tensor '{}' keeps its data in an external file, which Strata does not read (save the model "
             "with its data inside)",
             where, proto.name());
    if (proto.has_segment()) fail("{}: tensor '{}' is segmented, which Strata does not read", where, proto.name());
    HostTensor t;
    t.elem_type = proto.data_type();
    for (int64_t d : proto.dims()) {
        if (d < 0) fail("{}: tensor '{}' has a negative extent {}", where, proto.name(), d);
        t.shape.push_back(d);
    }
    const int64_t n = shape_numel(t.shape);
    const size_t esize = raw_element_size(t.elem_type);
    if (esize == 0)
        throw Unsupported(fmt::format("{}: tensor '{}' has element type {}, which Strata does not read", where,
                                      proto.name(), elem_type_name(t.elem_type)));
    auto check_count = [&](int64_t count, const char *field) {
        if (count != n)
            fail("{}: tensor '{}' of shape {} should hold {} values, its {} holds {}", where, proto.name(),
                 shape_str(t.shape), n, field, count);
    };
    const bool floating = t.is_float();
    if (floating) t.floats.resize(n); else t.ints.resize(n);
    if (proto.has_raw_data()) {
        const std::string &raw = proto.raw_data();
        if (raw.size() != static_cast<size_t>(n) * esize)
            fail("{}: tensor '{}' of shape {} and type {} needs {} bytes of raw data, has {}", where, proto.name(),
                 shape_str(t.shape), elem_type_name(t.elem_type), static_cast<size_t>(n) * esize, raw.size());
        const char *p = raw.data();
        for (int64_t i = 0; i < n; ++i, p += esize) {
            switch (t.elem_type) {
            case TP::FLOAT: t.floats[i] = load<float>(p); break;
            case TP::DOUBLE: t.floats[i] = load<double>(p); break;
            case TP::INT32: t.ints[i] = load<int32_t>(p); break;
            case TP::UINT32: t.ints[i] = load<uint32_t>(p); break;
            case TP::INT64: t.ints[i] = load<int64_t>(p); break;
            case TP::UINT64: {
                const uint64_t v = load<uint64_t>(p);
                if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
                    fail("{}: tensor '{}': UINT64 value {} does not fit in 64-bit signed", where, proto.name(), v);
                t.ints[i] = static_cast<int64_t>(v);
                break;
            }
            case TP::INT16: t.ints[i] = load<int16_t>(p); break;
            case TP::UINT16: t.ints[i] = load<uint16_t>(p); break;
            case TP::INT8: t.ints[i] = load<int8_t>(p); break;
            case TP::UINT8: t.ints[i] = load<uint8_t>(p); break;
            case TP::BOOL: t.ints[i] = load<uint8_t>(p) != 0; break;
            }
        }
        return t;
    }
    switch (t.elem_type) {
    case TP::FLOAT:
        check_count(proto.float_data_size(), "float_data");
        for (int64_t i = 0; i < n; ++i) t.floats[i] = proto.float_data(i);
        break;
    case TP::DOUBLE:
        check_count(proto.double_data_size(), "double_data");
        for (int64_t i = 0; i < n; ++i) t.floats[i] = proto.double_data(i);
        break;
    case TP::INT64:
        check_count(proto.int64_data_size(), "int64_data");
        for (int64_t i = 0; i < n; ++i) t.ints[i] = proto.int64_data(i);
        break;
    case TP::UINT32: case TP::UINT64:
        check_count(proto.uint64_data_size(), "uint64_data");
        for (int64_t i = 0; i < n; ++i) {
            if (proto.uint64_data(i) > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
                fail("{}: tensor '{}': value {} does not fit in 64-bit signed", where, proto.name(), proto.uint64_data(i));
            t.ints[i] = static_cast<int64_t>(proto.uint64_data(i));
        }
        break;
    default:  // INT32, INT16, INT8, UINT16, UINT8, BOOL live in int32_data
        check_count(proto.int32_data_size(), "int32_data");
        for (int64_t i = 0; i < n; ++i) t.ints[i] = t.elem_type == TP::BOOL ? proto.int32_data(i) != 0 : proto.int32_data(i);
        break;
    }
    return t;
}

Tensor to_tensor(const HostTensor &host, const std::string &where) {
    const DType dtype = strata_dtype(host.elem_type, where);
    Tensor out = Tensor::empty(host.shape, dtype);
    const int64_t n = host.numel();
    switch (dtype) {
    case DType::f32: {
        float *p = out.data<float>();
        for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(host.floats[i]);
        break;
    }
    case DType::f64: {
        double *p = out.data<double>();
        for (int64_t i = 0; i < n; ++i) p[i] = host.floats[i];
        break;
    }
    case DType::i32: {
        int32_t *p = out.data<int32_t>();
        for (int64_t i = 0; i < n; ++i) p[i] = static_cast<int32_t>(host.ints[i]);
        break;
    }
    case DType::boolean:
        for (int64_t i = 0; i < n; ++i) out.set_flat(i, host.ints[i] != 0);
        break;
    }
    return out;
}

HostTensor from_tensor(const Tensor &tensor) {
    const Tensor t = tensor.contiguous();
    HostTensor out;
    out.shape = t.shape();
    const int64_t n = t.numel();
    switch (t.dtype()) {
    case DType::f32: out.elem_type = TP::FLOAT; break;
    case DType::f64: out.elem_type = TP::DOUBLE; break;
    case DType::i32: out.elem_type = TP::INT32; break;
    case DType::boolean: out.elem_type = TP::BOOL; break;
    }
    if (out.is_float()) {
        out.floats.resize(n);
        for (int64_t i = 0; i < n; ++i) out.floats[i] = t.get_flat(i);
    } else {
        out.ints.resize(n);
        for (int64_t i = 0; i < n; ++i) out.ints[i] = static_cast<int64_t>(t.get_flat(i));
    }
    return out;
}

::onnx::TensorProto to_proto(const Tensor &tensor, const std::string &name) {
    const Tensor t = tensor.contiguous();
    TP proto;
    proto.set_name(name);
    for (int64_t d : t.shape()) proto.add_dims(d);
    switch (t.dtype()) {
    case DType::f32: proto.set_data_type(TP::FLOAT); break;
    case DType::f64: proto.set_data_type(TP::DOUBLE); break;
    case DType::i32: proto.set_data_type(TP::INT32); break;
    case DType::boolean: proto.set_data_type(TP::BOOL); break;
    }
    proto.set_raw_data(std::string(static_cast<const char *>(t.raw_data()), t.nbytes()));
    return proto;
}

}  // namespace strata::onnx
