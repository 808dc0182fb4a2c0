// RawFileDataset, the file-backed dataset: the written file reads back bit for bit, the loader
// gives the same batches from it as from memory, every malformed file or record is an error
// naming the file (and the example), and a loader over a file several times larger than the
// memory the process may use runs a whole epoch.
#include "runtime/data/loader.h"
#include "runtime/data/raw_file_dataset.h"
#include "tests/support/error_message.h"
#include "tests/support/example_datasets.h"
#include "tests/support/memory_limit.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

using namespace strata;
using strata::testing::error_message;
using strata::testing::indices_of;
using strata::testing::numbered_dataset;
using strata::testing::TempDir;

namespace {

/// Every dtype, scalars and a 2-d field: example i's values all derive from i.
std::shared_ptr<data::TensorDataset> mixed_dataset(int64_t n) {
    Tensor wave = Tensor::empty({n, 2, 5});
    Tensor label = Tensor::empty({n}, DType::i32);
    Tensor time = Tensor::empty({n}, DType::f64);
    Tensor mask = Tensor::empty({n, 3}, DType::boolean);
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < 10; ++j) wave.set_flat(10 * i + j, 0.1 * static_cast<double>(i) - 0.37 * static_cast<double>(j));
        label.set_flat(i, static_cast<double>(i % 3));
        time.set_flat(i, 1e9 + static_cast<double>(i) / 3.0);
        for (int64_t j = 0; j < 3; ++j) mask.set_flat(3 * i + j, (i + j) % 2);
    }
    return std::make_shared<data::TensorDataset>(
        data::Example{{"wave", wave}, {"label", label}, {"time", time}, {"mask", mask}}, "mixed");
}

bool same_bits(const Tensor &a, const Tensor &b) {
    return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

std::string read_bytes(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

void write_bytes(const std::string &path, const std::string &bytes) { std::ofstream(path, std::ios::binary) << bytes; }

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("RawFileDataset reads back what was written, bit for bit, every dtype", "[data][raw_file]") {
    TempDir dir;
    auto source = mixed_dataset(7);
    const std::string path = dir / "mixed.raw";
    data::write_raw_dataset(path, *source);
    CHECK(dir.files() == std::set<std::string>{"mixed.raw"});  // atomically: no temporary left
    data::RawFileDataset raw(path);
    REQUIRE(raw.size() == 7);
    CHECK(raw.layout() == data::layout_of(source->get(0)));
    CHECK(raw.record_bytes() == 2 * 5 * 4 + 4 + 8 + 3 + 4);
    for (int64_t i = 0; i < 7; ++i) {
        const data::Example got = raw.get(i), expected = source->get(i);
        REQUIRE(got.size() == expected.size());
        for (const auto &[name, t] : expected) CHECK(same_bits(got.at(name), t));
    }
    CHECK(raw.describe(3) == path + ": example 3");
    CHECK(contains(error_message([&] { raw.get(7); }), "example 7 is out of range (7 examples)"));
}

TEST_CASE("DataLoader over a RawFileDataset gives the batches it gives from memory", "[data][raw_file]") {
    TempDir dir;
    auto memory = numbered_dataset(50);
    data::write_raw_dataset(dir / "numbered.raw", *memory);
    auto file = std::make_shared<data::RawFileDataset>(dir / "numbered.raw");
    data::LoaderOptions o;
    o.batch_size = 8;
    o.seed = 5;
    o.drop_last = false;
    data::DataLoader from_memory(memory, o);
    o.num_workers = 3;
    data::DataLoader from_file(file, o);
    for (int64_t epoch = 0; epoch < 2; ++epoch) {
        from_memory.set_epoch(epoch);
        from_file.set_epoch(epoch);
        int64_t batches = 0;
        while (auto expected = from_memory.next()) {
            const auto got = from_file.next();
            REQUIRE(got);
            CHECK(same_bits(got->at("x"), expected->at("x")));
            CHECK(same_bits(got->at("index"), expected->at("index")));
            ++batches;
        }
        CHECK(batches == 7);
        CHECK_FALSE(from_file.next());
    }
}

TEST_CASE("RawFileDataset names the file and what is wrong with a malformed one", "[data][raw_file]") {
    TempDir dir;
    const std::string good = dir / "good.raw";
    data::write_raw_dataset(good, *numbered_dataset(4));
    const std::string bytes = read_bytes(good);
    const auto open_error = [&](const std::string &name, const std::string &content) {
        const std::string path = dir / name;
        write_bytes(path, content);
        const std::string message = error_message([&] { data::RawFileDataset{path}; });
        CHECK(contains(message, path));
        return message;
    };
    CHECK(contains(open_error("short.raw", bytes.substr(0, 10)), "too short for a raw dataset file"));
    CHECK(contains(open_error("magic.raw", "XTRATAR1" + bytes.substr(8)), "not a raw dataset file"));
    CHECK(contains(open_error("truncated.raw", bytes.substr(0, bytes.size() - 3)), "truncated or extra data"));
    CHECK(contains(open_error("extra.raw", bytes + "x"), "truncated or extra data"));
    std::string huge = bytes;
    huge[15] = '\x7f';  // header length's top byte
    CHECK(contains(open_error("length.raw", huge), "header length"));
    const auto with_header = [&](const std::string &json) {
        std::string out = bytes.substr(0, 8);
        for (int i = 0; i < 8; ++i) out += static_cast<char>(static_cast<uint64_t>(json.size()) >> (8 * i));
        return out + json;
    };
    CHECK(contains(open_error("json.raw", with_header("{\"examples\": 1, ")), "not JSON"));
    CHECK(contains(open_error("dtype.raw", with_header(R"({"examples": 0, "fields": [{"name": "x", "dtype": "f16", "shape": [2]}]})")),
                   "dtype 'f16'; expected f32, f64, i32, i64 or bool"));
    CHECK(contains(open_error("extent.raw", with_header(R"({"examples": 0, "fields": [{"name": "x", "dtype": "f32", "shape": [-2]}]})")),
                   "expected extents >= 0"));
    CHECK(contains(open_error("repeat.raw", with_header(R"({"examples": 0, "fields": [{"name": "x", "dtype": "f32", "shape": []}, {"name": "x", "dtype": "f32", "shape": []}]})")),
                   "empty or repeated"));
    CHECK(contains(open_error("overflow.raw", with_header(R"({"examples": 4611686018427387904, "fields": [{"name": "x", "dtype": "f64", "shape": [4]}]})")),
                   "overflows 64 bits"));
    CHECK(contains(error_message([&] { data::RawFileDataset(dir / "missing.raw"); }), "missing.raw"));
}

TEST_CASE("RawFileDataset finds a corrupt record by its CRC, and the loader can skip it", "[data][raw_file]") {
    TempDir dir;
    const std::string path = dir / "flipped.raw";
    data::write_raw_dataset(path, *numbered_dataset(8));
    std::string bytes = read_bytes(path);
    const int64_t record = data::RawFileDataset(path).record_bytes();
    bytes[bytes.size() - static_cast<size_t>(record * 3) + 5] ^= 0x10;  // a bit of example 5
    write_bytes(path, bytes);
    auto raw = std::make_shared<data::RawFileDataset>(path);
    CHECK_NOTHROW(raw->get(4));
    CHECK(contains(error_message([&] { raw->get(5); }), path + ": example 5 is corrupt (CRC-32"));

    data::LoaderOptions o;
    o.batch_size = 4;
    o.shuffle = false;
    o.num_workers = 2;
    data::DataLoader strict(raw, o);
    REQUIRE(strict.next());
    CHECK(contains(error_message([&] { strict.next(); }), "example 5 (" + path + ": example 5)"));
    o.skip_corrupt = true;
    data::DataLoader lenient(raw, o);
    REQUIRE(lenient.next());
    CHECK(indices_of(*lenient.next()) == std::vector<int64_t>{4, 6, 6, 7});
    CHECK(lenient.skipped() == 1);
}

TEST_CASE("RawFileWriter checks each example and the count, leaving no file on error", "[data][raw_file]") {
    TempDir dir;
    auto ds = numbered_dataset(3);
    {
        data::RawFileWriter out(dir / "bad.raw", data::layout_of(ds->get(0)), 3);
        out.append(ds->get(0));
        data::Example wrong = ds->get(1);
        wrong.at("x") = Tensor::zeros({4});
        CHECK(contains(error_message([&] { out.append(wrong); }), "example 1: field 'x' is f32[4], expected f32[3]"));
        out.append(ds->get(1));
        CHECK(contains(error_message([&] { out.commit(); }), "2 examples written, 3 announced"));
    }
    CHECK(dir.files().empty());
}

TEST_CASE("DataLoader streams a file several times larger than the memory the process may use",
          "[data][raw_file][memory]") {
    if (!strata::testing::memory_caps_are_meaningful) STRATA_SKIP("memory caps mean nothing under AddressSanitizer");
    TempDir dir;
    // 3,600 three-component windows of 4,000 samples: 173 MB on disk, over 4 times the cap.
    constexpr int64_t kExamples = 3600, kSamples = 4000;
    constexpr size_t kCap = 40u << 20;
    const std::string path = dir / "big.raw";
    {
        data::RawFileWriter out(path, {{"wave", {DType::f32, {3, kSamples}}}, {"label", {DType::i32, {}}}}, kExamples);
        Tensor wave = Tensor::empty({3, kSamples});
        for (int64_t i = 0; i < kExamples; ++i) {
            float *w = wave.data<float>();
            for (int64_t j = 0; j < 3 * kSamples; ++j) w[j] = static_cast<float>(i) + static_cast<float>(j % 7);
            out.append({{"wave", wave}, {"label", Tensor::full({}, static_cast<double>(i), DType::i32)}});
        }
        out.commit();
    }
    REQUIRE(std::filesystem::file_size(path) > 4 * kCap);
    // One epoch with 2 workers under the cap; each batch is checked (its rows travel together).
    std::string message;
    const auto outcome = strata::testing::run_with_memory_cap(kCap, [&] {
        data::LoaderOptions o;
        o.batch_size = 32;
        o.drop_last = false;
        o.num_workers = 2;
        data::DataLoader loader(std::make_shared<data::RawFileDataset>(path), o);
        int64_t label_sum = 0;
        while (auto batch = loader.next()) {
            const Tensor &wave = batch->at("wave");
            for (int64_t row = 0; row < wave.size(0); ++row) {
                const double label = batch->at("label").get_flat(row);
                if (wave.get_flat(row * 3 * kSamples + 8) != label + 1) fail("batch row {} is not example {}", row, label);
                label_sum += static_cast<int64_t>(label);
            }
        }
        if (label_sum != kExamples * (kExamples - 1) / 2) fail("the epoch missed examples (sum {})", label_sum);
    }, &message);
    INFO(message);
    CHECK(outcome == strata::testing::CappedOutcome::returned);
    // The control: holding the data set in memory does not fit under the same cap.
    const auto in_memory = strata::testing::run_with_memory_cap(kCap, [&] {
        data::RawFileDataset raw(path);
        Tensor all = Tensor::empty({kExamples, 3, kSamples});
        for (int64_t i = 0; i < kExamples; ++i)
            std::memcpy(all.data<float>() + i * 3 * kSamples, raw.get(i).at("wave").raw_data(), 3 * kSamples * 4);
    });
    CHECK(in_memory != strata::testing::CappedOutcome::returned);
}

TEST_CASE("RawFileDataset turns every truncation and every flipped header byte into an error, never a crash",
          "[data][raw_file]") {
    TempDir dir;
    const std::string good = dir / "good.raw";
    data::write_raw_dataset(good, *mixed_dataset(3));
    const std::string bytes = read_bytes(good);
    const std::string path = dir / "mutated.raw";
    // Opens the file and reads every example; true when that worked, false on a strata::Error.
    const auto reads = [&](const std::string &content) {
        write_bytes(path, content);
        try {
            data::RawFileDataset raw(path);
            for (int64_t i = 0; i < raw.size(); ++i) raw.get(i);
            return true;
        } catch (const Error &) {
            return false;
        }
    };
    for (size_t length = 0; length < bytes.size(); ++length) {
        INFO("truncated to " << length << " bytes");
        CHECK_FALSE(reads(bytes.substr(0, length)));
    }
    const size_t header_end = bytes.size() - 3 * static_cast<size_t>(data::RawFileDataset(good).record_bytes());
    for (size_t at = 0; at < header_end; ++at) {
        for (uint8_t flip : {0x01, 0x20, 0x80}) {
            std::string mutated = bytes;
            mutated[at] = static_cast<char>(mutated[at] ^ flip);
            INFO("byte " << at << " ^ " << int(flip));
            CHECK_NOTHROW(reads(mutated));  // succeeds (a flip in padding or in a name) or is a strata::Error
        }
    }
    CHECK(reads(bytes));
}
