#include "runtime/data/raw_file_dataset.h"

#include "runtime/input_file.h"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <sys/uio.h>
#include <vector>

namespace strata::data {
namespace {

using Json = nlohmann::json;

// Records hold the tensors' bytes as they are in memory; the format says little-endian.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "raw dataset files are little-endian");

constexpr char kMagic[8] = {'S', 'T', 'R', 'A', 'T', 'A', 'R', '1'};
constexpr int64_t kPrefixBytes = 16;                     // magic + header length
constexpr uint64_t kMaxHeaderBytes = 1 << 20;            // a header is a few hundred bytes
constexpr int64_t kAlignment = 64;
constexpr int64_t kChecksumBytes = 4;
/// zlib's crc32 takes 32-bit lengths, and no sane example is this large.
constexpr int64_t kMaxRecordBytes = int64_t{1} << 31;

int64_t checked_mul(int64_t a, int64_t b, const std::string &path, const char *what) {
    int64_t out = 0;
    if (__builtin_mul_overflow(a, b, &out)) fail("{}: {} overflows 64 bits", path, what);
    return out;
}

/// The bytes of the fields of one record, checking it fits the limit.
int64_t field_bytes_of(const ExampleLayout &layout, const std::string &path) {
    int64_t total = 0;
    for (const auto &[name, field] : layout) {
        const int64_t bytes = checked_mul(shape_numel(field.shape), static_cast<int64_t>(dtype_size(field.dtype)), path,
                                          "a field's byte count");
        if (bytes > kMaxRecordBytes || (total += bytes) > kMaxRecordBytes)
            fail("{}: a record of {} is more than {} bytes", path, layout_str(layout), kMaxRecordBytes);
    }
    return total;
}

uint32_t crc32_of(const Example &example) {
    uLong crc = ::crc32(0, nullptr, 0);
    for (const auto &[name, tensor] : example)  // map order: the fields' order in the file
        crc = ::crc32(crc, static_cast<const Bytef *>(tensor.raw_data()), static_cast<uInt>(tensor.nbytes()));
    return static_cast<uint32_t>(crc);
}

ExampleLayout parse_fields(const Json &fields, const std::string &path) {
    if (!fields.is_array() || fields.empty()) fail("{}: header 'fields' must be a non-empty array", path);
    ExampleLayout layout;
    for (const Json &f : fields) {
        if (!f.is_object() || !f.contains("name") || !f["name"].is_string() || !f.contains("dtype") ||
            !f["dtype"].is_string() || !f.contains("shape") || !f["shape"].is_array())
            fail("{}: header field {} must be {{\"name\": string, \"dtype\": string, \"shape\": [int...]}}", path,
                 f.dump().substr(0, 80));
        const std::string name = f["name"].get<std::string>();
        if (name.empty() || layout.count(name)) fail("{}: header field name '{}' is empty or repeated", path, name);
        FieldSpec spec;
        if (!parse_dtype(f["dtype"].get<std::string>(), &spec.dtype))
            fail("{}: field '{}' has dtype '{}'; expected f32, f64, i32, i64 or bool", path, name,
                 f["dtype"].get<std::string>());
        for (const Json &extent : f["shape"]) {
            if (!extent.is_number_integer() || extent.get<int64_t>() < 0)
                fail("{}: field '{}' has shape {}; expected extents >= 0", path, name, f["shape"].dump());
            spec.shape.push_back(extent.get<int64_t>());
        }
        layout[name] = spec;
    }
    return layout;
}

}  // namespace

RawFileDataset::RawFileDataset(const std::string &path)
    : path_(path), file_(std::make_unique<InputFile>(path, "a raw dataset file")) {
    const uint64_t size = file_->size();
    if (size < kPrefixBytes) fail("{}: {} bytes is too short for a raw dataset file (magic and header length)", path, size);
    char prefix[kPrefixBytes];
    file_->read(prefix, sizeof prefix, "the magic and header length");
    if (std::memcmp(prefix, kMagic, sizeof kMagic) != 0)
        fail("{}: not a raw dataset file (the first 8 bytes are not \"STRATAR1\")", path);
    uint64_t header_bytes = 0;
    for (int i = 7; i >= 0; --i) header_bytes = header_bytes << 8 | static_cast<uint8_t>(prefix[8 + i]);
    if (header_bytes > kMaxHeaderBytes || header_bytes > size - kPrefixBytes)
        fail("{}: header length {} is beyond the file ({} bytes) or the {} byte limit", path, header_bytes, size,
             kMaxHeaderBytes);
    std::string text(header_bytes, '\0');
    file_->read(text.data(), text.size(), "the header");
    const Json header = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!header.is_object() || !header.contains("examples") || !header["examples"].is_number_integer() ||
        header["examples"].get<int64_t>() < 0 || !header.contains("fields"))
        fail("{}: the header is not JSON {{\"examples\": N >= 0, \"fields\": [...]}}: {}", path, text.substr(0, 80));
    examples_ = header["examples"].get<int64_t>();
    layout_ = parse_fields(header["fields"], path);
    record_bytes_ = field_bytes_of(layout_, path) + kChecksumBytes;
    data_offset_ = kPrefixBytes + static_cast<int64_t>(header_bytes);
    const int64_t expected = data_offset_ + checked_mul(examples_, record_bytes_, path, "the data size");
    if (expected < 0 || static_cast<uint64_t>(expected) != size)
        fail("{}: {} bytes, but {} examples of {} bytes ({}) from offset {} make {} bytes (truncated or extra data)",
             path, size, examples_, record_bytes_, layout_str(layout_), data_offset_, expected);
}

RawFileDataset::~RawFileDataset() = default;

Example RawFileDataset::get(int64_t index) const {
    if (index < 0 || index >= examples_)
        fail("{}: example {} is out of range ({} examples)", path_, index, examples_);
    Example example;
    std::vector<iovec> pieces;
    for (const auto &[name, field] : layout_) {
        Tensor &t = example[name] = Tensor::uninitialized(field.shape, field.dtype);
        pieces.push_back({t.raw_data(), t.nbytes()});
    }
    uint32_t stored_crc = 0;
    pieces.push_back({&stored_crc, sizeof stored_crc});
    // preadv may return short (a signal, a huge record): carry on from where it stopped.
    off_t offset = static_cast<off_t>(data_offset_ + index * record_bytes_);
    size_t first = 0;
    for (int64_t left = record_bytes_; left > 0;) {
        const ssize_t n = ::preadv(file_->fd(), pieces.data() + first, static_cast<int>(pieces.size() - first), offset);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            fail("{}: reading example {} ({} bytes at offset {}): {}", path_, index, record_bytes_,
                 data_offset_ + index * record_bytes_, n == 0 ? "the file ends early (truncated?)" : std::strerror(errno));
        left -= n;
        offset += n;
        for (size_t done = static_cast<size_t>(n); done > 0 && first < pieces.size();) {
            const size_t take = std::min(done, pieces[first].iov_len);
            pieces[first].iov_base = static_cast<uint8_t *>(pieces[first].iov_base) + take;
            pieces[first].iov_len -= take;
            done -= take;
            if (pieces[first].iov_len == 0) ++first;
        }
    }
    const uint32_t crc = crc32_of(example);
    if (crc != stored_crc)
        fail("{}: example {} is corrupt (CRC-32 {:08x} of its bytes, {:08x} stored)", path_, index, crc, stored_crc);
    return example;
}

std::string RawFileDataset::describe(int64_t index) const { return fmt::format("{}: example {}", path_, index); }

RawFileWriter::RawFileWriter(const std::string &path, const ExampleLayout &layout, int64_t examples)
    : out_(path), layout_(layout), examples_(examples) {
    if (layout.empty()) fail("{}: a raw dataset needs at least one field", path);
    if (examples < 0) fail("{}: the number of examples is negative ({})", path, examples);
    checked_mul(examples, field_bytes_of(layout, path) + kChecksumBytes, path, "the data size");
    Json fields = Json::array();
    for (const auto &[name, field] : layout) {
        if (name.empty()) fail("{}: a field name is empty", path);
        fields.push_back({{"name", name}, {"dtype", dtype_name(field.dtype)}, {"shape", field.shape}});
    }
    std::string header = Json{{"examples", examples}, {"fields", fields}}.dump();
    header.resize(static_cast<size_t>((kPrefixBytes + static_cast<int64_t>(header.size()) + kAlignment - 1) /
                                          kAlignment * kAlignment - kPrefixBytes),
                  ' ');
    char prefix[kPrefixBytes];
    std::memcpy(prefix, kMagic, sizeof kMagic);
    for (int i = 0; i < 8; ++i) prefix[8 + i] = static_cast<char>(static_cast<uint64_t>(header.size()) >> (8 * i));
    out_.write(prefix, sizeof prefix);
    out_.write(header.data(), header.size());
}

void RawFileWriter::append(const Example &example) {
    if (written_ >= examples_) fail("{}: more than the {} examples announced", out_.path(), examples_);
    check_layout(example, layout_, fmt::format("{}: example {}", out_.path(), written_));
    Example contiguous;
    for (const auto &[name, tensor] : example) {
        const Tensor &data = contiguous[name] = tensor.contiguous();
        out_.write(data.raw_data(), data.nbytes());
    }
    const uint32_t crc = crc32_of(contiguous);
    out_.write(&crc, sizeof crc);
    ++written_;
}

void RawFileWriter::commit() {
    if (written_ != examples_)
        fail("{}: {} examples written, {} announced", out_.path(), written_, examples_);
    out_.commit();
}

void write_raw_dataset(const std::string &path, const Dataset &source) {
    const int64_t n = source.size();
    if (n <= 0) fail("{}: the source dataset has no examples", path);
    Example first = source.get(0);
    RawFileWriter out(path, layout_of(first), n);
    out.append(first);
    for (int64_t i = 1; i < n; ++i) out.append(source.get(i));
    out.commit();
}

}  // namespace strata::data
