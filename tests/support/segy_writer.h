#pragma once
// Writing small SEG-Y files in tests with libsegyio itself, for runtime/data/segy_dataset.h.

#include <segyio/segy.h>

#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace strata::testing {

struct SegyWriteOptions {
    int samples = 8;
    int format = SEGY_IEEE_FLOAT_4_BYTE;  ///< or IBM float, 2/4-byte integers
    std::vector<int> inlines = {1};        ///< a 2-D line: one inline, its traces as crosslines
    std::vector<int> crosslines = {1};
    bool inline_sorted = true;
};

/// Writes a post-stack file: trace (il, xl) holds value(il position, xl position, sample)
/// and carries its inline and crossline numbers at bytes 189 and 193.
inline void write_segy(const std::string &path, const SegyWriteOptions &o,
                       const std::function<double(int, int, int)> &value) {
    segy_file *file = segy_open(path.c_str(), "w+b");
    REQUIRE(file != nullptr);
    std::string text(3200, ' ');
    REQUIRE(segy_write_textheader(file, 0, text.c_str()) == SEGY_OK);
    std::vector<char> binary(static_cast<size_t>(segy_binheader_size()), 0);
    segy_set_bfield(binary.data(), SEGY_BIN_SAMPLES, o.samples);
    segy_set_bfield(binary.data(), SEGY_BIN_INTERVAL, 4000);
    segy_set_bfield(binary.data(), SEGY_BIN_FORMAT, o.format);
    REQUIRE(segy_write_binheader(file, binary.data()) == SEGY_OK);
    segy_set_format(file, o.format);
    const long trace0 = 3600;
    const int trace_bytes = segy_trsize(o.format, o.samples);
    const int outer = static_cast<int>(o.inline_sorted ? o.inlines.size() : o.crosslines.size());
    const int inner = static_cast<int>(o.inline_sorted ? o.crosslines.size() : o.inlines.size());
    int trace = 0;
    for (int a = 0; a < outer; ++a)
        for (int b = 0; b < inner; ++b, ++trace) {
            const int il = o.inline_sorted ? a : b, xl = o.inline_sorted ? b : a;
            char header[SEGY_TRACE_HEADER_SIZE] = {};
            segy_set_field(header, SEGY_TR_INLINE, o.inlines[il]);
            segy_set_field(header, SEGY_TR_CROSSLINE, o.crosslines[xl]);
            segy_set_field(header, SEGY_TR_OFFSET, 1);
            segy_set_field(header, SEGY_TR_SAMPLE_COUNT, o.samples);
            REQUIRE(segy_write_traceheader(file, trace, header, trace0, trace_bytes) == SEGY_OK);
            std::vector<char> bytes(static_cast<size_t>(trace_bytes));
            for (int k = 0; k < o.samples; ++k) {
                const double v = value(il, xl, k);
                if (o.format == SEGY_SIGNED_SHORT_2_BYTE) {
                    const auto s = static_cast<int16_t>(v);
                    std::memcpy(bytes.data() + 2 * k, &s, 2);
                } else if (o.format == SEGY_SIGNED_INTEGER_4_BYTE) {
                    const auto s = static_cast<int32_t>(v);
                    std::memcpy(bytes.data() + 4 * k, &s, 4);
                } else {
                    const auto f = static_cast<float>(v);
                    std::memcpy(bytes.data() + 4 * k, &f, 4);
                }
            }
            REQUIRE(segy_from_native(o.format, o.samples, bytes.data()) == SEGY_OK);
            REQUIRE(segy_writetrace(file, trace, bytes.data(), trace0, trace_bytes) == SEGY_OK);
        }
    segy_close(file);
}

}  // namespace strata::testing
