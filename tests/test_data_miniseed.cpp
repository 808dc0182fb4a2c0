// MiniSEED collections: windows of three components cut from a folder tree of files written
// here with libmseed's packer, checked sample by sample against the numbers written; gaps
// skipped or zero-filled with a mask; resampling against the analytic signal; the saved
// window index reused until the tree changes; every malformed input a strata::Error.
#include "runtime/data/loader.h"
#include "runtime/data/miniseed_dataset.h"

#include <catch2/catch.hpp>

#include "tests/support/error_message.h"
#include "tests/support/miniseed_writer.h"
#include "tests/support/temp_dir.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

using namespace strata::data;
using strata::testing::append_miniseed;
using strata::testing::error_message;
using strata::testing::MiniseedChannel;
using strata::testing::TempDir;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

constexpr double kT0 = 1577836800.0;  // 2020-01-01T00:00:00Z
constexpr double kRate = 10.0;

/// The count written for sample `k` (from kT0) of component `c` of station `s`.
int32_t count(int s, int c, int64_t k) { return int32_t(10000 * s + 1000 * c + k % 997); }

/// Samples [first, first + n) of component `c` of station `s`.
std::vector<int32_t> counts(int s, int c, int64_t first, int64_t n) {
    std::vector<int32_t> out;
    for (int64_t k = first; k < first + n; ++k) out.push_back(count(s, c, k));
    return out;
}

/// Three channels "XX.<station>.<loc>.<band><letter>" holding samples [first, first + n).
std::vector<MiniseedChannel> three(int s, const std::string &station, const std::string &loc,
                                   const std::string &band, const std::string &letters, int64_t first, int64_t n) {
    std::vector<MiniseedChannel> out;
    for (int c = 0; c < 3; ++c)
        out.push_back({"XX", station, loc, band + letters[size_t(c)], kT0 + double(first) / kRate, kRate,
                       counts(s, c, first, n)});
    return out;
}

/// The tree of the tests: AAA (BH, Z/N/E) 60 s continuing from day1/ into day2/, BBB
/// (location 00, HH, Z/1/2) 25 s from kT0 + 5 s, CCC with only BHZ and BHN.
void write_tree(const TempDir &dir, bool gap_in_aaa_north = false) {
    fs::create_directories(dir.path / "day1");
    fs::create_directories(dir.path / "day2");
    auto day1 = three(0, "AAA", "", "BH", "ZNE", 0, 300);
    if (gap_in_aaa_north) {  // samples 150..199 of BHN missing
        day1[1].samples = counts(0, 1, 0, 150);
        day1.push_back({"XX", "AAA", "", "BHN", kT0 + 20.0, kRate, counts(0, 1, 200, 100)});
    }
    append_miniseed(dir / "day1/XX.AAA.mseed", day1);
    append_miniseed(dir / "day2/XX.AAA.mseed", three(0, "AAA", "", "BH", "ZNE", 300, 300));
    append_miniseed(dir / "XX.BBB.mseed", three(1, "BBB", "00", "HH", "Z12", 50, 250));
    auto ccc = three(2, "CCC", "", "BH", "ZNE", 0, 100);
    ccc.pop_back();
    append_miniseed(dir / "XX.CCC.mseed", ccc);
}

MiniseedWindowOptions windows(double seconds, double stride, GapPolicy gaps = GapPolicy::skip) {
    MiniseedWindowOptions o;
    o.window_seconds = seconds;
    o.stride_seconds = stride;
    o.gaps = gaps;
    return o;
}

/// Checks every sample of window `i` against the counts written, where `present` says so.
template <typename Present>
void check_window(const MiniseedDataset &data, int64_t i, int station, double start, Present present) {
    INFO(data.describe(i));
    const Example e = data.get(i);
    REQUIRE(e.at("start_time").item() == Approx(start).margin(1e-6));
    const strata::Tensor w = e.at("waveform").to(strata::DType::f64);
    const int64_t L = data.index().window_samples;
    REQUIRE(w.shape() == strata::Shape{3, L});
    const auto first = std::llround((start - kT0) * kRate);
    for (int c = 0; c < 3; ++c)
        for (int64_t j = 0; j < L; ++j) {
            const bool here = present(c, first + j);
            const double expected = here ? count(station, c, first + j) : 0.0;
            REQUIRE(w.data<double>()[c * L + j] == expected);
            if (e.count("mask")) REQUIRE(e.at("mask").to(strata::DType::f64).data<double>()[c * L + j] == (here ? 1.0 : 0.0));
        }
}

}  // namespace

TEST_CASE("miniseed windows: three components per station, across day files, Z/N/E and Z/1/2") {
    TempDir dir;
    write_tree(dir);
    const auto data = MiniseedDataset::open(dir.path.string(), windows(10, 5), "");
    const MiniseedIndex &index = data->index();
    REQUIRE(index.stations.size() == 2);
    CHECK(index.stations[0].id == "XX.AAA..BH");
    CHECK(index.stations[0].components == "ZNE");
    CHECK(index.stations[1].id == "XX.BBB.00.HH");
    CHECK(index.stations[1].components == "Z12");
    REQUIRE(index.incomplete == std::vector<std::string>{"XX.CCC..BH (has NZ)"});
    REQUIRE(index.window_samples == 100);
    // AAA: samples 0..599, windows of 100 every 50: starts 0, 50, ..., 500 (11).
    // BBB: samples 50..299: starts 50, 100, 150, 200 (4).
    REQUIRE(data->size() == 15);
    for (int64_t i = 0; i < 11; ++i) check_window(*data, i, 0, kT0 + 5.0 * double(i), [](int, int64_t) { return true; });
    for (int64_t i = 0; i < 4; ++i)
        check_window(*data, 11 + i, 1, kT0 + 5.0 + 5.0 * double(i), [](int, int64_t) { return true; });
    CHECK_THAT(data->describe(5), Contains("XX.AAA..BH[ZNE] from 2020-01-01T00:00:25.000000Z"));
    // Window 5 (samples 250..349) is half in day1/, half in day2/: checked above sample by sample.

    const auto f64 = [&] {
        auto o = windows(10, 0);
        o.dtype = strata::DType::f64;
        return MiniseedDataset::open(dir.path.string(), o, "");
    }();
    REQUIRE(f64->size() == 6 + 2);  // stride 0 = one window length
    REQUIRE(f64->get(0).at("waveform").dtype() == strata::DType::f64);
    REQUIRE(f64->get(0).count("mask") == 0);
}

TEST_CASE("miniseed windows: a gap is skipped, or zero-filled with a mask") {
    TempDir dir;
    write_tree(dir, /*gap_in_aaa_north=*/true);
    const auto in_gap = [](int c, int64_t k) { return !(c == 1 && k >= 150 && k < 200); };

    const auto skipped = MiniseedDataset::open(dir.path.string(), windows(10, 5), "");
    // AAA's three components together cover samples 0..149 (starts 0, 50) and 200..599
    // (starts 200, 250, ..., 500); BBB as before.
    REQUIRE(skipped->size() == 2 + 7 + 4);
    const std::vector<double> aaa_starts = {0, 5, 20, 25, 30, 35, 40, 45, 50};
    for (size_t i = 0; i < aaa_starts.size(); ++i)
        check_window(*skipped, int64_t(i), 0, kT0 + aaa_starts[i], [](int, int64_t) { return true; });

    const auto filled = MiniseedDataset::open(dir.path.string(), windows(10, 5, GapPolicy::zero_fill), "");
    // AAA: starts 0, 5, ..., 55 (the last ones run past the data); BBB: 50..299 -> starts 50..250.
    REQUIRE(filled->size() == 12 + 5);
    for (int64_t i = 0; i < 12; ++i)
        check_window(*filled, i, 0, kT0 + 5.0 * double(i),
                     [&](int c, int64_t k) { return k < 600 && in_gap(c, k); });
    check_window(*filled, 16, 1, kT0 + 25.0, [](int, int64_t k) { return k < 300; });
}

TEST_CASE("miniseed windows: resampling to a common rate follows the analytic signal and does not alias") {
    TempDir dir;
    // A slow sine at 20 Hz (station S20) and at 50 Hz (S50), 60 s each; and a 4 Hz sine at 50 Hz (HF).
    auto sine = [](double rate, double hz, int64_t n) {
        std::vector<int32_t> out;
        for (int64_t k = 0; k < n; ++k) out.push_back(int32_t(std::lround(10000.0 * std::sin(2 * M_PI * hz * double(k) / rate))));
        return out;
    };
    std::vector<MiniseedChannel> channels;
    for (const char *letter : {"Z", "N", "E"}) {
        channels.push_back({"XX", "S20", "", std::string("BH") + letter, kT0, 20.0, sine(20.0, 0.25, 1200)});
        channels.push_back({"XX", "S50", "", std::string("HH") + letter, kT0, 50.0, sine(50.0, 0.25, 3000)});
    }
    append_miniseed(dir / "slow.mseed", channels);

    const std::string mixed = error_message([&] { MiniseedDataset::open(dir.path.string(), windows(10, 0), ""); });
    CHECK_THAT(mixed, Contains("slow.mseed") && Contains("50 Hz") && Contains("20 Hz") && Contains("sampling_rate"));

    for (double rate : {10.0, 40.0}) {
        INFO("to " << rate << " Hz");
        auto o = windows(10, 0);
        o.sampling_rate = rate;
        const auto data = MiniseedDataset::open(dir.path.string(), o, "");
        REQUIRE(data->index().window_samples == int64_t(10 * rate));
        // Windows whose samples all lie within the data: at 40 Hz the last one of S20 would need
        // a sample 0.025 s past its last one.
        REQUIRE(data->size() == (rate == 10.0 ? 12 : 11));
        double worst_inside = 0.0, worst = 0.0;
        for (int64_t i = 0; i < data->size(); ++i) {
            const Example e = data->get(i);
            const strata::Tensor w = e.at("waveform").to(strata::DType::f64);
            const double start = e.at("start_time").item();
            for (int c = 0; c < 3; ++c)
                for (int64_t j = 0; j < int64_t(10 * rate); ++j) {
                    const double t = start - kT0 + double(j) / rate;
                    const double error = std::fabs(w.data<double>()[c * int64_t(10 * rate) + j] -
                                                   10000.0 * std::sin(2 * M_PI * 0.25 * t));
                    worst = std::max(worst, error);
                    if (t > 1.0 && t < 58.0) worst_inside = std::max(worst_inside, error);
                }
        }
        CHECK(worst_inside < 5.0);  // of 10000: rounding of the counts and the interpolation
        CHECK(worst < 2000.0);      // at the ends of the data the kernel is one-sided
    }

    TempDir high;
    std::vector<MiniseedChannel> hf;
    for (const char *letter : {"Z", "N", "E"})
        hf.push_back({"XX", "HF", "", std::string("HH") + letter, kT0, 50.0, sine(50.0, 4.0, 3000)});
    append_miniseed(high / "hf.mseed", hf);
    auto o = windows(20, 0);
    o.sampling_rate = 5.0;  // Nyquist 2.5 Hz: a 4 Hz sine must be filtered out, not fold to 1 Hz
    const auto data = MiniseedDataset::open(high.path.string(), o, "");
    const strata::Tensor w = data->get(1).at("waveform").to(strata::DType::f64);
    double energy = 0.0;
    for (int64_t j = 0; j < w.numel(); ++j) energy += w.data<double>()[j] * w.data<double>()[j];
    CHECK(std::sqrt(energy / double(w.numel())) < 0.05 * 10000.0 / std::sqrt(2.0));
}

TEST_CASE("miniseed windows: the saved index is reused until the files or the options change") {
    TempDir dir;
    write_tree(dir);
    const std::string index_path = dir / ".strata-index.json";
    const auto built = MiniseedDataset::open(dir.path.string(), windows(10, 5), index_path);
    REQUIRE_FALSE(built->loaded_saved_index());
    REQUIRE(fs::exists(index_path));
    const auto loaded = MiniseedDataset::open(dir.path.string(), windows(10, 5), index_path);
    REQUIRE(loaded->loaded_saved_index());
    REQUIRE(loaded->size() == built->size());
    for (int64_t i = 0; i < built->size(); ++i) {
        REQUIRE(loaded->index().windows[size_t(i)].start == built->index().windows[size_t(i)].start);
        REQUIRE(loaded->index().windows[size_t(i)].station == built->index().windows[size_t(i)].station);
    }
    const Example a = built->get(7), b = loaded->get(7);
    REQUIRE(a.at("waveform").to(strata::DType::f64).data<double>()[123] ==
            b.at("waveform").to(strata::DType::f64).data<double>()[123]);

    REQUIRE_FALSE(MiniseedDataset::open(dir.path.string(), windows(10, 10), index_path)->loaded_saved_index());
    REQUIRE(MiniseedDataset::open(dir.path.string(), windows(10, 10), index_path)->loaded_saved_index());
    // A new day of BBB: the tree changed, so the index is built again and has its windows.
    fs::create_directories(dir.path / "day3");
    append_miniseed(dir / "day3/XX.BBB.mseed", three(1, "BBB", "00", "HH", "Z12", 300, 100));
    const auto grown = MiniseedDataset::open(dir.path.string(), windows(10, 10), index_path);
    REQUIRE_FALSE(grown->loaded_saved_index());
    REQUIRE(grown->size() == 6 + 3);  // BBB now 50..399: starts 50, 150, 250
}

TEST_CASE("miniseed windows: a malformed index file is an error naming it and the item") {
    TempDir dir;
    write_tree(dir);
    const std::string index_path = dir / ".index.json";
    MiniseedDataset::open(dir.path.string(), windows(10, 5), index_path);
    std::ifstream in(index_path);
    const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

    auto load_error = [&](const std::string &text) {
        std::ofstream(index_path, std::ios::trunc) << text;
        return error_message([&] { MiniseedIndex::load(index_path); });
    };
    CHECK_THAT(load_error(good.substr(0, good.size() / 2)), Contains(index_path) && Contains("not JSON"));
    CHECK_THAT(load_error("{}"), Contains(index_path) && Contains("not a MiniSEED index"));
    auto edited = [&](const std::string &from, const std::string &to) {
        std::string text = good;
        const auto at = text.find(from);
        REQUIRE(at != std::string::npos);
        return text.replace(at, from.size(), to);
    };
    CHECK_THAT(load_error(edited("\"components\":\"ZNE\"", "\"components\":\"ZZZ\"")),
               Contains("stations[0]") && Contains("ZZZ"));
    CHECK_THAT(load_error(edited("\"windows\":[", "\"windows\":[[7,0.0],")),
               Contains("windows[0]") && Contains("station below 2"));
    CHECK_THAT(load_error(edited("\"segments\":[[", "\"segments\":[[[99,0.0,10.0,5],")),
               Contains("stations[0].segments[0]") && Contains("file number below 4"));
    CHECK_THAT(load_error(edited("\"window_seconds\":", "\"window_seconds\":\"ten\",\"x\":")),
               Contains("window_seconds") && Contains("number"));
    // A FIFO planted as the index is refused at once instead of blocking in open().
    const std::string fifo_path = dir / "fifo.index.json";
    REQUIRE(mkfifo(fifo_path.c_str(), 0600) == 0);
    CHECK_THAT(error_message([&] { MiniseedIndex::load(fifo_path); }), Contains(fifo_path) && Contains("FIFO"));
    // open() reports the corrupt index too, rather than silently reading something else.
    CHECK_THAT(error_message([&] { MiniseedDataset::open(dir.path.string(), windows(10, 5), index_path); }),
               Contains(index_path));
}

TEST_CASE("miniseed windows: every truncation and many edits of a saved index load cleanly or are a strata::Error") {
    TempDir dir;
    write_tree(dir, /*gap_in_aaa_north=*/true);
    const std::string index_path = dir / ".index.json";
    MiniseedDataset::open(dir.path.string(), windows(10, 5, GapPolicy::zero_fill), index_path);
    std::ifstream in(index_path);
    const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Whatever loads must also read (or fail with a strata::Error): no crash, no other exception.
    int64_t loaded = 0, refused = 0;
    auto attempt = [&](const std::string &text) {
        std::ofstream(index_path, std::ios::trunc | std::ios::binary) << text;
        try {
            const MiniseedDataset data(MiniseedIndex::load(index_path));
            for (int64_t i : {int64_t(0), data.size() - 1}) (void)data.get(i);
            ++loaded;
        } catch (const strata::Error &) {
            ++refused;
        }
    };
    for (size_t n = 0; n < good.size(); ++n) attempt(good.substr(0, n));
    for (size_t at = 0; at < good.size(); ++at)
        for (char c : {'0', '9', '-', 'e', '"', ']'}) {
            std::string text = good;
            text[at] = c;
            attempt(text);
        }
    CHECK(refused > int64_t(good.size()));  // every truncation at least
    CHECK(loaded > 0);                      // and edited numbers that still make sense
}

TEST_CASE("miniseed windows: bad folders, files and options are errors naming them") {
    TempDir dir;
    CHECK_THAT(error_message([&] { MiniseedIndex::build(dir / "missing", windows(10, 0)); }),
               Contains("missing") && Contains("not a folder"));
    CHECK_THAT(error_message([&] { MiniseedIndex::build(dir.path.string(), windows(10, 0)); }),
               Contains("no files"));
    CHECK_THAT(error_message([&] { MiniseedIndex::build(dir.path.string(), windows(0, 0)); }),
               Contains("window_seconds is 0"));
    CHECK_THAT(error_message([&] { MiniseedIndex::build(dir.path.string(), windows(NAN, 0)); }),
               Contains("window_seconds is nan"));
    CHECK_THAT(error_message([&] { MiniseedIndex::build(dir.path.string(), windows(10, -1)); }),
               Contains("stride_seconds is -1"));
    auto bad_rate = windows(10, 0);
    bad_rate.sampling_rate = INFINITY;
    CHECK_THAT(error_message([&] { MiniseedIndex::build(dir.path.string(), bad_rate); }), Contains("sampling_rate is inf"));
    auto bad_dtype = windows(10, 0);
    bad_dtype.dtype = strata::DType::i32;
    CHECK_THAT(error_message([&] { MiniseedIndex::build(dir.path.string(), bad_dtype); }), Contains("dtype is i32"));

    write_tree(dir);
    dir.write(".notes", "hidden files are not data");
    REQUIRE(MiniseedIndex::build(dir.path.string(), windows(10, 0)).windows.size() == 8);
    CHECK_THAT(error_message([&] { MiniseedIndex::build(dir.path.string(), windows(1e-9, 0)); }),
               Contains("samples; expected 1 to 2^31"));
    CHECK_THAT(error_message([&] { MiniseedDataset::open(dir.path.string(), windows(100, 0), ""); }),
               Contains("no 100-second window"));
    const std::string notes = dir.write("day1/notes.txt", "not a seismogram");
    CHECK_THAT(error_message([&] { MiniseedIndex::build(dir.path.string(), windows(10, 0)); }),
               Contains(notes) && Contains("not a MiniSEED file"));
    fs::remove(notes);
    append_miniseed(dir / "two_letters.mseed", {{"XX", "DDD", "", "BH", kT0, kRate, counts(3, 0, 0, 10)}});
    CHECK_THAT(error_message([&] { MiniseedIndex::build(dir.path.string(), windows(10, 0)); }),
               Contains("two_letters.mseed") && Contains("XX.DDD..BH") && Contains("expected 3"));
    fs::remove(dir / "two_letters.mseed");

    // A file cut short after indexing: the error names the window and the file.
    const auto data = MiniseedDataset::open(dir.path.string(), windows(10, 0), "");
    fs::resize_file(dir / "day2/XX.AAA.mseed", 700);
    const std::string cut = error_message([&] { data->get(4); });
    CHECK_THAT(cut, Contains("window 4") && Contains("XX.AAA..BH") && Contains("day2/XX.AAA.mseed") &&
                        Contains("truncated"));
    CHECK_THAT(error_message([&] { data->get(8); }), Contains("window 8 is out of range") && Contains("8 windows"));
}

TEST_CASE("miniseed windows: a DataLoader with worker threads batches them") {
    TempDir dir;
    write_tree(dir, /*gap_in_aaa_north=*/true);
    const auto data = MiniseedDataset::open(dir.path.string(), windows(10, 5, GapPolicy::zero_fill), "");
    LoaderOptions options;
    options.batch_size = 4;
    options.num_workers = 2;
    options.shuffle = false;
    DataLoader loader(data, options);
    loader.set_epoch(0);
    int64_t batches = 0;
    while (auto batch = loader.next()) {
        REQUIRE(batch->at("waveform").shape() == strata::Shape{4, 3, 100});
        REQUIRE(batch->at("mask").shape() == strata::Shape{4, 3, 100});
        REQUIRE(batch->at("start_time").shape() == strata::Shape{4});
        const Example first = data->get(4 * batches);
        REQUIRE(batch->at("start_time").to(strata::DType::f64).data<double>()[0] == first.at("start_time").item());
        ++batches;
    }
    REQUIRE(batches == data->size() / 4);
}

TEST_CASE("miniseed windows: a window decodes only its own records, so a corrupt record elsewhere spoils only its windows") {
    TempDir dir;
    // One file, 300 s per channel: Z's records, then N's, then E's (512-byte Steim-2 records).
    append_miniseed(dir / "XX.AAA.mseed", three(0, "AAA", "", "BH", "ZNE", 0, 3000));
    const MiniseedDataset data(MiniseedIndex::build(dir.path.string(), windows(10, 0)));
    REQUIRE(data.size() == 30);
    // Then break the Steim-2 integrity constant (bytes 8..11 of the first data frame, at byte
    // 64) of the file's last record: the end of BHE.
    const auto size = int64_t(fs::file_size(dir / "XX.AAA.mseed"));
    REQUIRE(size % 512 == 0);
    {
        std::fstream f(dir / "XX.AAA.mseed", std::ios::binary | std::ios::in | std::ios::out);
        f.seekp(size - 512 + 64 + 8);
        f.write("\x12\x34\x56\x78", 4);
        REQUIRE(f.good());
    }
    // The first windows are read, sample for sample, without decoding that record ...
    for (int64_t i = 0; i < 5; ++i) check_window(data, i, 0, kT0 + 10.0 * double(i), [](int, int64_t) { return true; });
    // ... the last one needs it, and says which window and file.
    CHECK_THAT(error_message([&] { data.get(29); }),
               Contains("window 29, XX.AAA..BH[ZNE] from 2020-01-01T00:04:50.000000Z") &&
                   Contains("XX.AAA.mseed: corrupt record at byte " + std::to_string(size - 512)) && Contains("integrity"));
}
