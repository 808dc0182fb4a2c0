// The SEG-Y patch dataset (runtime/data/segy_dataset.h) on files the tests write with
// libsegyio: 3-D volumes sorted either way, in IEEE and IBM float, a 2-D line, patches on a
// grid and at random, labels from a second file, and every malformed file named.
#include "runtime/data/segy_dataset.h"

#include "support/error_message.h"
#include "support/segy_writer.h"
#include "support/temp_dir.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <set>
#include <thread>

using namespace strata;
using namespace strata::data;
using strata::testing::error_message;
using strata::testing::SegyWriteOptions;
using strata::testing::TempDir;
using strata::testing::write_segy;

namespace {

const std::vector<int> kInlines = {10, 11, 12, 13}, kCrosslines = {100, 102, 104, 106, 108};
constexpr int kSamples = 12;

/// The amplitude at inline position i, crossline position x, sample k: it encodes where it is.
double amplitude(int i, int x, int k) { return i * 1000 + x * 10 + k + 0.5; }
int facies(int i, int x, int k) { return (i + 2 * x + k) % 3; }

SegyWriteOptions volume_options(int format = SEGY_IEEE_FLOAT_4_BYTE, bool inline_sorted = true) {
    return {.samples = kSamples, .format = format, .inlines = kInlines, .crosslines = kCrosslines,
            .inline_sorted = inline_sorted};
}

/// Checks patch `example` against the formulas, with its corner at (i0, x0, k0).
void check_volume_patch(const Example &example, const std::vector<int64_t> &patch, int64_t i0, int64_t x0, int64_t k0,
                        bool labelled) {
    const Tensor &image = example.at("image");
    REQUIRE(image.shape() == Shape{1, patch[0], patch[1], patch[2]});
    for (int64_t i = 0; i < patch[0]; ++i)
        for (int64_t x = 0; x < patch[1]; ++x)
            for (int64_t k = 0; k < patch[2]; ++k) {
                REQUIRE(image.at<float>({0, i, x, k}) == amplitude(i0 + i, x0 + x, k0 + k));
                if (labelled) REQUIRE(example.at("label").at<int32_t>({i, x, k}) == facies(i0 + i, x0 + x, k0 + k));
            }
}

}  // namespace

TEST_CASE("SEG-Y volume: patches on a covering grid, with labels from a second file", "[data][segy]") {
    TempDir dir;
    for (const bool inline_sorted : {true, false}) {
        for (const int format : {SEGY_IEEE_FLOAT_4_BYTE, SEGY_IBM_FLOAT_4_BYTE}) {
            INFO("inline sorted " << inline_sorted << ", format " << format);
            write_segy(dir / "seismic.sgy", volume_options(format, inline_sorted), amplitude);
            write_segy(dir / "facies.sgy", volume_options(SEGY_SIGNED_SHORT_2_BYTE, !inline_sorted),
                       [](int i, int x, int k) { return facies(i, x, k); });
            const SegyPatchDataset dataset(
                {.path = dir / "seismic.sgy", .label_path = dir / "facies.sgy", .patch = {2, 3, 5}});
            CHECK(dataset.extents() == std::vector<int64_t>{4, 5, kSamples});
            // Corners: inlines {0, 2}, crosslines {0, 2} (the last moved to the end), samples {0, 5, 7}.
            REQUIRE(dataset.size() == 12);
            std::set<std::vector<int64_t>> seen;
            for (int64_t n = 0; n < 12; ++n) {
                const Example example = dataset.get(n);
                const Tensor &image = example.at("image");
                const auto corner_value = static_cast<int64_t>(image.at<float>({0, 0, 0, 0}));
                const int64_t i0 = corner_value / 1000, x0 = corner_value % 1000 / 10, k0 = corner_value % 10;
                seen.insert({i0, x0, k0});
                check_volume_patch(example, {2, 3, 5}, i0, x0, k0, true);
                CHECK(example.at("label").dtype() == DType::i32);
            }
            CHECK(seen == std::set<std::vector<int64_t>>{{0, 0, 0}, {0, 0, 5}, {0, 0, 7}, {0, 2, 0}, {0, 2, 5}, {0, 2, 7},
                                                         {2, 0, 0}, {2, 0, 5}, {2, 0, 7}, {2, 2, 0}, {2, 2, 5}, {2, 2, 7}});
            CHECK(dataset.describe(0) == "seismic.sgy: patch 0 at inlines 10..11, crosslines 100..104, samples 0..4");
        }
    }
}

TEST_CASE("SEG-Y volume: seeded random patches, the same for the same seed", "[data][segy]") {
    TempDir dir;
    write_segy(dir / "seismic.sgy", volume_options(), amplitude);
    const SegyPatchOptions options{.path = dir / "seismic.sgy", .patch = {1, 4, 6}, .random_patches = 40, .seed = 9};
    const SegyPatchDataset a(options), b(options);
    SegyPatchOptions other = options;
    other.seed = 10;
    const SegyPatchDataset c(other);
    REQUIRE(a.size() == 40);
    std::set<std::string> corners;
    bool differs = false;
    for (int64_t n = 0; n < 40; ++n) {
        CHECK(a.describe(n) == b.describe(n));
        differs |= a.describe(n) != c.describe(n);
        const Example example = a.get(n);
        const auto corner_value = static_cast<int64_t>(example.at("image").at<float>({0, 0, 0, 0}));
        check_volume_patch(example, {1, 4, 6}, corner_value / 1000, corner_value % 1000 / 10, corner_value % 10, false);
        CHECK(example.count("label") == 0);
        corners.insert(a.describe(n).substr(a.describe(n).find(" at ")));
    }
    CHECK(differs);
    CHECK(corners.size() > 10);
}

TEST_CASE("SEG-Y line: traces in file order, a strided grid, integer samples", "[data][segy]") {
    TempDir dir;
    write_segy(dir / "line.sgy",
               {.samples = 8, .format = SEGY_SIGNED_INTEGER_4_BYTE, .inlines = {1}, .crosslines = {1, 2, 3, 4, 5, 6, 7, 8, 9}},
               [](int, int x, int k) { return -100 * x - k; });
    const SegyPatchDataset dataset(
        {.path = dir / "line.sgy", .geometry = SegyGeometry::line_2d, .patch = {4, 8}, .stride = {2, 8}});
    CHECK(dataset.extents() == std::vector<int64_t>{9, 8});
    REQUIRE(dataset.size() == 4);  // traces 0, 2, 4 and 5 (the end)
    const std::vector<int64_t> starts = {0, 2, 4, 5};
    for (int64_t n = 0; n < 4; ++n) {
        const Tensor image = dataset.get(n).at("image");
        REQUIRE(image.shape() == Shape{1, 4, 8});
        for (int64_t x = 0; x < 4; ++x)
            for (int64_t k = 0; k < 8; ++k) REQUIRE(image.at<float>({0, x, k}) == -100.0 * (starts[n] + x) - k);
    }
    CHECK(dataset.describe(3) == "line.sgy: patch 3 at traces 5..8, samples 0..7");
}

TEST_CASE("SEG-Y: malformed files and options are errors naming the file and what was expected", "[data][segy]") {
    TempDir dir;
    const std::string good = dir / "good.sgy";
    write_segy(good, volume_options(), amplitude);
    const auto open = [&](const std::string &path, std::vector<int64_t> patch = {2, 2, 4}) {
        return error_message([&] { SegyPatchDataset({.path = path, .patch = patch}); });
    };
    CHECK_THAT(open(dir.write("short.sgy", "not seg-y")), Catch::Contains("short.sgy: 9 bytes, too short"));
    CHECK_THAT(open(dir.write("zeros.sgy", std::string(4000, '\0'))), Catch::Contains("zeros.sgy: sample format code 0"));
    CHECK_THAT(open(dir / "missing.sgy"), Catch::Contains("missing.sgy"));
    {
        std::ifstream in(good, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        CHECK_THAT(open(dir.write("cut.sgy", bytes.substr(0, bytes.size() - 10))),
                   Catch::Contains("cut.sgy") && Catch::Contains("not whole traces"));
        std::string little = bytes;
        std::swap(little[3224], little[3225]);
        CHECK_THAT(open(dir.write("little.sgy", little)), Catch::Contains("little-endian"));
    }
    CHECK_THAT(open(good, {2, 2}), Catch::Contains("patch has 2 extents; expected {inlines, crosslines, samples}"));
    CHECK_THAT(open(good, {5, 2, 4}), Catch::Contains("patch 5x2x4 does not fit in the file's extents 4x5x12"));
    CHECK_THROWS_AS(SegyPatchDataset({.path = good, .patch = {2, 2, 4}, .stride = {0, 1, 1}}), Error);

    // A trace header out of place.
    const std::string shuffled = dir / "shuffled.sgy";
    write_segy(shuffled, volume_options(), amplitude);
    {
        segy_file *file = segy_open(shuffled.c_str(), "r+b");
        REQUIRE(file != nullptr);
        const int trace_bytes = segy_trsize(SEGY_IEEE_FLOAT_4_BYTE, kSamples);
        char header[SEGY_TRACE_HEADER_SIZE];
        REQUIRE(segy_traceheader(file, 13, header, 3600, trace_bytes) == SEGY_OK);
        segy_set_field(header, SEGY_TR_CROSSLINE, 555);
        REQUIRE(segy_write_traceheader(file, 13, header, 3600, trace_bytes) == SEGY_OK);
        segy_close(file);
    }
    CHECK_THAT(open(shuffled), Catch::Contains("shuffled.sgy") && Catch::Contains("crossline 555"));

    // Labels of another geometry, labels that are not classes, samples that are not finite.
    SegyWriteOptions smaller = volume_options();
    smaller.samples = 10;
    write_segy(dir / "small.sgy", smaller, [](int, int, int) { return 1; });
    CHECK_THAT(error_message([&] { SegyPatchDataset({.path = good, .label_path = dir / "small.sgy", .patch = {1, 1, 1}}); }),
               Catch::Contains("small.sgy: the labels' geometry (20 traces of 10 samples"));
    write_segy(dir / "half.sgy", volume_options(), [](int i, int, int k) { return i == 3 && k == 2 ? 0.5 : 1.0; });
    const SegyPatchDataset half({.path = good, .label_path = dir / "half.sgy", .patch = {4, 5, 12}});
    CHECK_THAT(error_message([&] { half.get(0); }),
               Catch::Contains("half.sgy: the label at inline 13, crossline 100, sample 2 is 0.5"));
    write_segy(dir / "nan.sgy", volume_options(), [](int i, int x, int k) { return i == 1 && x == 4 && k == 7 ? NAN : 0.0; });
    const SegyPatchDataset with_nan({.path = dir / "nan.sgy", .patch = {2, 5, 12}});
    CHECK_NOTHROW(with_nan.get(1));
    CHECK_THAT(error_message([&] { with_nan.get(0); }),
               Catch::Contains("nan.sgy: inline 11, crossline 108, sample 7 is nan") &&
                   Catch::Contains("patch 0 at inlines 10..11"));
    CHECK_THAT(error_message([&] { with_nan.get(2); }), Catch::Contains("index 2 is out of range for 2 patches"));
}

TEST_CASE("SEG-Y patches read from several threads at once are the same", "[data][segy]") {
    TempDir dir;
    write_segy(dir / "seismic.sgy", volume_options(), amplitude);
    const SegyPatchDataset dataset({.path = dir / "seismic.sgy", .patch = {1, 1, kSamples}});
    REQUIRE(dataset.size() == 20);
    std::vector<int> mismatches(4, 0);
    std::vector<std::thread> threads;
    for (int w = 0; w < 4; ++w)
        threads.emplace_back([&, w] {
            for (int round = 0; round < 100; ++round) {
                const int64_t n = (w * 7 + round) % 20;
                const Tensor image = dataset.get(n).at("image");
                for (int k = 0; k < kSamples; ++k)
                    mismatches[w] += image.at<float>({0, 0, 0, k}) != amplitude(n / 5, n % 5, k);
            }
        });
    for (std::thread &thread : threads) thread.join();
    CHECK(mismatches == std::vector<int>(4, 0));
}
