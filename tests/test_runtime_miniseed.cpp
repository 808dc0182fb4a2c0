// MiniSEED reading: the real IU.COLA record from libmseed-doc, records of every plain
// encoding and Steim-1 built byte by byte here, gaps, and one check per corrupt-file error.
#include "runtime/miniseed.h"

#include <catch2/catch.hpp>

#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

using strata::read_miniseed;
using strata::Trace;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

const char *const kRealRecord = "/usr/share/doc/libmseed-dev/examples/test.mseed";

using Bytes = std::vector<uint8_t>;

using strata::testing::TempDir;

void write_file(const std::string &path, const Bytes &bytes) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char *>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
}

Bytes read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void put_be(Bytes &out, uint64_t value, int bytes) {
    for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) out.push_back(uint8_t(value >> shift));
}

void put_text(Bytes &out, const std::string &text, size_t width) {
    for (size_t i = 0; i < width; ++i) out.push_back(i < text.size() ? uint8_t(text[i]) : ' ');
}

/// What goes into one hand-built SEED 2.4 data record (big-endian, blockette 1000 only).
struct RecordSpec {
    std::string network = "XX", station = "TEST", location = "", channel = "BHZ";
    int day_of_year = 1, second = 0, tenth_ms = 0;  // 2020, 00:00:second.tenth_ms
    int rate_factor = 1;
    uint8_t encoding = 3;  // SEED codes: 0 ASCII, 1 INT16, 3 INT32, 4 FLOAT32, 5 FLOAT64, 10 Steim-1
    uint16_t sample_count = 0;
    Bytes data;
};

/// A 512-byte record: the 48-byte fixed header, blockette 1000 at 48, data from byte 64.
Bytes make_record(const RecordSpec &r) {
    Bytes b;
    put_text(b, "000001", 6);
    b.push_back('D');
    b.push_back(' ');
    put_text(b, r.station, 5);
    put_text(b, r.location, 2);
    put_text(b, r.channel, 3);
    put_text(b, r.network, 2);
    put_be(b, 2020, 2);  // start time: year, day of year, hour, minute, second, unused, 0.1 ms
    put_be(b, uint64_t(r.day_of_year), 2);
    b.insert(b.end(), {0, 0, uint8_t(r.second), 0});
    put_be(b, uint64_t(r.tenth_ms), 2);
    put_be(b, r.sample_count, 2);
    put_be(b, uint16_t(int16_t(r.rate_factor)), 2);
    put_be(b, 1, 2);            // rate multiplier
    b.insert(b.end(), {0, 0, 0, 1});  // flags, one blockette
    put_be(b, 0, 4);            // time correction
    put_be(b, 64, 2);           // data offset
    put_be(b, 48, 2);           // first blockette
    put_be(b, 1000, 2);
    put_be(b, 0, 2);            // no next blockette
    b.insert(b.end(), {r.encoding, 1, 9, 0});  // big-endian data, 2^9 = 512-byte record
    b.resize(64, 0);
    b.insert(b.end(), r.data.begin(), r.data.end());
    b.resize(512, 0);
    return b;
}

Bytes int32_data(const std::vector<int32_t> &v) {
    Bytes b;
    for (int32_t x : v) put_be(b, uint32_t(x), 4);
    return b;
}

/// One Steim-1 frame holding up to 52 samples whose successive differences fit in a byte.
/// `last_sample` is the frame's reverse-integration constant (the integrity check).
Bytes steim1_frame(const std::vector<int32_t> &v, int32_t last_sample) {
    uint32_t words[16] = {};
    words[1] = uint32_t(v.front());
    words[2] = uint32_t(last_sample);
    uint32_t control = 0;
    for (size_t i = 0; i < v.size(); ++i) {
        const int32_t diff = i == 0 ? 0 : v[i] - v[i - 1];
        REQUIRE((diff >= -128 && diff <= 127));
        const size_t word = 3 + i / 4;
        words[word] |= uint32_t(uint8_t(int8_t(diff))) << (8 * (3 - i % 4));
        control |= 1u << (2 * (15 - word));  // nibble 01: four 1-byte differences
    }
    words[0] = control;
    Bytes b;
    for (uint32_t w : words) put_be(b, w, 4);
    return b;
}

/// The message of the strata::Error that reading `path` throws; fails when it does not throw.
std::string read_error(const std::string &path) {
    try {
        read_miniseed(path);
    } catch (const strata::Error &e) {
        return e.what();
    }
    FAIL("read_miniseed(" << path << ") did not throw");
    return "";
}

/// Everything written to the stderr and stdout file descriptors while it lives.
class OutputCapture {
public:
    explicit OutputCapture(const std::string &file) : file_(file) {
        std::fflush(stdout);
        std::fflush(stderr);
        saved_out_ = dup(1);
        saved_err_ = dup(2);
        std::FILE *f = std::fopen(file.c_str(), "w");
        dup2(fileno(f), 1);
        dup2(fileno(f), 2);
        std::fclose(f);
    }
    /// Restores the descriptors and returns what was written.
    std::string finish() {
        std::fflush(stdout);
        std::fflush(stderr);
        dup2(saved_out_, 1);
        dup2(saved_err_, 2);
        close(saved_out_);
        close(saved_err_);
        const Bytes b = read_file(file_);
        return std::string(b.begin(), b.end());
    }

private:
    std::string file_;
    int saved_out_ = -1, saved_err_ = -1;
};

}  // namespace

TEST_CASE("read_miniseed: the real IU.COLA LHZ record of the 2010 Maule earthquake") {
    if (!fs::exists(kRealRecord)) STRATA_SKIP(kRealRecord << " is absent (install Debian's libmseed-doc)");
    const std::vector<Trace> traces = read_miniseed(kRealRecord);
    // 36 Steim-2 records of 512 bytes, contiguous: one trace (checked with libmseed's msview).
    REQUIRE(traces.size() == 1);
    const Trace &t = traces[0];
    CHECK(t.network == "IU");
    CHECK(t.station == "COLA");
    CHECK(t.location == "00");
    CHECK(t.channel == "LHZ");
    CHECK(t.id() == "IU.COLA.00.LHZ");
    CHECK(t.sampling_rate == 1.0);
    CHECK(t.start_time == "2010-02-27T06:50:00.069539Z");
    CHECK(t.start_epoch_seconds == Approx(1267253400.069539).margin(1e-6));
    REQUIRE(t.samples.size() == 4200);
    CHECK(t.duration_seconds() == 4200.0);
    // Values from `msview -D` (libmseed's example program), counts of the raw data.
    CHECK(t.samples[0] == -231946);
    CHECK(t.samples[1] == -228438);
    CHECK(t.samples[112] == -236771);  // first sample of the second record
    CHECK(t.samples[1000] == -382481);
    CHECK(t.samples[2000] == -196117);
    CHECK(t.samples[4199] == -208785);
    double sum = 0, lo = t.samples[0], hi = t.samples[0];
    for (double v : t.samples) sum += v, lo = std::min(lo, v), hi = std::max(hi, v);
    CHECK(sum == -988218594.0);
    CHECK(lo == -2121836);
    CHECK(hi == 1342348);

    const strata::Tensor x = t.to_tensor();
    CHECK(x.dtype() == strata::DType::f64);
    CHECK(x.shape() == strata::Shape{4200});
    CHECK(x.data<double>()[1000] == -382481);
}

TEST_CASE("read_miniseed: INT16, INT32, FLOAT32, FLOAT64 and Steim-1 records") {
    TempDir dir;
    const std::vector<int32_t> counts = {5, -3, 120, 7, -100, 0, 33, 34};
    const std::vector<float> floats = {0.5f, -1.25f, 3.0e5f, 1.0e-3f};
    const std::vector<double> doubles = {1.0 / 3.0, -2.5e-12, 1.0e300};

    RecordSpec r;
    Bytes int16;
    for (int32_t x : counts) put_be(int16, uint16_t(int16_t(x)), 2);
    Bytes f32, f64;
    for (float x : floats) { uint32_t bits; std::memcpy(&bits, &x, 4); put_be(f32, bits, 4); }
    for (double x : doubles) { uint64_t bits; std::memcpy(&bits, &x, 8); put_be(f64, bits, 8); }

    struct Case { const char *name; uint8_t encoding; Bytes data; std::vector<double> expected; };
    const std::vector<Case> cases = {
        {"int16", 1, int16, std::vector<double>(counts.begin(), counts.end())},
        {"int32", 3, int32_data(counts), std::vector<double>(counts.begin(), counts.end())},
        {"float32", 4, f32, std::vector<double>(floats.begin(), floats.end())},
        {"float64", 5, f64, doubles},
        {"steim1", 10, steim1_frame(counts, counts.back()),
         std::vector<double>(counts.begin(), counts.end())},
    };
    for (const Case &c : cases) {
        INFO(c.name);
        r.encoding = c.encoding;
        r.data = c.data;
        r.sample_count = uint16_t(c.expected.size());
        r.rate_factor = 20;
        r.second = 7;
        r.tenth_ms = 5000;
        const std::string path = dir / (std::string(c.name) + ".mseed");
        write_file(path, make_record(r));
        const std::vector<Trace> traces = read_miniseed(path);
        REQUIRE(traces.size() == 1);
        CHECK(traces[0].id() == "XX.TEST..BHZ");
        CHECK(traces[0].location.empty());
        CHECK(traces[0].sampling_rate == 20.0);
        CHECK(traces[0].start_time == "2020-01-01T00:00:07.500000Z");
        CHECK(traces[0].start_epoch_seconds == 1577836807.5);
        CHECK(traces[0].samples == c.expected);
    }
}

TEST_CASE("read_miniseed: records join into traces, split at gaps and by channel") {
    TempDir dir;
    RecordSpec a;
    a.sample_count = 10;
    a.data = int32_data({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    RecordSpec b = a;  // continues a at 1 Hz: starts 10 s later
    b.second = 10;
    b.encoding = 10;  // a different encoding in the same trace
    b.data = steim1_frame({10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, 19);
    RecordSpec late = a;  // 30 s after b ends: a gap
    late.second = 50;
    RecordSpec other = a;
    other.channel = "BHN";

    Bytes file = make_record(a);
    for (const Bytes &r : {make_record(b), make_record(late), make_record(other)})
        file.insert(file.end(), r.begin(), r.end());
    file.resize(file.size() + 512, 0);  // zero padding at the end is allowed
    write_file(dir / "joined.mseed", file);

    const std::vector<Trace> traces = read_miniseed(dir / "joined.mseed");
    REQUIRE(traces.size() == 3);
    CHECK(traces[0].id() == "XX.TEST..BHN");
    CHECK(traces[0].samples.size() == 10);
    CHECK(traces[1].id() == "XX.TEST..BHZ");
    CHECK(traces[1].start_time == "2020-01-01T00:00:00.000000Z");
    REQUIRE(traces[1].samples.size() == 20);
    for (size_t i = 0; i < 20; ++i) CHECK(traces[1].samples[i] == double(i));
    CHECK(traces[2].id() == "XX.TEST..BHZ");
    CHECK(traces[2].start_time == "2020-01-01T00:00:50.000000Z");
    CHECK(traces[2].start_epoch_seconds - traces[1].start_epoch_seconds == 50.0);
}

TEST_CASE("read_miniseed: unreadable, empty and non-MiniSEED files") {
    TempDir dir;
    CHECK_THAT(read_error(dir / "missing.mseed"),
               Contains("missing.mseed: cannot open: No such file or directory"));
    CHECK_THAT(read_error(dir.path.string()), Contains("is a directory"));

    write_file(dir / "empty.mseed", {});
    CHECK_THAT(read_error(dir / "empty.mseed"), Contains("empty.mseed: the file is empty"));

    const std::string text = "time,value\n0,1.5\n1,2.5\n";
    write_file(dir / "series.csv", Bytes(text.begin(), text.end()));
    CHECK_THAT(read_error(dir / "series.csv"),
               Contains("series.csv: not a MiniSEED file: no MiniSEED record header at byte 0"));

    std::mt19937 rng(7);
    Bytes noise(4096);
    for (uint8_t &byte : noise) byte = uint8_t(rng());
    write_file(dir / "noise.bin", noise);
    CHECK_THAT(read_error(dir / "noise.bin"), Contains("noise.bin: not a MiniSEED file"));

    write_file(dir / "zeros.bin", Bytes(1024, 0));
    CHECK_THAT(read_error(dir / "zeros.bin"), Contains("zeros.bin: not a MiniSEED file"));

    RecordSpec log;
    log.channel = "LOG";
    log.encoding = 0;
    log.data = {'h', 'e', 'l', 'l', 'o'};
    log.sample_count = 5;
    write_file(dir / "log.mseed", make_record(log));
    CHECK_THAT(read_error(dir / "log.mseed"),
               Contains("log.mseed: no numeric samples: its 1 record(s) hold only text"));
}

TEST_CASE("read_miniseed: truncated and corrupt records, with nothing printed") {
    TempDir dir;
    OutputCapture output(dir / "output.txt");
    RecordSpec r;
    r.sample_count = 10;
    r.data = int32_data({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    const Bytes good = make_record(r);
    Bytes two = good;
    two.insert(two.end(), good.begin(), good.end());
    std::vector<std::string> messages;
    auto error = [&](const std::string &name, const Bytes &bytes) {
        write_file(dir / name, bytes);
        messages.push_back(read_error(dir / name));
        return messages.back();
    };

    const std::string cut = error("cut.mseed", Bytes(two.begin(), two.begin() + 700));
    const std::string cut_header = error("cut_header.mseed", Bytes(two.begin(), two.begin() + 530));
    Bytes garbage = good;
    garbage.insert(garbage.end(), 100, 'x');
    garbage.insert(garbage.end(), good.begin(), good.end());
    const std::string between = error("garbage.mseed", garbage);

    RecordSpec too_many = r;  // 200 INT32 samples do not fit in 448 bytes
    too_many.sample_count = 200;
    const std::string overrun = error("overrun.mseed", make_record(too_many));
    RecordSpec unknown = r;
    unknown.encoding = 99;
    const std::string encoding = error("encoding.mseed", make_record(unknown));
    RecordSpec steim = r;  // the frame's last-sample constant disagrees with the data
    steim.encoding = 10;
    steim.data = steim1_frame({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 10);
    const std::string integrity = error("integrity.mseed", make_record(steim));

    std::string real_cut, real_steim;
    if (fs::exists(kRealRecord)) {
        const Bytes real = read_file(kRealRecord);
        real_cut = error("real_cut.mseed", Bytes(real.begin(), real.begin() + 9000));
        Bytes mangled = real;  // scramble the Steim-2 frames of the fourth record
        for (size_t i = 3 * 512 + 64; i < 3 * 512 + 300; ++i) mangled[i] = uint8_t(mangled[i] * 37 + 11);
        real_steim = error("real_steim.mseed", mangled);
    }
    const std::string printed = output.finish();

    CHECK_THAT(cut, Contains("cut.mseed: truncated: the record at byte 512 is 512 bytes long, only "
                             "188 are present"));
    CHECK_THAT(cut_header, Contains("cut_header.mseed: truncated: the record at byte 512 is cut "
                                    "short after 18 bytes, inside its 48-byte header"));
    CHECK_THAT(between, Contains("garbage.mseed: corrupt data: bytes 512..1123"));
    CHECK_THAT(overrun, Contains("overrun.mseed: corrupt record at byte 0: the header promises 200 "
                                 "samples of 4 bytes"));
    CHECK_THAT(overrun, Contains("only 448 bytes of data follow"));
    CHECK_THAT(encoding, Contains("encoding.mseed: corrupt record at byte 0: libmseed:"));
    CHECK_THAT(encoding, Contains("Unsupported encoding format 99"));
    CHECK_THAT(integrity, Contains("integrity.mseed: corrupt record at byte 0: libmseed:"));
    CHECK_THAT(integrity, Contains("Data integrity check for Steim1 failed"));
    if (fs::exists(kRealRecord)) {
        CHECK_THAT(real_cut, Contains("real_cut.mseed: truncated: the record at byte 8704 is 512 "
                                      "bytes long, only 296 are present"));
        CHECK_THAT(real_steim, Contains("real_steim.mseed: corrupt record at byte 1536: libmseed: "
                                        "IU_COLA_00_LHZ_M: Impossible Steim2"));
    } else {
        WARN("SKIPPED the checks on the real record: " << kRealRecord << " is absent");
    }
    CHECK(printed.empty());
}

TEST_CASE("read_miniseed: a NaN or infinite sample is an error naming the record and the sample") {
    TempDir dir;
    const double nan = std::nan(""), inf = HUGE_VAL;
    struct Case { const char *name; uint8_t encoding; double bad; const char *shown; };
    for (const Case &c : {Case{"f32_nan", 4, nan, "nan"}, Case{"f32_inf", 4, inf, "inf"},
                          Case{"f64_nan", 5, nan, "nan"}, Case{"f64_minus_inf", 5, -inf, "-inf"}}) {
        INFO(c.name);
        RecordSpec r;
        r.encoding = c.encoding;
        r.sample_count = 3;
        r.rate_factor = 20;
        for (double x : {1.0, c.bad, 2.0}) {
            if (c.encoding == 4) {
                const float f = static_cast<float>(x);
                uint32_t bits;
                std::memcpy(&bits, &f, 4);
                put_be(r.data, bits, 4);
            } else {
                uint64_t bits;
                std::memcpy(&bits, &x, 8);
                put_be(r.data, bits, 8);
            }
        }
        const std::string path = dir / (std::string(c.name) + ".mseed");
        Bytes two = make_record(RecordSpec{});  // a first, good record (no samples) moves the bad one to byte 512
        const Bytes bad = make_record(r);
        two.insert(two.end(), bad.begin(), bad.end());
        write_file(path, two);
        const std::string message = read_error(path);
        CHECK_THAT(message, Contains("the record at byte 512 (3 samples) holds " + std::string(c.shown) + " at sample 1"));
        CHECK_THAT(message, Contains("samples must be finite"));
    }
}
