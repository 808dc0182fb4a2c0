#pragma once
// Hand-made safetensors files, byte by byte, for tests of the reader.

#include <cstdint>
#include <cstring>
#include <string>

namespace strata::testing {

/// The 8-byte little-endian length.
inline std::string le64(uint64_t n) {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return out;
}

/// A file from a JSON header (padded as the format asks) and raw data bytes.
inline std::string make_safetensors_file(std::string json, const std::string &data) {
    json.append((8 - json.size() % 8) % 8, ' ');
    return le64(json.size()) + json + data;
}

/// The raw little-endian bytes of `values` (the host is little-endian, as the format).
template <typename T, size_t N> std::string raw_bytes(const T (&values)[N]) {
    return std::string(reinterpret_cast<const char *>(values), sizeof(T) * N);
}

}  // namespace strata::testing
