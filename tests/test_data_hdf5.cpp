// The HDF5 datasets (runtime/data/hdf5_dataset.h) on files the tests write with the HDF5 C API:
// a STEAD-like file (one dataset per trace, metadata in attributes or in a CSV) and one large
// [N, C, L] array with labels beside it; every malformed item named by file and trace.
#include "runtime/data/hdf5_dataset.h"
#include "runtime/data/transforms/window.h"

#include "support/error_message.h"
#include "support/hdf5_writer.h"
#include "support/temp_dir.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <thread>

using namespace strata;
using namespace strata::data;
using strata::testing::error_message;
using strata::testing::Hdf5Writer;
using strata::testing::TempDir;

namespace {

constexpr int64_t kLength = 40, kChannels = 3;

/// Sample t of channel c of trace `trace`: distinct everywhere, so a transposition shows.
float sample(int trace, int64_t c, int64_t t) { return static_cast<float>(trace * 1000 + c * 100 + t) * 0.5f; }

/// Trace `trace` as stored: [L, C] (STEAD) or [C, L].
std::vector<float> stored_trace(int trace, bool samples_first) {
    std::vector<float> values;
    for (int64_t i = 0; i < kLength * kChannels; ++i) {
        const int64_t c = samples_first ? i % kChannels : i / kLength, t = samples_first ? i / kChannels : i % kLength;
        values.push_back(sample(trace, c, t));
    }
    return values;
}

void check_waveform(const Tensor &waveform, int trace) {
    REQUIRE(waveform.shape() == Shape{kChannels, kLength});
    REQUIRE(waveform.dtype() == DType::f32);
    for (int64_t c = 0; c < kChannels; ++c)
        for (int64_t t = 0; t < kLength; ++t) REQUIRE(waveform.at<float>({c, t}) == sample(trace, c, t));
}

/// A STEAD-like file: group "data", traces named in reverse order of creation, P/S arrivals
/// and the category as attributes (the noise trace has empty picks, as STEAD's do).
std::string write_stead(const TempDir &dir, bool samples_first = true) {
    const std::string path = dir / "stead.h5";
    Hdf5Writer writer(path);
    const hid_t data = writer.group("data");
    const std::vector<std::string> names = {"C.STA3_EV", "B.STA2_NO", "A.STA1_EV"};
    const std::vector<hsize_t> extents = samples_first ? std::vector<hsize_t>{kLength, kChannels}
                                                       : std::vector<hsize_t>{kChannels, kLength};
    for (int i = 0; i < 3; ++i) {
        const int trace = 2 - i;  // A.STA1_EV is trace 0 in name order
        const hid_t dataset = writer.floats(data, names[i], extents, stored_trace(trace, samples_first));
        if (names[i].find("_NO") != std::string::npos) {
            writer.text_attribute(dataset, "p_arrival_sample", "");
            writer.text_attribute(dataset, "s_arrival_sample", "", false);
            writer.text_attribute(dataset, "trace_category", "noise");
        } else {
            writer.number_attribute(dataset, "p_arrival_sample", 10.0 + trace);
            writer.text_attribute(dataset, "s_arrival_sample", fmt::format("{}", 20.5 + trace));
            writer.text_attribute(dataset, "trace_category", "earthquake_local", trace == 0);
        }
    }
    return path;
}

Hdf5TraceOptions stead_options(const std::string &path) {
    return {.path = path, .label_field = "trace_category", .label_classes = {"noise", "earthquake_local"}};
}

}  // namespace

TEST_CASE("HDF5 traces: a STEAD-like file with metadata in attributes", "[data][hdf5]") {
    TempDir dir;
    const Hdf5TraceDataset dataset(stead_options(write_stead(dir)));
    REQUIRE(dataset.size() == 3);
    CHECK(dataset.trace_name(0) == "A.STA1_EV");
    CHECK(dataset.describe(1) == "stead.h5: trace 'B.STA2_NO'");
    for (int trace : {0, 2}) {
        const Example example = dataset.get(trace);
        check_waveform(example.at("waveform"), trace);
        CHECK(example.at("p_arrival_sample").item() == 10.0 + trace);
        CHECK(example.at("s_arrival_sample").item() == 20.5 + trace);
        CHECK(example.at("label").dtype() == DType::i32);
        CHECK(example.at("label").item() == 1);
    }
    const Example noise = dataset.get(1);
    check_waveform(noise.at("waveform"), 1);
    CHECK(std::isnan(noise.at("p_arrival_sample").item()));
    CHECK(std::isnan(noise.at("s_arrival_sample").item()));
    CHECK(noise.at("label").item() == 0);
    CHECK(noise.at("p_arrival_sample").shape().empty());

    // The picks follow a crop of the waveform read from the file.
    Example cropped = dataset.get(0);
    Generator rng(5);
    RandomCrop({.length = 20, .picks = {"p_arrival_sample"}, .keep_pick = "p_arrival_sample"}).apply(cropped, rng);
    const double p = cropped.at("p_arrival_sample").item();
    REQUIRE(p >= 0);
    REQUIRE(p < 20);
    const int64_t offset = 10 - static_cast<int64_t>(p);
    CHECK(cropped.at("waveform").at<float>({1, 0}) == sample(0, 1, offset));
}

TEST_CASE("HDF5 traces: channels-first layout", "[data][hdf5]") {
    TempDir dir;
    Hdf5TraceOptions options = stead_options(write_stead(dir, false));
    options.layout = TraceLayout::channels_by_samples;
    const Hdf5TraceDataset dataset(options);
    for (int trace = 0; trace < 3; ++trace) check_waveform(dataset.get(trace).at("waveform"), trace);
}

TEST_CASE("HDF5 traces: metadata from a CSV, in the CSV's order, empty fields as NaN", "[data][hdf5]") {
    TempDir dir;
    const std::string path = write_stead(dir);
    const std::string csv = dir.write("meta.csv", "\xEF\xBB\xBFtrace_name,p_arrival_sample,s_arrival_sample,"
                                                  "trace_category,coda\r\n"
                                                  "C.STA3_EV,12,30.25,earthquake_local,\"[[1, 2]]\"\r\n"
                                                  "B.STA2_NO,,,noise,\"say \"\"hi\"\"\"\r\n");
    Hdf5TraceOptions options = stead_options(path);
    options.metadata_csv = csv;
    const Hdf5TraceDataset dataset(options);
    REQUIRE(dataset.size() == 2);
    const Example first = dataset.get(0);
    check_waveform(first.at("waveform"), 2);
    CHECK(first.at("p_arrival_sample").item() == 12.0);  // the CSV's, not the attribute's
    CHECK(first.at("s_arrival_sample").item() == 30.25);
    CHECK(first.at("label").item() == 1);
    const Example second = dataset.get(1);
    CHECK(std::isnan(second.at("p_arrival_sample").item()));
    CHECK(second.at("label").item() == 0);

    // A row naming a trace the file lacks, and a number that is not one.
    options.metadata_csv = dir.write("bad.csv", "trace_name,p_arrival_sample,s_arrival_sample,trace_category\n"
                                                "A.STA1_EV,1,2,noise\nZ.MISSING,1,2,noise\nA.STA1_EV,x1,2,noise\n");
    const Hdf5TraceDataset bad(options);
    CHECK(bad.get(0).at("p_arrival_sample").item() == 1.0);
    CHECK_THAT(error_message([&] { bad.get(1); }),
               Catch::Contains("stead.h5: trace 'Z.MISSING'") && Catch::Contains("no such dataset"));
    CHECK_THAT(error_message([&] { bad.get(2); }),
               Catch::Contains("bad.csv:4") && Catch::Contains("'p_arrival_sample' is 'x1'"));
    options.numeric_fields = {"p_travel_sec"};
    CHECK_THAT(error_message([&] { Hdf5TraceDataset{options}; }),
               Catch::Contains("no column 'p_travel_sec'") && Catch::Contains("trace_name, p_arrival_sample"));
    options.metadata_csv = dir.write("ragged.csv", "trace_name,p\nA,1,2\n");
    CHECK_THAT(error_message([&] { Hdf5TraceDataset{options}; }), Catch::Contains("ragged.csv:2: 3 fields"));
    options.metadata_csv = dir.write("quote.csv", "trace_name\n\"A\n");
    CHECK_THAT(error_message([&] { Hdf5TraceDataset{options}; }), Catch::Contains("unterminated quote"));
}

TEST_CASE("HDF5 traces: every malformed trace is an error naming the file and the trace", "[data][hdf5]") {
    TempDir dir;
    const std::string path = dir / "broken.h5";
    {
        Hdf5Writer writer(path);
        const hid_t data = writer.group("data");
        writer.floats(data, "a_good", {kLength, kChannels}, stored_trace(0, true));
        writer.floats(data, "b_short", {kLength - 1, kChannels}, std::vector<float>((kLength - 1) * kChannels, 1.f));
        std::vector<float> with_nan = stored_trace(0, true);
        with_nan[7] = NAN;
        writer.floats(data, "c_nan", {kLength, kChannels}, with_nan);
        const hid_t bad_pick = writer.floats(data, "d_bad_pick", {kLength, kChannels}, stored_trace(0, true));
        writer.text_attribute(bad_pick, "p_arrival_sample", "early");
        const hid_t bad_label = writer.floats(data, "e_bad_label", {kLength, kChannels}, stored_trace(0, true));
        writer.text_attribute(bad_label, "trace_category", "explosion");
        const hid_t text = H5Tcopy(H5T_C_S1);
        H5Tset_size(text, 4);
        writer.dataset(data, "f_text", {kLength, kChannels}, std::vector<char>(kLength * kChannels * 4, 'x'), text, text);
        H5Tclose(text);
        writer.group("data/g_group");
        writer.group("empty");
    }
    Hdf5TraceOptions options = stead_options(path);
    options.numeric_fields = {"p_arrival_sample"};
    options.label_field.clear();
    const Hdf5TraceDataset dataset(options);
    REQUIRE(dataset.size() == 7);
    CHECK(std::isnan(dataset.get(0).at("p_arrival_sample").item()));  // no attribute: no pick
    CHECK_THAT(error_message([&] { dataset.get(1); }),
               Catch::Contains("broken.h5: trace 'b_short'") && Catch::Contains("extents [39, 3]; expected [40, 3]"));
    CHECK_THAT(error_message([&] { dataset.get(2); }),
               Catch::Contains("trace 'c_nan'") && Catch::Contains("value 7 is nan"));
    CHECK_THAT(error_message([&] { dataset.get(3); }),
               Catch::Contains("trace 'd_bad_pick'") && Catch::Contains("'p_arrival_sample' is 'early'"));
    CHECK_THAT(error_message([&] { dataset.get(5); }),
               Catch::Contains("trace 'f_text'") && Catch::Contains("the samples are string"));
    CHECK_THAT(error_message([&] { dataset.get(6); }),
               Catch::Contains("trace 'g_group'") && Catch::Contains("not a dataset"));
    CHECK_THAT(error_message([&] { dataset.get(7); }), Catch::Contains("index 7 is out of range"));
    options.label_field = "trace_category";
    const Hdf5TraceDataset labelled(options);
    CHECK_THAT(error_message([&] { labelled.get(4); }),
               Catch::Contains("trace 'e_bad_label'") && Catch::Contains("'explosion'; expected one of: noise, "
                                                                          "earthquake_local"));
    CHECK_THAT(error_message([&] { labelled.get(0); }), Catch::Contains("no attribute 'trace_category'"));

    options.group = "missing";
    CHECK_THAT(error_message([&] { Hdf5TraceDataset{options}; }), Catch::Contains("no group 'missing'"));
    options.group = "empty";
    CHECK_THAT(error_message([&] { Hdf5TraceDataset{options}; }), Catch::Contains("group 'empty' is empty"));
    options.group = "data";
    options.path = dir / "nothing.h5";
    CHECK_THAT(error_message([&] { Hdf5TraceDataset{options}; }), Catch::Contains("nothing.h5"));
    options.path = dir.write("text.h5", "this is not HDF5 at all, just some text long enough");
    CHECK_THAT(error_message([&] { Hdf5TraceDataset{options}; }), Catch::Contains("text.h5: not an HDF5 file"));
    options.path = dir.write("empty.h5", "");
    CHECK_THAT(error_message([&] { Hdf5TraceDataset{options}; }), Catch::Contains("empty.h5: the file is empty"));
    options.path = dir.path.string();
    CHECK_THROWS_AS(Hdf5TraceDataset{options}, Error);
}

TEST_CASE("HDF5 array: rows of a chunked N x C x L array with labels and picks beside it", "[data][hdf5]") {
    TempDir dir;
    const std::string path = dir / "array.h5";
    const int rows = 7;
    {
        Hdf5Writer writer(path);
        std::vector<float> waves;
        std::vector<int64_t> labels;
        std::vector<double> picks;
        for (int n = 0; n < rows; ++n) {
            const std::vector<float> trace = stored_trace(n, false);
            waves.insert(waves.end(), trace.begin(), trace.end());
            labels.push_back(n % 3);
            picks.push_back(n + 0.5), picks.push_back(n == 3 ? NAN : 2.0 * n);
        }
        const hid_t group = writer.group("train");
        writer.floats(group, "waves", {rows, kChannels, kLength}, waves, {2, kChannels, 16});
        writer.dataset(group, "labels", {rows}, labels, H5T_STD_I64LE, H5T_NATIVE_INT64);
        writer.dataset(writer.file(), "picks", {rows, 2}, picks, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {4, 2});
        writer.dataset(writer.file(), "short", {rows - 1}, labels, H5T_STD_I64LE, H5T_NATIVE_INT64);
        std::vector<int64_t> huge(rows, 1);
        huge[4] = int64_t{1} << 40;
        writer.dataset(writer.file(), "huge", {rows}, huge, H5T_STD_I64LE, H5T_NATIVE_INT64);
    }
    const Hdf5ArrayOptions options{.path = path,
                                   .fields = {{"waveform", "train/waves"}, {"label", "train/labels"}, {"picks", "picks"}},
                                   .nan_allowed = {"picks"}};
    const Hdf5ArrayDataset dataset(options);
    REQUIRE(dataset.size() == rows);
    for (int n : {6, 0, 3, 4}) {
        const Example example = dataset.get(n);
        check_waveform(example.at("waveform"), n);
        CHECK(example.at("label").dtype() == DType::i32);
        CHECK(example.at("label").shape().empty());
        CHECK(example.at("label").item() == n % 3);
        REQUIRE(example.at("picks").shape() == Shape{2});
        CHECK(example.at("picks").dtype() == DType::f32);
        CHECK(example.at("picks").get_flat(0) == n + 0.5);
        if (n != 3) CHECK(example.at("picks").get_flat(1) == 2.0 * n);
    }
    CHECK(std::isnan(dataset.get(3).at("picks").get_flat(1)));
    const Hdf5ArrayDataset strict({.path = path, .fields = {{"picks", "picks"}}});
    CHECK_THAT(error_message([&] { strict.get(3); }),
               Catch::Contains("array.h5: row 3 of 'picks'") && Catch::Contains("value 1 is nan"));
    CHECK_THAT(error_message([&] { dataset.get(-1); }), Catch::Contains("index -1 is out of range"));
    CHECK(dataset.describe(2) == "array.h5: row 2");

    CHECK_THAT(error_message([&] { Hdf5ArrayDataset({.path = path, .fields = {{"waveform", "waves"}}}); }),
               Catch::Contains("dataset 'waves': not found"));
    CHECK_THAT(error_message([&] { Hdf5ArrayDataset({.path = path, .fields = {{"w", "train/waves"}, {"n", "short"}}}); }),
               Catch::Contains("'short': 6 rows; 'train/waves' has 7"));
    CHECK_THAT(error_message([&] { Hdf5ArrayDataset({.path = path, .fields = {{"w", "train"}}}); }),
               Catch::Contains("'train': not a dataset"));
    const Hdf5ArrayDataset huge({.path = path, .fields = {{"n", "huge"}}});
    CHECK(huge.get(3).at("n").item() == 1);
    CHECK_THAT(error_message([&] { huge.get(4); }), Catch::Contains("row 4 of 'huge'") && Catch::Contains("fits i32"));
}

TEST_CASE("HDF5 datasets read the same examples from several threads at once", "[data][hdf5]") {
    TempDir dir;
    const Hdf5TraceDataset dataset(stead_options(write_stead(dir)));
    std::vector<std::thread> threads;
    std::vector<int> mismatches(4, 0);
    for (int w = 0; w < 4; ++w)
        threads.emplace_back([&, w] {
            for (int round = 0; round < 50; ++round) {
                const int trace = (w + round) % 3;
                const Tensor waveform = dataset.get(trace).at("waveform");
                for (int64_t t = 0; t < kLength; ++t) mismatches[w] += waveform.at<float>({2, t}) != sample(trace, 2, t);
            }
        });
    for (std::thread &thread : threads) thread.join();
    CHECK(mismatches == std::vector<int>(4, 0));
}

TEST_CASE("HDF5 traces and arrays written by h5py (the fuzz seeds) read as h5py wrote them", "[data][hdf5]") {
    const std::string corpus = std::string(STRATA_SOURCE_DIR) + "/fuzz/corpus/fuzz_hdf5/";
    const Hdf5TraceDataset stead(stead_options(corpus + "stead_attributes.h5"));
    REQUIRE(stead.size() == 2);
    const Example event = stead.get(0), noise = stead.get(1);
    CHECK(event.at("waveform").shape() == Shape{3, 16});
    CHECK(event.at("p_arrival_sample").item() == 4.0);
    CHECK(event.at("s_arrival_sample").item() == 9.5);
    CHECK(event.at("label").item() == 1);
    CHECK(std::isnan(noise.at("p_arrival_sample").item()));
    CHECK(noise.at("label").item() == 0);
    const Hdf5ArrayDataset array({.path = corpus + "array_chunked.h5", .fields = {{"waveform", "waveforms"}, {"label", "labels"}}});
    REQUIRE(array.size() == 4);
    CHECK(array.get(3).at("waveform").shape() == Shape{3, 16});
    CHECK(array.get(2).at("label").item() == 2);
}
