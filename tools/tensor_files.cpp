#include "tools/tensor_files.h"

#include "frontend/onnx/onnx_host_tensor.h"
#include "runtime/atomic_file.h"
#include "runtime/input_file.h"
#include "runtime/safetensors.h"

#include <strata/error.h>

#include <fmt/format.h>

#include <cstring>
#include <optional>
#include <vector>
#include <limits>
#include <regex>

namespace strata::tools {

namespace {

bool ends_with(const std::string &s, const std::string &suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

onnx::HostTensor narrowed(onnx::HostTensor t, const std::string &path) {
    if (t.elem_type != ::onnx::TensorProto::INT64) return t;
    for (int64_t v : t.ints)
        if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
            fail("{}: int64 value {} does not fit Strata's i32", path, v);
    t.elem_type = ::onnx::TensorProto::INT32;
    return t;
}

Tensor read_npy(const std::string &path) {
    const std::string bytes = InputFile(path, "a NumPy .npy file").read_all();
    if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) fail("{}: not a .npy file (no \\x93NUMPY magic)", path);
    const int major = static_cast<unsigned char>(bytes[6]);
    size_t header_len = 0, offset = 0;
    if (major == 1) {
        header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
        offset = 10;
    } else if (major == 2 || major == 3) {
        if (bytes.size() < 12) fail("{}: truncated .npy header", path);
        for (int i = 3; i >= 0; --i) header_len = header_len << 8 | static_cast<unsigned char>(bytes[8 + i]);
        offset = 12;
    } else {
        fail("{}: .npy version {} is not supported (1 to 3)", path, major);
    }
    if (header_len > bytes.size() - offset) fail("{}: the .npy header ({} bytes) runs past the file", path, header_len);
    const std::string header = bytes.substr(offset, header_len);
    std::smatch m;
    if (!std::regex_search(header, m, std::regex("'descr'\\s*:\\s*'([^']*)'")))
        fail("{}: the .npy header has no descr: {}", path, header);
    const std::string descr = m[1];
    if (std::regex_search(header, m, std::regex("'fortran_order'\\s*:\\s*True")))
        fail("{}: Fortran-order arrays are not supported (save with np.ascontiguousarray)", path);
    if (!std::regex_search(header, m, std::regex("'shape'\\s*:\\s*\\(([^)]*)\\)")))
        fail("{}: the .npy header has no shape: {}", path, header);
    Shape shape;
    const std::string dims = m[1];
    const std::regex digits("\\d+");
    std::sregex_iterator it(dims.begin(), dims.end(), digits), end;
    for (; it != end; ++it) {
        const std::string d = it->str();
        if (d.size() > 15) fail("{}: extent {} is too large", path, d);
        shape.push_back(std::stoll(d));
    }
    ::onnx::TensorProto proto;
    if (descr == "<f4") proto.set_data_type(::onnx::TensorProto::FLOAT);
    else if (descr == "<f8") proto.set_data_type(::onnx::TensorProto::DOUBLE);
    else if (descr == "<i4") proto.set_data_type(::onnx::TensorProto::INT32);
    else if (descr == "<i8") proto.set_data_type(::onnx::TensorProto::INT64);
    else if (descr == "|b1") proto.set_data_type(::onnx::TensorProto::BOOL);
    else fail("{}: dtype '{}' is not supported (<f4, <f8, <i4, <i8, |b1)", path, descr);
    for (int64_t d : shape) proto.add_dims(d);
    proto.set_raw_data(bytes.substr(offset + header_len));
    return onnx::to_tensor(narrowed(onnx::host_tensor(proto, path), path), path);
}

std::string npy_bytes(const Tensor &tensor) {
    const Tensor t = tensor.contiguous();
    const char *descr = t.dtype() == DType::f32 ? "<f4" : t.dtype() == DType::f64 ? "<f8" : t.dtype() == DType::i32 ? "<i4" : "|b1";
    std::string shape;
    for (int64_t i = 0; i < t.dim(); ++i) shape += (i ? ", " : "") + std::to_string(t.shape()[i]);
    if (t.dim() == 1) shape += ",";
    std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, shape);
    // Pad so the data starts at a multiple of 64 bytes, the header ending in '\n'.
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string out = "\x93NUMPY";
    out += '\x01';
    out += '\x00';
    out += static_cast<char>(header.size() & 0xff);
    out += static_cast<char>(header.size() >> 8);
    out += header;
    out.append(static_cast<const char *>(t.raw_data()), t.nbytes());
    return out;
}

/// The tensor `name` of a safetensors file, or its only tensor; only that one is converted.
Tensor read_safetensors_tensor(const std::string &path, const std::string &name) {
    const SafetensorsHeader header = read_safetensors_header(path);
    std::string chosen;
    std::vector<std::string> names;
    for (const SafetensorsEntry &e : header.entries) {
        names.push_back(e.name);
        if (e.name == name) chosen = name;
    }
    if (chosen.empty()) {
        if (names.size() != 1)
            fail("{}: no tensor named '{}' (the file holds {} tensors{}{}); name the tensor after the input, or "
                 "give a file of one tensor",
                 path, name, names.size(), names.empty() ? "" : ": ", fmt::join(names, ", "));
        chosen = names.front();
    }
    const SafetensorsFile file = read_safetensors(path, [&](const SafetensorsEntry &e) -> std::optional<DType> {
        if (e.name != chosen) return std::nullopt;
        return e.dtype == DType::i64 ? DType::i32 : e.dtype;  // narrowed, checked value by value
    });
    const Tensor *tensor = file.find(chosen);
    STRATA_ASSERT(tensor, "{}: the tensor '{}' of the header was not read", path, chosen);
    return *tensor;
}

}  // namespace

Tensor read_tensor_file(const std::string &path, const std::string &name) {
    if (ends_with(path, ".safetensors")) return read_safetensors_tensor(path, name);
    if (ends_with(path, ".npy")) return read_npy(path);
    if (ends_with(path, ".pb")) {
        const auto proto = onnx::read_tensor_proto(path);
        return onnx::to_tensor(narrowed(onnx::host_tensor(proto, path), path), path);
    }
    fail("{}: unknown tensor file type (expected .npy, .pb or .safetensors)", path);
}

void write_tensor_file(const std::string &path, const Tensor &tensor, const std::string &name) {
    if (ends_with(path, ".npy")) return write_file_atomically(path, npy_bytes(tensor));
    if (ends_with(path, ".pb")) return write_file_atomically(path, onnx::to_proto(tensor, "").SerializeAsString());
    if (ends_with(path, ".safetensors")) return save_safetensors(path, {{name.empty() ? "output" : name, tensor}});
    fail("{}: unknown tensor file type (expected .npy, .pb or .safetensors)", path);
}

}  // namespace strata::tools
