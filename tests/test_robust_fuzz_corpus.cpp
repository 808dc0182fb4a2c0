// Every seed and every kept crash input of fuzz/corpus/<target>/ goes through the same check
// as its libFuzzer target (fuzz/format_checks.h): read, or rejected with strata::Error, never
// a crash, a sanitizer report or a broken promise. This makes each fixed fuzz crash a
// regression test in the ordinary suite, without clang or libFuzzer.
#include "fuzz/format_checks.h"

#include "codegen/schedule.h"
#include "support/error_message.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

using Check = void (*)(const uint8_t *, size_t);

/// Runs `check` on every file of fuzz/corpus/<target>/ and returns how many there were.
size_t run_corpus(const std::string &target, Check check) {
    const fs::path folder = fs::path(STRATA_SOURCE_DIR) / "fuzz" / "corpus" / target;
    REQUIRE(fs::is_directory(folder));
    size_t files = 0;
    for (const auto &entry : fs::directory_iterator(folder)) {
        std::ifstream in(entry.path(), std::ios::binary);
        const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        INFO(entry.path().string());
        CHECK_NOTHROW(check(bytes.data(), bytes.size()));
        ++files;
    }
    return files;
}

}  // namespace

TEST_CASE("IR parser corpus: every file parses and round-trips, or is rejected with an error", "[robust][fuzz]") {
    CHECK(run_corpus("fuzz_ir_parser", strata::fuzz::check_ir_text) >= 4);
}

TEST_CASE("safetensors corpus: every file reads or is rejected with an error", "[robust][fuzz]") {
    CHECK(run_corpus("fuzz_safetensors", strata::fuzz::check_safetensors) >= 4);
}

TEST_CASE("IDX corpus: every file reads or is rejected with an error", "[robust][fuzz]") {
    CHECK(run_corpus("fuzz_idx", strata::fuzz::check_idx) >= 7);
}

TEST_CASE("MiniSEED corpus: every file reads or is rejected with an error", "[robust][fuzz]") {
    CHECK(run_corpus("fuzz_miniseed", strata::fuzz::check_miniseed) >= 4);
}

TEST_CASE("Series text corpus: every file reads or is rejected with an error", "[robust][fuzz]") {
    CHECK(run_corpus("fuzz_series_text", strata::fuzz::check_series_text) >= 4);
}

TEST_CASE("Schedule corpus: every file parses and round-trips, or is rejected with an error", "[robust][fuzz]") {
    CHECK(run_corpus("fuzz_schedule", strata::fuzz::check_schedule_text) >= 8);
}

TEST_CASE("Emitted C loader corpus: every file loads or fails with an error code and a message", "[robust][fuzz]") {
    CHECK(run_corpus("fuzz_c_loader", strata::fuzz::check_c_loader) >= 6);
}

TEST_CASE("Schedule corpus: the valid seeds parse and each bad_* seed is rejected at line 1", "[robust][fuzz]") {
    // So the seeds start the fuzzer on both paths: accepted rules and each kind of rejection.
    const fs::path folder = fs::path(STRATA_SOURCE_DIR) / "fuzz" / "corpus" / "fuzz_schedule";
    size_t valid = 0, bad = 0;
    for (const auto &entry : fs::directory_iterator(folder)) {
        const std::string name = entry.path().filename().string();
        INFO(name);
        if (name.rfind("bad_", 0) == 0) {
            const std::string message =
                strata::testing::error_message([&] { strata::codegen::load_schedule(entry.path().string()); });
            CHECK_THAT(message, Catch::Matchers::Contains(name + ":1"));
            ++bad;
        } else {
            CHECK_FALSE(strata::codegen::load_schedule(entry.path().string()).empty());
            ++valid;
        }
    }
    CHECK(valid >= 3);
    CHECK(bad >= 5);
}

TEST_CASE("HDF5 corpus: every file reads or is rejected with an error", "[robust][fuzz]") {
    CHECK(run_corpus("fuzz_hdf5", strata::fuzz::check_hdf5) >= 3);
}

TEST_CASE("SEG-Y corpus: every file reads or is rejected with an error", "[robust][fuzz]") {
    CHECK(run_corpus("fuzz_segy", strata::fuzz::check_segy) >= 2);
}
