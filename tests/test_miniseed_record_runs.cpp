// MiniSEED record runs: a whole-file read notes where each trace's records lie (offset,
// record length, count); a window read through those runs gives exactly what the header scan
// gives, reads no other record (a corrupt record elsewhere is never seen), and refuses runs
// that no longer fit the file. The window index saves the runs, checks them on load, and its
// windows are the same with and without them.
#include "runtime/data/miniseed_dataset.h"
#include "runtime/miniseed.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/error_message.h"
#include "tests/support/temp_dir.h"

#include <filesystem>
#include <fstream>

using namespace strata;
using strata::testing::error_message;
using strata::testing::TempDir;
using Catch::Matchers::Contains;

namespace {

constexpr double kT0 = 1577836800.0;  // 2020-01-01T00:00:00Z

Trace trace(const std::string &channel, double rate, int64_t n, double offset = 0) {
    Trace t;
    t.network = "XX";
    t.station = "AAA";
    t.channel = channel;
    t.start_epoch_seconds = kT0 + offset;
    t.sampling_rate = rate;
    for (int64_t k = 0; k < n; ++k) t.samples.push_back(double((k * 7919) % 4001 - 2000 + (k % 13) * 1000));
    return t;
}

/// Overwrites `count` bytes of the file from `at` with 'X' (no longer a record header).
void scribble(const std::string &path, uint64_t at, size_t count = 20) {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(std::streamoff(at));
    const std::string junk(count, 'X');
    f.write(junk.data(), std::streamsize(count));
    REQUIRE(f.good());
}

const Trace &with_id(const std::vector<Trace> &traces, const std::string &id) {
    for (const Trace &t : traces)
        if (t.id() == id) return t;
    FAIL("no trace " << id);
    return traces[0];
}

/// The traces of `id` among `traces`, as (start, samples) pairs.
std::vector<std::pair<double, std::vector<double>>> of(const std::vector<Trace> &traces, const std::string &id) {
    std::vector<std::pair<double, std::vector<double>>> out;
    for (const Trace &t : traces)
        if (t.id() == id) out.emplace_back(t.start_epoch_seconds, t.samples);
    return out;
}

}  // namespace

TEST_CASE("read_miniseed notes each trace's record runs: offsets, lengths, counts") {
    TempDir dir;
    const std::string path = dir / "two.mseed";
    // BHZ 3000 samples, then BHN 700, each in 512-byte int32 records, one after the other.
    write_miniseed(path, {trace("BHZ", 20.0, 3000), trace("BHN", 20.0, 700)}, {MiniseedEncoding::int32, 512});
    const auto size = std::filesystem::file_size(path);
    const std::vector<Trace> back = read_miniseed(path);
    const Trace &z = with_id(back, "XX.AAA..BHZ"), &n = with_id(back, "XX.AAA..BHN");
    REQUIRE(z.record_runs.size() == 1);
    REQUIRE(n.record_runs.size() == 1);
    CHECK(z.record_runs[0].offset == 0);
    CHECK(z.record_runs[0].record_length == 512);
    CHECK(n.record_runs[0].record_length == 512);
    // The runs tile the file: BHZ's records, then BHN's.
    CHECK(n.record_runs[0].offset == uint64_t(z.record_runs[0].records) * 512);
    CHECK(uint64_t(z.record_runs[0].records + n.record_runs[0].records) * 512 == size);
    // int32 records of 512 bytes hold (512 - 64) / 4 = 112 samples.
    CHECK(z.record_runs[0].records == (3000 + 111) / 112);

    // A gap splits the channel into two traces, each with its own run.
    const std::string gappy = dir / "gap.mseed";
    write_miniseed(gappy, {trace("BHZ", 20.0, 500), trace("BHZ", 20.0, 500, 100.0)}, {MiniseedEncoding::int32, 512});
    const std::vector<Trace> parts = read_miniseed(gappy);
    REQUIRE(parts.size() == 2);
    REQUIRE(parts[0].record_runs.size() == 1);
    REQUIRE(parts[1].record_runs.size() == 1);
    CHECK(parts[0].record_runs[0].offset == 0);
    CHECK(parts[1].record_runs[0].offset == uint64_t(parts[0].record_runs[0].records) * 512);
    // Window reads note none (they do not see every record).
    CHECK(read_miniseed(gappy, kT0, kT0 + 10)[0].record_runs.empty());
}

TEST_CASE("read_miniseed through record runs gives what the header scan gives, for any window") {
    TempDir dir;
    const std::string path = dir / "day.mseed";
    for (const auto encoding : {MiniseedEncoding::steim2, MiniseedEncoding::float64}) {
        for (const int length : {256, 4096}) {
            INFO("encoding " << int(encoding) << ", records of " << length << " bytes");
            write_miniseed(path, {trace("BHZ", 40.0, 20000), trace("BHN", 40.0, 20000), trace("BHE", 40.0, 20000)},
                           {encoding, length});
            const std::vector<Trace> whole = read_miniseed(path);
            for (const char *id : {"XX.AAA..BHZ", "XX.AAA..BHE"}) {
                const auto &runs = with_id(whole, id).record_runs;
                REQUIRE(runs.size() == 1);
                // Windows at the start, inside, across the end, outside, one sample wide.
                for (const auto &[b, e] : std::vector<std::pair<double, double>>{
                         {0, 3}, {123.4, 160.0}, {490, 600}, {700, 800}, {-50, -1}, {250.0, 250.025}, {0, 500}}) {
                    INFO(id << " [" << b << ", " << e << ")");
                    const auto scanned = of(read_miniseed(path, kT0 + b, kT0 + e), id);
                    const auto seeked = of(read_miniseed(path, id, runs, kT0 + b, kT0 + e), id);
                    CHECK(seeked == scanned);
                    if (e > 0 && b < 500) CHECK(!seeked.empty());
                }
            }
        }
    }
}

TEST_CASE("read_miniseed through record runs reads no record outside the window") {
    TempDir dir;
    const std::string path = dir / "day.mseed";
    write_miniseed(path, {trace("BHZ", 40.0, 40000)}, {MiniseedEncoding::steim2, 512});
    const std::vector<MiniseedRecordRun> runs = read_miniseed(path)[0].record_runs;
    REQUIRE(runs.size() == 1);
    REQUIRE(runs[0].records > 100);
    // A record near the end is corrupted: the header scan fails on it, the runs never read it
    // (bisection reads about log2(records) headers, none of them that one).
    const uint64_t late = uint64_t(runs[0].records - 3) * 512;
    scribble(path, late);
    CHECK_THAT(error_message([&] { read_miniseed(path, kT0 + 10, kT0 + 20); }), Contains("bytes " + std::to_string(late)));
    const auto window = read_miniseed(path, "XX.AAA..BHZ", runs, kT0 + 10, kT0 + 20);
    REQUIRE(window.size() == 1);
    CHECK(window[0].start_epoch_seconds <= kT0 + 10);
    CHECK(window[0].start_epoch_seconds + window[0].duration_seconds() >= kT0 + 20);
    // A window that needs that record names it.
    CHECK_THAT(error_message([&] { read_miniseed(path, "XX.AAA..BHZ", runs, kT0 + 990, kT0 + 999); }),
               Contains("day.mseed") && Contains("byte " + std::to_string(late)) && Contains("changed"));
}

TEST_CASE("read_miniseed through record runs refuses runs that do not fit the file") {
    TempDir dir;
    const std::string path = dir / "two.mseed";
    write_miniseed(path, {trace("BHZ", 20.0, 3000), trace("BHN", 20.0, 3000)}, {MiniseedEncoding::int32, 512});
    const std::vector<Trace> whole = read_miniseed(path);
    const auto z = with_id(whole, "XX.AAA..BHZ").record_runs, n = with_id(whole, "XX.AAA..BHN").record_runs;
    auto read = [&](const std::string &id, std::vector<MiniseedRecordRun> runs, double b = 0, double e = 10) {
        return error_message([&] { read_miniseed(path, id, runs, kT0 + b, kT0 + e); });
    };
    // Another channel's records.
    CHECK_THAT(read("XX.AAA..BHN", z), Contains("is of XX.AAA..BHZ, expected XX.AAA..BHN"));
    // Past the end of the file, and counts that would overflow.
    CHECK_THAT(read("XX.AAA..BHN", {{n[0].offset, 512, n[0].records + 1}}), Contains("truncated or changed"));
    CHECK_THAT(read("XX.AAA..BHN", {{~uint64_t(0) - 100, 512, 1}}), Contains("does not fit"));
    CHECK_THAT(read("XX.AAA..BHN", {{0, 512, int64_t(1) << 62}}), Contains("does not fit"));
    // A record length other than the file's, or no record length at all.
    CHECK_THAT(read("XX.AAA..BHZ", {{0, 256, 1}}), Contains("expected a 256-byte record of XX.AAA..BHZ, found a 512-byte record"));
    CHECK_THAT(read("XX.AAA..BHZ", {{0, 0, 2}}), Contains("does not fit"));
    // An offset inside a record: no header there.
    CHECK_THAT(read("XX.AAA..BHZ", {{100, 512, 1}}), Contains("byte 100") && Contains("no record header"));
    CHECK_THAT(read("XX.AAA..BHZ", z, 5, 5), Contains("not a window"));
}

TEST_CASE("miniseed windows: the index keeps record runs, checks them, and reads the same windows with them") {
    namespace data = strata::data;
    TempDir dir;
    std::filesystem::create_directories(dir / "tree");
    // One day-like file per channel, long enough for many records.
    for (const char *c : {"BHZ", "BHN", "BHE"})
        write_miniseed(dir / (std::string("tree/XX.AAA.") + c), {trace(c, 20.0, 24000)}, {MiniseedEncoding::steim2, 512});
    data::MiniseedWindowOptions options;
    options.window_seconds = 30;
    const std::string saved = dir / "index.json";
    const auto with_runs = data::MiniseedDataset::open(dir / "tree", options, saved);
    for (const auto &component : with_runs->index().stations.at(0).segments) {
        REQUIRE(component.size() == 1);
        CHECK(component[0].runs.size() == 1);
    }
    // The same windows from an index without runs (as saved before they existed): the header scan.
    nlohmann::json j = nlohmann::json::parse(std::ifstream(saved));
    for (auto &component : j["stations"][0]["segments"])
        for (auto &segment : component) segment.erase(4);
    dir.write("old-index.json", j.dump());
    const auto without = std::make_shared<data::MiniseedDataset>(data::MiniseedIndex::load(dir / "old-index.json"));
    CHECK(without->index().stations[0].segments[0][0].runs.empty());
    REQUIRE(without->size() == with_runs->size());
    for (int64_t w = 0; w < with_runs->size(); w += 7) {
        INFO("window " << w);
        const auto a = with_runs->get(w).at("waveform"), b = without->get(w).at("waveform");
        REQUIRE(a.numel() == b.numel());
        for (int64_t i = 0; i < a.numel(); i += 13) REQUIRE(a.get_flat(i) == b.get_flat(i));
    }
    // A corrupt record late in one file: the early windows still read (their records are sought);
    // the header scan of the old index fails on it.
    const uint64_t late = uint64_t(with_runs->index().stations[0].segments[0][0].runs[0].records - 2) * 512;
    scribble(dir / "tree/XX.AAA.BHZ", late);
    const data::MiniseedDataset seeking(with_runs->index());
    CHECK(seeking.get(0).at("waveform").numel() == 3 * 600);
    CHECK_THAT(error_message([&] { without->get(0); }), Contains("XX.AAA.BHZ") && Contains("bytes " + std::to_string(late)));

    // Runs in a saved index that do not fit the file it stamped are refused on load.
    nlohmann::json bad = nlohmann::json::parse(std::ifstream(saved));
    bad["stations"][0]["segments"][1][0][4][0] = {1u << 20, 512, 3};
    dir.write("bad-index.json", bad.dump());
    CHECK_THAT(error_message([&] { data::MiniseedIndex::load(dir / "bad-index.json"); }),
               Contains("bad-index.json: corrupt MiniSEED index") && Contains("record run") && Contains("XX.AAA.BHN"));
    bad["stations"][0]["segments"][1][0][4][0] = {0, 100, 3};
    dir.write("bad-index.json", bad.dump());
    CHECK_THAT(error_message([&] { data::MiniseedIndex::load(dir / "bad-index.json"); }), Contains("record length 128 to 2^20"));
    bad["stations"][0]["segments"][1][0][4][0] = {-5, 512, 3};
    dir.write("bad-index.json", bad.dump());
    CHECK_THAT(error_message([&] { data::MiniseedIndex::load(dir / "bad-index.json"); }), Contains("record run"));
    bad["stations"][0]["segments"][1][0][4] = "runs";
    dir.write("bad-index.json", bad.dump());
    CHECK_THAT(error_message([&] { data::MiniseedIndex::load(dir / "bad-index.json"); }), Contains("[file, start, rate, samples, runs]"));
}

TEST_CASE("miniseed windows: a saved index with overflowing, empty or overlapping runs is refused or read correctly") {
    namespace data = strata::data;
    TempDir dir;
    std::filesystem::create_directories(dir / "tree");
    for (const char *c : {"BHZ", "BHN", "BHE"})
        write_miniseed(dir / (std::string("tree/XX.AAA.") + c), {trace(c, 20.0, 6000)}, {MiniseedEncoding::steim2, 512});
    data::MiniseedWindowOptions options;
    options.window_seconds = 30;
    const std::string saved = dir / "index.json";
    const auto good = data::MiniseedDataset::open(dir / "tree", options, saved);
    const nlohmann::json original = nlohmann::json::parse(std::ifstream(saved));
    const auto run = original["stations"][0]["segments"][0][0][4][0];
    // Each tampered run: loading refuses it, or every window still reads what the good index reads.
    const std::vector<nlohmann::json> tampered = {
        {run[0], run[1], int64_t{1} << 62},                    // records x length overflows 64 bits
        {run[0], run[1], 0},                                    // no records
        {int64_t{1} << 62, run[1], 1},                          // offset far past the end
        {run[0], int64_t{1} << 40, 1},                          // absurd record length
        {run[0], run[1], -1},                                   // negative count
    };
    for (const nlohmann::json &bad_run : tampered) {
        INFO("run " << bad_run.dump());
        nlohmann::json bad = original;
        bad["stations"][0]["segments"][0][0][4][0] = bad_run;
        dir.write("bad-index.json", bad.dump());
        try {
            const data::MiniseedDataset tampered_set(data::MiniseedIndex::load(dir / "bad-index.json"));
            REQUIRE(tampered_set.size() == good->size());
            for (int64_t w = 0; w < good->size(); ++w) {
                const Tensor a = good->get(w).at("waveform");
                Tensor b;
                try {
                    b = tampered_set.get(w).at("waveform");
                } catch (const Error &) {
                    continue;  // refused when read: fine
                }
                REQUIRE(a.numel() == b.numel());
                for (int64_t i = 0; i < a.numel(); ++i) REQUIRE(a.get_flat(i) == b.get_flat(i));
            }
        } catch (const Error &e) {
            CHECK_THAT(std::string(e.what()), Contains("bad-index.json"));
        }
    }
    // Two overlapping runs of the same records.
    nlohmann::json twice = original;
    twice["stations"][0]["segments"][0][0][4].push_back(run);
    dir.write("twice-index.json", twice.dump());
    try {
        const data::MiniseedDataset doubled(data::MiniseedIndex::load(dir / "twice-index.json"));
        for (int64_t w = 0; w < good->size(); ++w) {
            Tensor b;
            try {
                b = doubled.get(w).at("waveform");
            } catch (const Error &) {
                continue;
            }
            const Tensor a = good->get(w).at("waveform");
            REQUIRE(a.numel() == b.numel());
            for (int64_t i = 0; i < a.numel(); ++i) REQUIRE(a.get_flat(i) == b.get_flat(i));
        }
    } catch (const Error &e) {
        CHECK_THAT(std::string(e.what()), Contains("twice-index.json"));
    }
}
