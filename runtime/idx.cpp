#include "runtime/idx.h"

#include "runtime/input_file.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <new>
#include <vector>

namespace strata {

size_t idx_type_size(IdxType type) {
    switch (type) {
    case IdxType::u8: return 1;
    case IdxType::i8: return 1;
    case IdxType::i16: return 2;
    case IdxType::i32: return 4;
    case IdxType::f32: return 4;
    case IdxType::f64: return 8;
    }
    return 0;
}

const char *idx_type_name(IdxType type) {
    switch (type) {
    case IdxType::u8: return "unsigned byte";
    case IdxType::i8: return "signed byte";
    case IdxType::i16: return "short";
    case IdxType::i32: return "int";
    case IdxType::f32: return "float";
    case IdxType::f64: return "double";
    }
    return "?";
}

namespace {

bool is_idx_type(uint8_t code) {
    return code == 0x08 || code == 0x09 || code == 0x0B || code == 0x0C || code == 0x0D ||
           code == 0x0E;
}

/// A gzFile that closes itself. zlib reads uncompressed files transparently,
/// so one reader serves both `.gz` and plain IDX files.
class GzReader {
public:
    explicit GzReader(const std::string &path) : path_(path) {
        InputFile in(path, "an IDX file");  // a regular file: a FIFO or /dev/zero would never end
        file_ = gzdopen(in.fd(), "rb");
        if (!file_) fail("{}: cannot open (zlib could not allocate its state)", path);
        in.release();  // gzclose closes it
        gzbuffer(file_, 1u << 17);  // larger reads than the 8 KiB default
    }
    ~GzReader() { gzclose(file_); }
    GzReader(const GzReader &) = delete;
    GzReader &operator=(const GzReader &) = delete;

    /// Reads up to `n` bytes; fewer only at the end of the data. Throws on a gzip or I/O error.
    size_t read(uint8_t *out, size_t n) {
        size_t got = 0;
        while (got < n) {
            const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - got, 1u << 20));
            const int r = gzread(file_, out + got, chunk);
            if (r < 0) fail_with_gzip_error();
            got += static_cast<size_t>(r);
            if (static_cast<unsigned>(r) < chunk) break;
        }
        // zlib reports a gzip stream cut short as a short read plus Z_BUF_ERROR.
        int code = Z_OK;
        gzerror(file_, &code);
        if (code == Z_BUF_ERROR) truncated_stream_ = true;
        else if (code != Z_OK) fail_with_gzip_error();
        return got;
    }

    /// True once a read found the gzip stream ending before its end-of-stream marker.
    bool truncated_stream() const { return truncated_stream_; }

private:
    [[noreturn]] void fail_with_gzip_error() {
        int code = Z_OK;
        std::string message = gzerror(file_, &code);
        // zlib prefixes its message with the file ("<fd:4>: " as opened here); we add our own.
        if (message.compare(0, 4, "<fd:") == 0 && message.find(">: ") != std::string::npos)
            message.erase(0, message.find(">: ") + 3);
        if (code == Z_ERRNO) fail("{}: read error: {}", path_, message);
        fail("{}: corrupt gzip data: {}", path_, message);
    }

    std::string path_;
    gzFile file_ = nullptr;
    bool truncated_stream_ = false;
};

uint32_t load_be32(const uint8_t *p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

/// "60000x28x28", or "2x3 int (4 bytes each)" when an element is more than a byte.
std::string describe(const IdxHeader &h) {
    std::string dims = fmt::format("{}", fmt::join(h.shape, "x"));
    const size_t size = idx_type_size(h.type);
    if (size == 1) return dims;
    return fmt::format("{} {} ({} bytes each)", dims, idx_type_name(h.type), size);
}

std::string truncation_note(const GzReader &in) {
    return in.truncated_stream() ? " (the gzip stream ends early: unexpected end of file)" : "";
}

IdxHeader read_header(GzReader &in, const std::string &path) {
    uint8_t magic[4];
    const size_t got = in.read(magic, 4);
    if (got == 0 && in.truncated_stream())
        fail("{}: truncated: the gzip stream ends early: unexpected end of file before the IDX "
             "header",
             path);
    if (got == 0) fail("{}: the file is empty; expected an IDX header", path);
    if (got < 4)
        fail("{}: truncated header: the 4-byte magic number has only {} byte(s){}", path, got,
             truncation_note(in));
    if (magic[0] != 0 || magic[1] != 0)
        fail("{}: bad magic number 0x{:02x}{:02x}{:02x}{:02x}: an IDX file starts with two zero "
             "bytes (is this an IDX file?)",
             path, magic[0], magic[1], magic[2], magic[3]);
    if (!is_idx_type(magic[2]))
        fail("{}: bad magic number 0x{:02x}{:02x}{:02x}{:02x}: unknown type code 0x{:02x} "
             "(expected 0x08 ubyte, 0x09 sbyte, 0x0B short, 0x0C int, 0x0D float or 0x0E double)",
             path, magic[0], magic[1], magic[2], magic[3], magic[2]);
    IdxHeader h;
    h.type = static_cast<IdxType>(magic[2]);
    const size_t ndims = magic[3];
    if (ndims == 0) fail("{}: bad magic number: the header declares 0 dimensions", path);

    std::vector<uint8_t> extents(4 * ndims);
    const size_t have = in.read(extents.data(), extents.size());
    if (have < extents.size())
        fail("{}: truncated header: {} dimensions need {} bytes of extents, only {} present{}", path,
             ndims, extents.size(), have, truncation_note(in));
    h.shape.resize(ndims);
    for (size_t d = 0; d < ndims; ++d) h.shape[d] = load_be32(&extents[4 * d]);

    // Product of the extents times the element size, checked so it cannot wrap. A zero extent
    // does not excuse the others: the tensor's strides are products of them too.
    int64_t bytes = static_cast<int64_t>(idx_type_size(h.type));
    bool empty = false;
    for (int64_t e : h.shape) {
        if (e > 1 && bytes > std::numeric_limits<int64_t>::max() / e)
            fail("{}: dimensions {} overflow: the data would be more than 2^63 bytes", path,
                 describe(h));
        bytes *= std::max<int64_t>(e, 1);
        empty = empty || e == 0;
    }
    h.payload_bytes = empty ? 0 : bytes;
    return h;
}

[[noreturn]] void fail_out_of_memory(const std::string &path, const IdxHeader &h, uint64_t have) {
    fail("{}: out of memory: the header declares {} = {} bytes of data; {} bytes were read when memory ran out",
         path, describe(h), h.payload_bytes, have);
}

/// The tensor the data is converted into; running out of memory is an error naming the file.
Tensor allocate_tensor(const std::string &path, const IdxHeader &h, DType dtype) {
    try {
        return Tensor::empty(h.shape, dtype);
    } catch (const std::bad_alloc &) {
        fail("{}: out of memory for the {} tensor of {} values the header declares ({})", path, dtype_name(dtype),
             shape_numel(h.shape), describe(h));
    }
}

/// The header and the payload bytes (still big-endian), after every check.
struct RawIdx {
    IdxHeader header;
    std::vector<uint8_t> bytes;
};

RawIdx read_raw(const std::string &path, const IdxType *required_type) {
    GzReader in(path);
    RawIdx raw;
    raw.header = read_header(in, path);
    const IdxHeader &h = raw.header;
    if (required_type && h.type != *required_type)
        fail("{}: expected {} data (type code 0x{:02x}), the header says {} (0x{:02x})", path,
             idx_type_name(*required_type), static_cast<int>(*required_type),
             idx_type_name(h.type), static_cast<int>(h.type));

    // Grow the buffer as data arrives instead of trusting the header with one huge allocation.
    const auto expected = static_cast<uint64_t>(h.payload_bytes);
    // (a 20-byte file may promise terabytes; the vector doubles as the data really arrives).
    raw.bytes.reserve(static_cast<size_t>(std::min<uint64_t>(expected, uint64_t{1} << 22)));
    uint64_t have = 0;
    while (have < expected) {
        const size_t chunk = static_cast<size_t>(std::min<uint64_t>(expected - have, 1u << 22));
        try {
            raw.bytes.resize(static_cast<size_t>(have) + chunk);
        } catch (const std::bad_alloc &) {
            fail_out_of_memory(path, h, have);
        }
        const size_t got = in.read(raw.bytes.data() + have, chunk);
        have += got;
        if (got < chunk) break;
    }
    if (have < expected)
        fail("{}: truncated: header says {} = {} bytes of data, only {} present{}", path,
             describe(h), expected, have, truncation_note(in));

    uint64_t trailing = 0;
    std::vector<uint8_t> scratch(1u << 16);
    for (size_t got; (got = in.read(scratch.data(), scratch.size())) > 0;) trailing += got;
    // All the data arrived, but the gzip stream lacks its end (and so its CRC check).
    if (in.truncated_stream())
        fail("{}: truncated: the gzip stream ends early: unexpected end of file (after all {} bytes "
             "of data, before the gzip checksum)",
             path, expected);
    if (trailing > 0)
        fail("{}: {} trailing byte(s) after the data: header says {} = {} bytes of data, but {} "
             "follow the header",
             path, trailing, describe(h), expected, expected + trailing);
    return raw;
}

}  // namespace

IdxHeader read_idx_header(const std::string &path) {
    GzReader in(path);
    return read_header(in, path);
}

Tensor read_idx(const std::string &path) {
    const RawIdx raw = read_raw(path, nullptr);
    const Shape &shape = raw.header.shape;
    const uint8_t *p = raw.bytes.data();
    const int64_t n = shape_numel(shape);
    switch (raw.header.type) {
    case IdxType::u8:
    case IdxType::i8:
    case IdxType::i16:
    case IdxType::i32: {
        Tensor t = allocate_tensor(path, raw.header, DType::i32);
        int32_t *out = t.data<int32_t>();
        const IdxType type = raw.header.type;
        for (int64_t i = 0; i < n; ++i) {
            if (type == IdxType::u8) out[i] = p[i];
            else if (type == IdxType::i8) out[i] = static_cast<int8_t>(p[i]);
            else if (type == IdxType::i16)
                out[i] = static_cast<int16_t>((p[2 * i] << 8) | p[2 * i + 1]);
            else out[i] = static_cast<int32_t>(load_be32(p + 4 * i));
        }
        return t;
    }
    case IdxType::f32: {
        Tensor t = allocate_tensor(path, raw.header, DType::f32);
        float *out = t.data<float>();
        for (int64_t i = 0; i < n; ++i) {
            const uint32_t bits = load_be32(p + 4 * i);
            std::memcpy(&out[i], &bits, 4);
        }
        return t;
    }
    case IdxType::f64: {
        Tensor t = allocate_tensor(path, raw.header, DType::f64);
        double *out = t.data<double>();
        for (int64_t i = 0; i < n; ++i) {
            const uint64_t bits = (uint64_t{load_be32(p + 8 * i)} << 32) | load_be32(p + 8 * i + 4);
            std::memcpy(&out[i], &bits, 8);
        }
        return t;
    }
    }
    STRATA_ASSERT(false, "unhandled IDX type {}", static_cast<int>(raw.header.type));
    return Tensor();
}

Tensor read_idx_images(const std::string &path) {
    const IdxType u8 = IdxType::u8;
    const RawIdx raw = read_raw(path, &u8);
    Tensor t = allocate_tensor(path, raw.header, DType::f32);
    float *out = t.data<float>();
    const int64_t n = t.numel();
    for (int64_t i = 0; i < n; ++i)
        out[i] = static_cast<float>(raw.bytes[static_cast<size_t>(i)]) / 255.0f;
    return t;
}

}  // namespace strata
