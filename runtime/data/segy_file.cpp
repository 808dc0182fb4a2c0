#include "runtime/data/segy_file.h"

#include "runtime/input_file.h"

#include <strata/error.h>

#include <segyio/segy.h>

#include <cstring>

namespace strata::data {

namespace {

const char *error_name(int code) {
    switch (code) {
    case SEGY_FOPEN_ERROR: return "cannot open";
    case SEGY_FSEEK_ERROR: return "seek failed";
    case SEGY_FREAD_ERROR: return "read failed (the file is shorter than its headers say)";
    case SEGY_INVALID_FIELD: return "invalid header field";
    case SEGY_INVALID_SORTING: return "the traces are sorted neither by inline nor by crossline";
    case SEGY_MISSING_LINE_INDEX: return "a line number is missing";
    case SEGY_INVALID_OFFSETS: return "invalid offsets";
    case SEGY_TRACE_SIZE_MISMATCH: return "the file is not a whole number of traces";
    case SEGY_INVALID_ARGS: return "invalid arguments";
    case SEGY_NOTFOUND: return "not found";
    default: return "segyio error";
    }
}

/// Bytes per sample of a SEG-Y format code, 0 for codes Strata does not read.
int sample_bytes(int format) {
    switch (format) {
    case SEGY_IBM_FLOAT_4_BYTE:
    case SEGY_SIGNED_INTEGER_4_BYTE:
    case SEGY_IEEE_FLOAT_4_BYTE: return 4;
    case SEGY_SIGNED_SHORT_2_BYTE: return 2;
    case SEGY_SIGNED_CHAR_1_BYTE: return 1;
    default: return 0;
    }
}

}  // namespace

SegyFile::SegyFile(const std::string &path, bool volume, int inline_field, int crossline_field) : path_(path) {
    const int header_bytes = 3200 + segy_binheader_size();
    uint64_t size = 0;
    {
        const InputFile input(path, "a SEG-Y file");
        size = input.size();
    }
    if (size < static_cast<uint64_t>(header_bytes))
        fail("{}: {} bytes, too short for SEG-Y's {}-byte text and binary headers", path, size, header_bytes);
    file_ = {segy_open(path.c_str(), "rb"), segy_close};
    if (!file_) fail("{}: segyio cannot open the file", path);
    std::vector<char> binary(static_cast<size_t>(segy_binheader_size()));
    if (const int rc = segy_binheader(file_.get(), binary.data()); rc != SEGY_OK)
        fail("{}: cannot read the binary header: {}", path, error_name(rc));
    format_ = segy_format(binary.data());
    if (sample_bytes(format_) == 0) {
        const int swapped = ((format_ & 0xFF) << 8) | ((format_ >> 8) & 0xFF);
        fail("{}: sample format code {} in the binary header (bytes 3225-3226); expected 1 (IBM float), 2, 3, 5 "
             "(IEEE float) or 8{}",
             path, format_, sample_bytes(swapped) ? " (it reads as a little-endian file, which is not supported)" : "");
    }
    samples_ = segy_samples(binary.data());
    if (samples_ < 1) fail("{}: the binary header gives {} samples per trace; expected at least 1", path, samples_);
    trace0_ = segy_trace0(binary.data());
    if (trace0_ < header_bytes || static_cast<uint64_t>(trace0_) > size)
        fail("{}: the traces would start at byte {} (extended text headers); the file has {} bytes", path, trace0_,
             size);
    trace_bytes_ = segy_trsize(format_, static_cast<int>(samples_));
    segy_set_format(file_.get(), format_);
    int traces = 0;
    if (const int rc = segy_traces(file_.get(), &traces, trace0_, trace_bytes_); rc != SEGY_OK || traces < 1)
        fail("{}: {} bytes after the headers are not whole traces of 240 + {} bytes ({} samples of format {}){}",
             path, size - static_cast<uint64_t>(trace0_), trace_bytes_, samples_, format_,
             rc == SEGY_OK ? ": there are none" : "");
    traces_ = traces;
    buffer_.resize(static_cast<size_t>(trace_bytes_));
    if (volume) read_geometry(inline_field, crossline_field);
}

SegyFile::~SegyFile() = default;

void SegyFile::read_geometry(int inline_field, int crossline_field) {
    int sorting = 0, offsets = 0, inline_count = 0, crossline_count = 0;
    if (const int rc = segy_sorting(file_.get(), inline_field, crossline_field, SEGY_TR_OFFSET, &sorting, trace0_, trace_bytes_);
        rc != SEGY_OK || (sorting != SEGY_INLINE_SORTING && sorting != SEGY_CROSSLINE_SORTING))
        fail("{}: cannot tell the inline/crossline sorting from the trace headers (inline at byte {}, crossline at "
             "byte {}): {}",
             path_, inline_field, crossline_field, error_name(rc == SEGY_OK ? SEGY_INVALID_SORTING : rc));
    inline_sorted_ = sorting == SEGY_INLINE_SORTING;
    if (const int rc = segy_offsets(file_.get(), inline_field, crossline_field, static_cast<int>(traces_), &offsets, trace0_,
                                    trace_bytes_);
        rc != SEGY_OK || offsets != 1)
        fail("{}: {} offsets per inline/crossline; expected a post-stack volume (1){}", path_, offsets,
             rc == SEGY_OK ? "" : fmt::format(" ({})", error_name(rc)));
    if (const int rc = segy_lines_count(file_.get(), inline_field, crossline_field, sorting, offsets, &inline_count,
                                        &crossline_count, trace0_, trace_bytes_);
        rc != SEGY_OK || inline_count < 1 || crossline_count < 1 ||
        static_cast<int64_t>(inline_count) * crossline_count != traces_)
        fail("{}: {} inlines x {} crosslines do not make the {} traces: expected a regular volume", path_, inline_count,
             crossline_count, traces_);
    inlines_.resize(static_cast<size_t>(inline_count));
    crosslines_.resize(static_cast<size_t>(crossline_count));
    if (segy_inline_indices(file_.get(), inline_field, sorting, inline_count, crossline_count, offsets, inlines_.data(),
                            trace0_, trace_bytes_) != SEGY_OK ||
        segy_crossline_indices(file_.get(), crossline_field, sorting, inline_count, crossline_count, offsets,
                               crosslines_.data(), trace0_, trace_bytes_) != SEGY_OK)
        fail("{}: cannot read the inline and crossline numbers", path_);
    // segyio infers the layout from a few headers: check every trace is where it says.
    std::vector<int> inline_of(static_cast<size_t>(traces_)), crossline_of(static_cast<size_t>(traces_));
    if (segy_field_forall(file_.get(), inline_field, 0, static_cast<int>(traces_), 1, inline_of.data(), trace0_,
                          trace_bytes_) != SEGY_OK ||
        segy_field_forall(file_.get(), crossline_field, 0, static_cast<int>(traces_), 1, crossline_of.data(), trace0_,
                          trace_bytes_) != SEGY_OK)
        fail("{}: cannot read the trace headers", path_);
    for (int64_t i = 0; i < inline_count; ++i)
        for (int64_t x = 0; x < crossline_count; ++x) {
            const auto trace = static_cast<size_t>(trace_at(i, x));
            if (inline_of[trace] != inlines_[i] || crossline_of[trace] != crosslines_[x])
                fail("{}: trace {} is at inline {}, crossline {}; a regular {}-sorted volume has inline {}, crossline "
                     "{} there",
                     path_, trace, inline_of[trace], crossline_of[trace], inline_sorted_ ? "inline" : "crossline",
                     inlines_[i], crosslines_[x]);
        }
}

int64_t SegyFile::trace_at(int64_t i, int64_t x) const {
    return inline_sorted_ ? i * static_cast<int64_t>(crosslines_.size()) + x
                          : x * static_cast<int64_t>(inlines_.size()) + i;
}

void SegyFile::read(int64_t trace, int64_t start, int64_t stop, float *out) const {
    const int64_t count = stop - start;
    std::lock_guard<std::mutex> lock(mutex_);
    char *raw = buffer_.data();
    if (const int rc = segy_readsubtr(file_.get(), static_cast<int>(trace), static_cast<int>(start), static_cast<int>(stop), 1,
                                      raw, nullptr, trace0_, trace_bytes_);
        rc != SEGY_OK)
        fail("{}: cannot read trace {}: {}", path_, trace, error_name(rc));
    segy_to_native(format_, count, raw);
    for (int64_t k = 0; k < count; ++k) {
        switch (format_) {
        case SEGY_IBM_FLOAT_4_BYTE:
        case SEGY_IEEE_FLOAT_4_BYTE: std::memcpy(&out[k], raw + 4 * k, 4); break;
        case SEGY_SIGNED_INTEGER_4_BYTE: {
            int32_t v;
            std::memcpy(&v, raw + 4 * k, 4);
            out[k] = static_cast<float>(v);
            break;
        }
        case SEGY_SIGNED_SHORT_2_BYTE: {
            int16_t v;
            std::memcpy(&v, raw + 2 * k, 2);
            out[k] = static_cast<float>(v);
            break;
        }
        default: out[k] = static_cast<float>(static_cast<int8_t>(raw[k])); break;
        }
    }
}

}  // namespace strata::data
