// IDX reading: small files written here, plain and gzipped, and one test per corrupt-file error.
#include "runtime/idx.h"

#include <catch2/catch.hpp>

#include "tests/support/memory_limit.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using strata::DType;
using strata::IdxType;
using strata::Shape;
using strata::Tensor;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<uint8_t>;

using strata::testing::TempDir;

void put_be32(Bytes &out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

/// A whole IDX file: magic, big-endian extents, then `payload` as given.
Bytes idx_file(uint8_t type, const std::vector<uint32_t> &dims, const Bytes &payload) {
    Bytes out = {0, 0, type, static_cast<uint8_t>(dims.size())};
    for (uint32_t d : dims) put_be32(out, d);
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

/// n bytes of 0, 1, 2, ... (mod 256).
Bytes counting(size_t n) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i);
    return b;
}

void write_plain(const std::string &path, const Bytes &bytes) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char *>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
}

void write_gzip(const std::string &path, const Bytes &bytes) {
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
    REQUIRE(gzclose(f) == Z_OK);
}

Bytes read_plain(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// The message of the strata::Error that reading `path` throws.
std::string read_error(const std::string &path) {
    try {
        strata::read_idx(path);
    } catch (const strata::Error &e) {
        return e.what();
    }
    FAIL("expected a strata::Error reading " << path);
    return "";
}

}  // namespace

TEST_CASE("a plain u8 IDX file reads back as i32 and as scaled f32 images", "[runtime][idx]") {
    TempDir dir;
    const std::string path = dir / "images-idx3-ubyte";
    write_plain(path, idx_file(0x08, {2, 3, 4}, counting(24)));

    const Tensor raw = strata::read_idx(path);
    CHECK(raw.dtype() == DType::i32);
    CHECK(raw.shape() == Shape{2, 3, 4});
    CHECK(raw.at<int32_t>({1, 2, 3}) == 23);

    const Tensor images = strata::read_idx_images(path);
    CHECK(images.dtype() == DType::f32);
    CHECK(images.shape() == Shape{2, 3, 4});
    CHECK(images.at<float>({0, 0, 1}) == 1.0f / 255.0f);

    const strata::IdxHeader h = strata::read_idx_header(path);
    CHECK(h.type == IdxType::u8);
    CHECK(h.shape == Shape{2, 3, 4});
    CHECK(h.payload_bytes == 24);
}

TEST_CASE("a gzipped IDX file reads the same as the plain one", "[runtime][idx]") {
    TempDir dir;
    Bytes pixels = counting(28 * 28 * 3);
    pixels[5] = 255;
    write_plain(dir / "plain", idx_file(0x08, {3, 28, 28}, pixels));
    write_gzip(dir / "packed.gz", idx_file(0x08, {3, 28, 28}, pixels));
    const Tensor a = strata::read_idx_images(dir / "plain");
    const Tensor b = strata::read_idx_images(dir / "packed.gz");
    REQUIRE(b.shape() == Shape{3, 28, 28});
    CHECK(std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0);
    CHECK(b.get_flat(5) == 1.0);
    CHECK(b.get_flat(0) == 0.0);

    // Labels: one dimension of unsigned bytes.
    write_gzip(dir / "labels.gz", idx_file(0x08, {4}, {9, 0, 3, 7}));
    const Tensor labels = strata::read_idx(dir / "labels.gz");
    CHECK(labels.shape() == Shape{4});
    CHECK(labels.at<int32_t>({0}) == 9);
    CHECK(labels.at<int32_t>({3}) == 7);
}

TEST_CASE("every IDX element type is decoded big-endian", "[runtime][idx]") {
    TempDir dir;
    write_plain(dir / "i8", idx_file(0x09, {2}, {0xff, 0x7f}));
    CHECK(strata::read_idx(dir / "i8").get_flat(0) == -1);
    CHECK(strata::read_idx(dir / "i8").get_flat(1) == 127);

    write_plain(dir / "i16", idx_file(0x0B, {2}, {0x01, 0x02, 0xff, 0xfe}));
    const Tensor s = strata::read_idx(dir / "i16");
    CHECK(s.dtype() == DType::i32);
    CHECK(s.get_flat(0) == 258);
    CHECK(s.get_flat(1) == -2);

    write_plain(dir / "i32", idx_file(0x0C, {1, 2}, {0x00, 0x01, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00}));
    const Tensor i = strata::read_idx(dir / "i32");
    CHECK(i.shape() == Shape{1, 2});
    CHECK(i.get_flat(0) == 65536);
    CHECK(i.get_flat(1) == -2147483648.0);

    write_plain(dir / "f32", idx_file(0x0D, {1}, {0x3f, 0xc0, 0x00, 0x00}));  // 1.5f
    const Tensor f = strata::read_idx(dir / "f32");
    CHECK(f.dtype() == DType::f32);
    CHECK(f.get_flat(0) == 1.5);

    write_plain(dir / "f64", idx_file(0x0E, {1}, {0xc0, 0x04, 0, 0, 0, 0, 0, 0}));  // -2.5
    const Tensor d = strata::read_idx(dir / "f64");
    CHECK(d.dtype() == DType::f64);
    CHECK(d.get_flat(0) == -2.5);

    write_plain(dir / "empty", idx_file(0x08, {0, 28}, {}));
    CHECK(strata::read_idx(dir / "empty").shape() == Shape{0, 28});
}

TEST_CASE("IDX error: missing file", "[runtime][idx][error]") {
    TempDir dir;
    const std::string path = dir / "nope-idx1-ubyte.gz";
    const std::string message = read_error(path);
    CHECK_THAT(message, Contains(path));
    CHECK_THAT(message, Contains("cannot open: No such file or directory"));
}

TEST_CASE("IDX error: bad magic number", "[runtime][idx][error]") {
    TempDir dir;
    write_plain(dir / "text", {'h', 'e', 'l', 'l', 'o', '\n'});
    CHECK_THAT(read_error(dir / "text"),
               Contains(dir / "text") && Contains("bad magic number 0x68656c6c") &&
                   Contains("starts with two zero bytes"));

    write_plain(dir / "type", idx_file(0x0A, {1}, {0}));
    CHECK_THAT(read_error(dir / "type"), Contains("bad magic number 0x00000a01: unknown type code 0x0a"));

    write_plain(dir / "nodims", {0, 0, 8, 0});
    CHECK_THAT(read_error(dir / "nodims"), Contains("the header declares 0 dimensions"));

    write_plain(dir / "short", {0, 0});
    CHECK_THAT(read_error(dir / "short"),
               Contains("truncated header: the 4-byte magic number has only 2 byte(s)"));

    write_plain(dir / "empty", {});
    CHECK_THAT(read_error(dir / "empty"), Contains("the file is empty"));

    write_plain(dir / "dims", {0, 0, 8, 3, 0, 0, 0, 2});
    CHECK_THAT(read_error(dir / "dims"),
               Contains("truncated header: 3 dimensions need 12 bytes of extents, only 4 present"));
}

TEST_CASE("IDX error: extents that overflow", "[runtime][idx][error]") {
    TempDir dir;
    write_plain(dir / "huge", idx_file(0x0E, {0xffffffffu, 0xffffffffu, 4}, {}));
    CHECK_THAT(read_error(dir / "huge"),
               Contains("dimensions 4294967295x4294967295x4 double (8 bytes each) overflow"));
}

TEST_CASE("IDX error: truncated payload", "[runtime][idx][error]") {
    TempDir dir;
    const std::string path = dir / "train-images-idx3-ubyte";
    write_plain(path, idx_file(0x08, {5, 28, 28}, counting(1234)));
    CHECK(read_error(path) ==
          path + ": truncated: header says 5x28x28 = 3920 bytes of data, only 1234 present");

    write_plain(dir / "ints", idx_file(0x0C, {2, 3}, counting(10)));
    CHECK_THAT(read_error(dir / "ints"),
               Contains("truncated: header says 2x3 int (4 bytes each) = 24 bytes of data, only 10 present"));

    // The same through gzip: the stream is complete, the data inside it is short.
    write_gzip(dir / "short.gz", idx_file(0x08, {5, 28, 28}, counting(1234)));
    CHECK_THAT(read_error(dir / "short.gz"),
               Contains("truncated: header says 5x28x28 = 3920 bytes of data, only 1234 present"));
}

TEST_CASE("IDX error: trailing bytes after the data", "[runtime][idx][error]") {
    TempDir dir;
    write_plain(dir / "extra", idx_file(0x08, {2, 2}, counting(7)));
    CHECK(read_error(dir / "extra") ==
          (dir / "extra") + ": 3 trailing byte(s) after the data: header says 2x2 = 4 bytes of data, "
                            "but 7 follow the header");
    write_gzip(dir / "extra.gz", idx_file(0x08, {2, 2}, counting(7)));
    CHECK_THAT(read_error(dir / "extra.gz"), Contains("3 trailing byte(s) after the data"));
}

TEST_CASE("IDX error: corrupt gzip stream", "[runtime][idx][error]") {
    TempDir dir;
    const Bytes file = idx_file(0x08, {10, 100}, counting(1000));
    write_gzip(dir / "good.gz", file);
    const Bytes gz = read_plain(dir / "good.gz");
    REQUIRE(gz.size() > 20);

    // A reserved deflate block type right after the 10-byte gzip header.
    Bytes bad_block = gz;
    bad_block[10] = 0x07;
    write_plain(dir / "block.gz", bad_block);
    CHECK_THAT(read_error(dir / "block.gz"),
               Contains(dir / "block.gz") && Contains("corrupt gzip data: invalid block type"));

    // A wrong CRC-32 in the trailer.
    Bytes bad_crc = gz;
    bad_crc[gz.size() - 8] ^= 0xff;
    write_plain(dir / "crc.gz", bad_crc);
    CHECK_THAT(read_error(dir / "crc.gz"), Contains("corrupt gzip data: incorrect data check"));

    // The compressed stream cut short.
    write_plain(dir / "cut.gz", Bytes(gz.begin(), gz.begin() + static_cast<long>(gz.size() - 12)));
    CHECK_THAT(read_error(dir / "cut.gz"),
               Contains("truncated") && Contains("the gzip stream ends early: unexpected end of file"));
}

TEST_CASE("IDX error: images that are not unsigned bytes", "[runtime][idx][error]") {
    TempDir dir;
    write_plain(dir / "floats", idx_file(0x0D, {1}, {0, 0, 0, 0}));
    try {
        strata::read_idx_images(dir / "floats");
        FAIL("expected a strata::Error");
    } catch (const strata::Error &e) {
        CHECK_THAT(e.what(),
                   Contains("expected unsigned byte data (type code 0x08), the header says float (0x0d)"));
    }
}

TEST_CASE("IDX error: running out of memory on a huge declared size is an error naming the file", "[runtime][idx][error]") {
    if (!strata::testing::memory_caps_are_meaningful) STRATA_SKIP("a memory cap is not meaningful under AddressSanitizer");
    // 3 GB of images declared (4 million 28x28) and 300 MB really there, under a 256 MB cap:
    // the reader grows as data arrives and reports the shortage instead of std::bad_alloc.
    TempDir dir;
    const std::string path = dir / "bomb-images-idx3-ubyte.gz";
    gzFile f = gzopen(path.c_str(), "wb1");
    REQUIRE(f != nullptr);
    const Bytes header = idx_file(0x08, {4000000, 28, 28}, {});
    REQUIRE(gzwrite(f, header.data(), static_cast<unsigned>(header.size())) == static_cast<int>(header.size()));
    const Bytes zeros(1u << 20, 0);
    for (int i = 0; i < 300; ++i) REQUIRE(gzwrite(f, zeros.data(), static_cast<unsigned>(zeros.size())) > 0);
    REQUIRE(gzclose(f) == Z_OK);
    CHECK(fs::file_size(path) < 4000000);  // a few MB on disk

    std::string message;
    const auto outcome = strata::testing::run_with_memory_cap(
        256u << 20, [&] { strata::read_idx_images(path); }, &message);
    CHECK(outcome == strata::testing::CappedOutcome::strata_error);
    CHECK_THAT(message, Contains("bomb-images-idx3-ubyte.gz: out of memory"));
    CHECK_THAT(message, Contains("4000000x28x28 = 3136000000 bytes"));
}

TEST_CASE("IDX error: a FIFO or a device is refused instead of read forever", "[runtime][idx][error]") {
    TempDir dir;
    const std::string fifo = dir / "fifo-idx1-ubyte";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THAT(read_error(fifo), Contains("is a FIFO (named pipe), not a regular file"));
    CHECK_THAT(read_error("/dev/zero"), Contains("/dev/zero: cannot read: is a character device"));
}
