// MiniSEED written by write_miniseed reads back sample for sample in every encoding; a time
// window decodes only the records it overlaps (a corrupt record elsewhere is not even
// decoded); threads reading different files at once each get their own file's errors.
#include "runtime/miniseed.h"

#include <catch2/catch.hpp>

#include "tests/support/error_message.h"
#include "tests/support/temp_dir.h"

#include <cmath>
#include <fstream>
#include <thread>

using namespace strata;
using strata::testing::error_message;
using strata::testing::TempDir;
using Catch::Matchers::Contains;

namespace {

constexpr double kT0 = 1577836800.0;  // 2020-01-01T00:00:00Z

/// "XX.<station>..<channel>" at `rate` Hz from kT0 + `offset` seconds: whole counts that
/// change irregularly, so Steim-2 needs differences of several widths.
Trace trace(const std::string &station, const std::string &channel, double rate, int64_t n, double offset = 0) {
    Trace t;
    t.network = "XX";
    t.station = station;
    t.channel = channel;
    t.start_epoch_seconds = kT0 + offset;
    t.sampling_rate = rate;
    for (int64_t k = 0; k < n; ++k) t.samples.push_back(double((k * 7919) % 4001 - 2000 + (k % 13) * 100000));
    return t;
}

/// Overwrites 4 bytes of the file at `at`.
void poke(const std::string &path, int64_t at, uint32_t value) {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(at);
    f.write(reinterpret_cast<const char *>(&value), 4);
    REQUIRE(f.good());
}

}  // namespace

TEST_CASE("write_miniseed: every encoding reads back exactly, several channels and records") {
    TempDir dir;
    const std::vector<Trace> traces = {trace("AAA", "BHZ", 20.0, 3000), trace("AAA", "BHN", 20.0, 700, 1.5),
                                       trace("BBB", "HHE", 100.0, 5)};
    for (const auto encoding : {MiniseedEncoding::steim2, MiniseedEncoding::int32, MiniseedEncoding::float32,
                                MiniseedEncoding::float64}) {
        for (const int length : {256, 512, 4096}) {
            INFO("encoding " << int(encoding) << ", records of " << length << " bytes");
            const std::string path = dir / "out.mseed";
            write_miniseed(path, traces, {encoding, length});
            const std::vector<Trace> back = read_miniseed(path);
            REQUIRE(back.size() == 3);
            // read_miniseed orders by id: XX.AAA..BHN, XX.AAA..BHZ, XX.BBB..HHE.
            const Trace *expected[] = {&traces[1], &traces[0], &traces[2]};
            for (size_t i = 0; i < 3; ++i) {
                CHECK(back[i].id() == expected[i]->id());
                CHECK(back[i].start_epoch_seconds == expected[i]->start_epoch_seconds);
                CHECK(back[i].sampling_rate == expected[i]->sampling_rate);
                CHECK(back[i].samples == expected[i]->samples);  // whole counts below 2^24: exact in float32 too
            }
        }
    }
    // Fractions survive float64 exactly and float32 rounded to float.
    Trace fractional = trace("CCC", "LHZ", 1.0, 10);
    for (double &v : fractional.samples) v += 0.1;
    write_miniseed(dir / "f.mseed", {fractional}, {MiniseedEncoding::float64});
    CHECK(read_miniseed(dir / "f.mseed")[0].samples == fractional.samples);
    write_miniseed(dir / "f.mseed", {fractional}, {MiniseedEncoding::float32});
    for (size_t k = 0; k < 10; ++k)
        CHECK(read_miniseed(dir / "f.mseed")[0].samples[k] == double(float(fractional.samples[k])));
}

TEST_CASE("write_miniseed: bad traces and options are errors naming the trace, and nothing is written") {
    TempDir dir;
    const std::string path = dir / "bad.mseed";
    auto message = [&](Trace t, MiniseedWriteOptions o = {}) { return error_message([&] { write_miniseed(path, {t}, o); }); };
    Trace good = trace("AAA", "BHZ", 20.0, 100);
    Trace t = good;
    t.station = "TOOLONG";
    CHECK_THAT(message(t), Contains("trace XX.TOOLONG..BHZ: the station code 'TOOLONG' has 7 characters; SEED allows at most 5"));
    t = good;
    t.channel = "BHZZ";
    CHECK_THAT(message(t), Contains("the channel code 'BHZZ' has 4 characters; SEED allows at most 3"));
    t = good;
    t.samples[17] = 0.5;
    CHECK_THAT(message(t), Contains("trace XX.AAA..BHZ: sample 17 is 0.5; the Steim-2 encoding stores whole numbers"));
    t.samples[17] = 3e9;
    CHECK_THAT(message(t, {MiniseedEncoding::int32}), Contains("sample 17 is 3000000000; the int32 encoding"));
    t.samples[17] = NAN;
    CHECK_THAT(message(t, {MiniseedEncoding::float64}), Contains("sample 17 is nan; samples must be finite"));
    t = good;
    t.sampling_rate = 0;
    CHECK_THAT(message(t), Contains("trace XX.AAA..BHZ: the sampling rate is 0; expected a positive rate"));
    t = good;
    t.samples.clear();
    CHECK_THAT(message(t), Contains("trace XX.AAA..BHZ: no samples"));
    CHECK_THAT(message(good, {MiniseedEncoding::steim2, 1000}),
               Contains("record_length is 1000; expected a power of two from 256 to 8192"));
    CHECK_THAT(error_message([&] { write_miniseed(path, {}); }), Contains("no traces to write"));
    CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("read_miniseed with a time window: the overlapping records only, the same samples as the whole file") {
    TempDir dir;
    const std::string path = dir / "day.mseed";
    // 20 Hz, 6000 samples (300 s) on Z and N; 512-byte Steim-2 records hold a few hundred each.
    const Trace z = trace("AAA", "BHZ", 20.0, 6000), n = trace("AAA", "BHN", 20.0, 6000);
    write_miniseed(path, {z, n});
    const std::vector<Trace> whole = read_miniseed(path);
    REQUIRE(whole.size() == 2);

    for (const auto &[begin, end] : std::vector<std::pair<double, double>>{{100.0, 130.0}, {0.0, 0.05}, {299.9, 400.0},
                                                                           {-50.0, 10.0}, {150.0, 150.01}}) {
        INFO("window " << begin << " .. " << end << " s");
        const std::vector<Trace> part = read_miniseed(path, kT0 + begin, kT0 + end);
        REQUIRE(part.size() == 2);
        for (size_t i = 0; i < 2; ++i) {
            const Trace &p = part[i], &w = whole[i];
            CHECK(p.id() == w.id());
            // Whole records: the part starts at or before the window and ends at or after it...
            const auto first = std::llround((p.start_epoch_seconds - kT0) * 20.0);
            CHECK(p.start_epoch_seconds <= std::max(kT0 + begin, kT0));
            CHECK(p.start_epoch_seconds + p.duration_seconds() >= std::min(kT0 + end, kT0 + 300.0));
            // ... but far less than the file, and sample for sample the file's.
            CHECK(p.samples.size() < w.samples.size() / 4);
            REQUIRE(first >= 0);
            REQUIRE(size_t(first) + p.samples.size() <= w.samples.size());
            CHECK(std::equal(p.samples.begin(), p.samples.end(), w.samples.begin() + first));
        }
    }
    // A window with no record: no traces (the file is still checked).
    CHECK(read_miniseed(path, kT0 + 400, kT0 + 500).empty());
    CHECK(read_miniseed(path, kT0 - 100, kT0).empty());
    CHECK_THAT(error_message([&] { read_miniseed(path, kT0 + 5, kT0 + 5); }),
               Contains("day.mseed: the time window [") && Contains("expected finite times (seconds since 1970) with begin < end"));
    CHECK_THAT(error_message([&] { read_miniseed(path, NAN, kT0); }), Contains("is not a window"));
}

TEST_CASE("read_miniseed with a time window does not decode the records outside it") {
    TempDir dir;
    const std::string path = dir / "day.mseed";
    write_miniseed(path, {trace("AAA", "BHZ", 20.0, 6000)});
    // Break the Steim-2 integrity constant (the last sample, bytes 8..11 of the first data
    // frame at byte 64 of the record) of the file's last 512-byte record.
    const auto size = int64_t(std::filesystem::file_size(path));
    REQUIRE(size % 512 == 0);
    poke(path, size - 512 + 64 + 8, 0x12345678);
    CHECK_THAT(error_message([&] { read_miniseed(path); }),
               Contains("day.mseed: corrupt record at byte " + std::to_string(size - 512)) && Contains("integrity"));
    // The first minute is read without touching that record; the last second is not.
    const std::vector<Trace> start = read_miniseed(path, kT0, kT0 + 60);
    REQUIRE(start.size() == 1);
    CHECK(start[0].samples.front() == trace("AAA", "BHZ", 20.0, 1).samples.front());
    CHECK_THAT(error_message([&] { read_miniseed(path, kT0 + 299, kT0 + 300); }), Contains("integrity"));
    // A broken header is found whatever the window: every header is checked.
    poke(path, 512 + 6, 0x20202020);  // the quality code and reserved byte of record 2
    CHECK_THAT(error_message([&] { read_miniseed(path, kT0, kT0 + 1); }), Contains("day.mseed"));
}

TEST_CASE("read_miniseed from several threads at once: each read reports its own file's problems") {
    TempDir dir;
    write_miniseed(dir / "good.mseed", {trace("AAA", "BHZ", 20.0, 6000)});
    write_miniseed(dir / "bad.mseed", {trace("BBB", "BHZ", 20.0, 6000)});
    const auto size = int64_t(std::filesystem::file_size(dir / "bad.mseed"));
    poke(dir / "bad.mseed", size - 512 + 64 + 8, 0x12345678);
    const std::vector<double> expected = read_miniseed(dir / "good.mseed")[0].samples;
    std::vector<std::string> outcome(8);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < outcome.size(); ++i)
        threads.emplace_back([&, i] {
            for (int round = 0; round < 20; ++round) {
                // No Catch2 assertion here: they are not thread-safe.
                try {
                    if (i % 2) {
                        read_miniseed(dir / "bad.mseed");
                        outcome[i] = "bad file read without an error";
                    } else if (read_miniseed(dir / "good.mseed")[0].samples != expected) {
                        outcome[i] = "good file read wrong";
                    }
                } catch (const Error &e) {
                    const std::string message = e.what();
                    if (!(i % 2) || message.find("bad.mseed: corrupt record") == std::string::npos ||
                        message.find("integrity") == std::string::npos || message.find("good.mseed") != std::string::npos)
                        outcome[i] = message;
                }
            }
        });
    for (auto &t : threads) t.join();
    for (const std::string &o : outcome) CHECK(o.empty());
}
