#include "runtime/safetensors.h"

#include "runtime/atomic_file.h"
#include "runtime/input_file.h"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace strata {

// The data is written and read as raw memory; the format is little-endian.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors I/O assumes a little-endian host");

namespace {

using Json = nlohmann::ordered_json;

constexpr const char *metadata_key = "__metadata__";
/// The Python package refuses larger headers; so do we, before allocating one.
constexpr uint64_t max_header_bytes = 100'000'000;

/// "F32 [2, 3]", for messages.
std::string describe(StoredDType dtype, const Shape &shape) {
    return fmt::format("{} {}", stored_dtype_name(dtype), shape_str(shape));
}

/// A JSON value in a message, cut short when long.
std::string excerpt(const Json &value) {
    std::string text = value.dump();
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    return text;
}

/// zlib's crc32 takes 32-bit lengths; feed larger buffers in pieces.
uint32_t crc32_update(uint32_t crc, const void *data, size_t n) {
    const auto *p = static_cast<const Bytef *>(data);
    while (n > 0) {
        const auto chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
        crc = static_cast<uint32_t>(::crc32(crc, p, chunk));
        p += chunk;
        n -= chunk;
    }
    return crc;
}

/// Parses the JSON text; a tensor name given twice is an error (JSON parsers keep one silently).
Json parse_json(const std::string &path, const std::string &text) {
    std::set<std::string> names;
    std::string duplicate;
    const Json::parser_callback_t note_keys = [&](int depth, Json::parse_event_t event, Json &parsed) {
        if (depth == 1 && event == Json::parse_event_t::key &&
            !names.insert(parsed.get<std::string>()).second && duplicate.empty())
            duplicate = parsed.get<std::string>();
        return true;
    };
    Json j;
    try {
        j = Json::parse(text, note_keys);
    } catch (const nlohmann::json::exception &e) {
        std::string message = e.what();
        // Drop nlohmann's "[json.exception.parse_error.101] " tag.
        if (!message.empty() && message[0] == '[') message.erase(0, message.find("] ") + 2);
        fail("{}: the header is not valid JSON: {}", path, message);
    }
    if (!j.is_object()) fail("{}: the header is not a JSON object: {}", path, excerpt(j));
    if (!duplicate.empty()) fail("{}: the header names '{}' twice", path, duplicate);
    return j;
}

/// An unsigned JSON integer that fits in int64 (shapes) or uint64 (offsets).
uint64_t json_unsigned(const std::string &path, const std::string &name, const char *field, const Json &v,
                       uint64_t limit) {
    if (!v.is_number_unsigned() || v.get<uint64_t>() > limit)
        fail("{}: tensor '{}': every element of {} must be a non-negative integer, got {}", path, name, field,
             excerpt(v));
    return v.get<uint64_t>();
}

SafetensorsEntry parse_entry(const std::string &path, const std::string &name, const Json &v) {
    if (!v.is_object())
        fail("{}: tensor '{}': expected an object with dtype, shape and data_offsets, got {}", path, name,
             excerpt(v));
    for (auto it = v.begin(); it != v.end(); ++it)
        if (it.key() != "dtype" && it.key() != "shape" && it.key() != "data_offsets")
            fail("{}: tensor '{}': unknown field '{}' (expected dtype, shape and data_offsets)", path, name,
                 it.key());
    for (const char *field : {"dtype", "shape", "data_offsets"})
        if (!v.contains(field)) fail("{}: tensor '{}' has no {}", path, name, field);

    SafetensorsEntry e;
    e.name = name;
    const Json &dtype = v["dtype"];
    if (!dtype.is_string() || !parse_stored_dtype(dtype.get<std::string>(), &e.stored))
        fail("{}: tensor '{}' has dtype {}, which Strata cannot read (it reads F64, F32, F16, BF16, I64, I32, "
             "I16, I8, U8 and BOOL)",
             path, name, excerpt(dtype));
    e.dtype = natural_dtype(e.stored);
    const Json &shape = v["shape"];
    if (!shape.is_array())
        fail("{}: tensor '{}': shape must be an array, got {}", path, name, excerpt(shape));
    constexpr auto int64_max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    for (const Json &extent : shape)
        e.shape.push_back(static_cast<int64_t>(json_unsigned(path, name, "shape", extent, int64_max)));
    const Json &offsets = v["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2)
        fail("{}: tensor '{}': data_offsets must be [begin, end], got {}", path, name, excerpt(offsets));
    const uint64_t uint64_max = std::numeric_limits<uint64_t>::max();
    e.begin = json_unsigned(path, name, "data_offsets", offsets[0], uint64_max);
    e.end = json_unsigned(path, name, "data_offsets", offsets[1], uint64_max);

    // Bytes the shape needs, checked so that a hostile shape cannot wrap around. A zero extent
    // does not excuse the others: the tensor's strides are products of them too.
    uint64_t bytes = stored_dtype_size(e.stored), span = 1;
    for (int64_t extent : e.shape) {
        const auto x = static_cast<uint64_t>(extent);
        if (x > 1 && span > int64_max / x)
            fail("{}: tensor '{}' ({}) has more than 2^63 elements", path, name, describe(e.stored, e.shape));
        span *= std::max<uint64_t>(x, 1);
        if (x != 0 && bytes > uint64_max / x)
            fail("{}: tensor '{}' ({}) is larger than 2^64 bytes", path, name, describe(e.stored, e.shape));
        bytes *= x;
    }
    if (e.end < e.begin || e.end - e.begin != bytes)
        fail("{}: tensor '{}' ({}) needs {} bytes, but its data_offsets [{}, {}] span {}", path, name,
             describe(e.stored, e.shape), bytes, e.begin, e.end,
             e.end < e.begin ? std::string("a negative range") : std::to_string(e.end - e.begin) + " bytes");
    return e;
}

/// Reads the length and the JSON header and checks the layout of the data against the file size.
SafetensorsHeader parse_header(InputFile &in, const std::string &path) {
    const uint64_t size = in.size();
    if (size < 8)
        fail("{}: truncated: the file has {} byte(s), but a safetensors file starts with an 8-byte "
             "header length",
             path, size);
    uint8_t length[8];
    in.read(length, 8, "the header length");
    SafetensorsHeader h;
    for (int i = 7; i >= 0; --i) h.header_bytes = (h.header_bytes << 8) | length[i];
    if (h.header_bytes > size - 8)
        fail("{}: bad header length {}: only {} bytes follow the 8-byte length (truncated, or not a "
             "safetensors file)",
             path, h.header_bytes, size - 8);
    if (h.header_bytes > max_header_bytes)
        fail("{}: bad header length {}: a safetensors header has at most {} bytes", path, h.header_bytes,
             max_header_bytes);
    if (h.header_bytes == 0) fail("{}: bad header length 0: the JSON header is empty", path);
    std::string text(static_cast<size_t>(h.header_bytes), '\0');
    in.read(text.data(), text.size(), "the header");
    const Json j = parse_json(path, text);

    for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key() != metadata_key) {
            h.entries.push_back(parse_entry(path, it.key(), it.value()));
            continue;
        }
        if (!it.value().is_object())
            fail("{}: __metadata__ must be an object of strings, got {}", path, excerpt(it.value()));
        for (auto m = it.value().begin(); m != it.value().end(); ++m) {
            if (!m.value().is_string())
                fail("{}: __metadata__ entry '{}' is {}; metadata values must be strings", path, m.key(),
                     excerpt(m.value()));
            h.metadata[m.key()] = m.value().get<std::string>();
        }
    }

    // The tensors must tile the data exactly: in offset order, each begins where the last ended.
    h.data_bytes = size - 8 - h.header_bytes;
    std::stable_sort(h.entries.begin(), h.entries.end(),
                     [](const SafetensorsEntry &a, const SafetensorsEntry &b) {
                         return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
                     });
    uint64_t expected = 0;
    const SafetensorsEntry *previous = nullptr;
    for (const SafetensorsEntry &e : h.entries) {
        if (e.end > h.data_bytes)
            fail("{}: tensor '{}' ({}) has data_offsets [{}, {}] past the end of the data, which has {} "
                 "bytes (truncated file?)",
                 path, e.name, describe(e.stored, e.shape), e.begin, e.end, h.data_bytes);
        if (e.begin < expected)
            fail("{}: tensor '{}' data_offsets [{}, {}] overlap tensor '{}' [{}, {}]", path, e.name, e.begin,
                 e.end, previous->name, previous->begin, previous->end);
        if (e.begin > expected)
            fail("{}: bytes [{}, {}) of the data belong to no tensor (tensor '{}' starts at {})", path,
                 expected, e.begin, e.name, e.begin);
        expected = e.end;
        previous = &e;
    }
    if (expected < h.data_bytes)
        fail("{}: {} trailing byte(s) after the data: the tensors end at byte {} of a data section of {} "
             "bytes",
             path, h.data_bytes - expected, expected, h.data_bytes);
    return h;
}

/// The padded JSON header `save_safetensors` writes; also checks the names.
std::string encode_header(const std::string &path, const NamedTensors &tensors,
                          const std::map<std::string, std::string> &metadata,
                          const std::map<std::string, StoredDType> &stored_as) {
    Json j = Json::object();
    if (!metadata.empty()) {
        Json m = Json::object();
        for (const auto &[key, value] : metadata) m[key] = value;
        j[metadata_key] = std::move(m);
    }
    uint64_t offset = 0;
    for (const auto &[name, t] : tensors) {
        if (name.empty()) fail("{}: cannot save a tensor with an empty name", path);
        if (name == metadata_key)
            fail("{}: cannot save a tensor named '{}' (reserved for metadata)", path, name);
        if (!t.defined()) fail("{}: tensor '{}' is undefined", path, name);
        if (j.contains(name)) fail("{}: two tensors are named '{}'", path, name);
        const auto as = stored_as.find(name);
        const StoredDType stored = as == stored_as.end() ? stored_dtype_of(t.dtype()) : as->second;
        const uint64_t bytes = static_cast<uint64_t>(t.numel()) * stored_dtype_size(stored);
        Json entry = Json::object();
        entry["dtype"] = stored_dtype_name(stored);
        entry["shape"] = t.shape();
        entry["data_offsets"] = {offset, offset + bytes};
        offset += bytes;
        j[name] = std::move(entry);
    }
    for (const auto &named : stored_as)
        if (!j.contains(named.first))
            fail("{}: stored_as names tensor '{}', which is not among the tensors to save", path, named.first);
    std::string text;
    try {
        text = j.dump();
    } catch (const nlohmann::json::exception &) {
        fail("{}: a tensor name or metadata string is not valid UTF-8", path);
    }
    text.append((8 - text.size() % 8) % 8, ' ');  // as the Python package pads
    return text;
}

}  // namespace

const char *safetensors_dtype_name(DType dtype) { return stored_dtype_name(stored_dtype_of(dtype)); }

const Tensor *SafetensorsFile::find(const std::string &name) const {
    for (const auto &[n, t] : tensors)
        if (n == name) return &t;
    return nullptr;
}

void save_safetensors(const std::string &path, const NamedTensors &tensors,
                      const std::map<std::string, std::string> &metadata,
                      const std::map<std::string, StoredDType> &stored_as) {
    // Everything is checked before the temporary file exists, conversions included.
    const std::string header = encode_header(path, tensors, metadata, stored_as);
    std::map<std::string, std::string> converted;
    for (const auto &[name, t] : tensors) {
        const auto as = stored_as.find(name);
        if (as != stored_as.end() && as->second != stored_dtype_of(t.dtype()))
            converted[name] = encode_stored(t, as->second, fmt::format("{}: tensor '{}'", path, name));
    }
    uint8_t length[8];
    for (int i = 0; i < 8; ++i)
        length[i] = static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * i));
    AtomicFileWriter out(path);
    out.write(length, 8);
    out.write(header.data(), header.size());
    for (const auto &named : tensors) {
        const auto bytes = converted.find(named.first);
        if (bytes != converted.end()) {
            out.write(bytes->second.data(), bytes->second.size());
            continue;
        }
        const Tensor data = named.second.contiguous();
        out.write(data.raw_data(), data.nbytes());
    }
    out.commit();
}

SafetensorsHeader read_safetensors_header(const std::string &path) {
    InputFile in(path, "a safetensors file");
    return parse_header(in, path);
}

SafetensorsFile read_safetensors(const std::string &path) {
    return read_safetensors(path, [](const SafetensorsEntry &e) { return std::optional<DType>(e.dtype); });
}

SafetensorsFile read_safetensors(const std::string &path, const SafetensorsDTypeChooser &dtype_for,
                                 const ConversionOptions &options) {
    InputFile in(path, "a safetensors file");
    SafetensorsHeader h = parse_header(in, path);
    SafetensorsFile file;
    file.metadata = std::move(h.metadata);
    uint32_t crc = static_cast<uint32_t>(::crc32(0, nullptr, 0));
    std::vector<uint8_t> stored;
    for (const SafetensorsEntry &e : h.entries) {
        const std::optional<DType> dtype = dtype_for(e);
        const std::string data_of = "the data of tensor '" + e.name + "'";
        if (dtype && e.stored == stored_dtype_of(*dtype) && e.stored != StoredDType::boolean) {
            // Read straight into the tensor: no second copy of a large weight.
            Tensor t = Tensor::empty(e.shape, *dtype);
            in.read(t.raw_data(), t.nbytes(), data_of);
            crc = crc32_update(crc, t.raw_data(), t.nbytes());
            file.tensors.emplace_back(e.name, std::move(t));
            continue;
        }
        stored.resize(static_cast<size_t>(e.end - e.begin));
        in.read(stored.data(), stored.size(), data_of);
        crc = crc32_update(crc, stored.data(), stored.size());
        if (!dtype) continue;  // left out
        const std::string what = fmt::format("{}: tensor '{}' ({})", path, e.name, describe(e.stored, e.shape));
        file.tensors.emplace_back(e.name, convert_stored(stored.data(), e.stored, e.shape, *dtype, what, options));
    }
    file.data_crc32 = crc;
    return file;
}

uint32_t safetensors_data_crc32(const NamedTensors &tensors) {
    uint32_t crc = static_cast<uint32_t>(::crc32(0, nullptr, 0));
    for (const auto &named : tensors) {
        const Tensor data = named.second.contiguous();
        crc = crc32_update(crc, data.raw_data(), data.nbytes());
    }
    return crc;
}

}  // namespace strata
