// The command lines (strata, spot_the_seismogram, fashion_mnist) on bad input: every mistake ends
// with a message and a non-zero exit status, before any work for a bad flag; nothing aborts or hangs.
#include "support/run_command.h"
#include <strata/main_guard.h>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <new>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>

using Catch::Matchers::Contains;
using strata::testing::TempDir;

namespace {

const std::string kBin = std::string(STRATA_BINARY_DIR) + "/bin/";
const std::string kSpotModel = std::string(STRATA_SOURCE_DIR) + "/examples/spot_the_seismogram/spot_model.safetensors";

using Outcome = strata::testing::CommandResult;

/// Runs `command` (stdout and stderr together) under a time limit, so a hang fails the test.
Outcome run(const std::string &command) { return strata::testing::run_command("timeout 120 " + command + " < /dev/null"); }

size_t count(const std::string &text, const std::string &what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

/// Runs a command that must fail with exit status 1 and a message containing `expected`.
void expect_error(const std::string &command, const std::string &expected) {
    const Outcome o = run(command);
    INFO(command << "\n" << o.output);
    CHECK(o.status == 1);
    CHECK_THAT(o.output, Contains(expected));
}

}  // namespace

TEST_CASE("guarded_main turns every exception into a message and a non-zero exit status") {
    CHECK(strata::guarded_main("t", [] { return 3; }) == 3);
    CHECK(strata::guarded_main("t", []() -> int { strata::fail("bad {}", 1); }) == 1);
    CHECK(strata::guarded_main("t", []() -> int { throw std::bad_alloc(); }) == 2);
    CHECK(strata::guarded_main("t", []() -> int {
              throw std::filesystem::filesystem_error("cannot", std::make_error_code(std::errc::permission_denied));
          }) == 1);
    CHECK(strata::guarded_main("t", []() -> int { throw std::logic_error("bug"); }) == 2);
    CHECK(strata::guarded_main("t", []() -> int { throw 42; }) == 2);
}

TEST_CASE("strata inspect refuses a folder, an empty file and a FIFO") {
    TempDir dir;
    const std::string empty = dir.write("empty.ir", "");
    const std::string blank = dir.write("blank.ir", "\n  \n");
    expect_error(kBin + "strata inspect " + dir.path.string(), "is a directory, not a regular file");
    expect_error(kBin + "strata inspect " + empty, "empty.ir: no model IR: the text holds no nodes");
    expect_error(kBin + "strata inspect " + blank, "blank.ir: no model IR");
    const std::string fifo = dir / "model.fifo";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    expect_error(kBin + "strata inspect " + fifo, "is a FIFO (named pipe), not a regular file");
}

TEST_CASE("strata emit into a folder it cannot write is an error, not an abort") {
    // /proc is a folder nobody, root included, can create files in.
    expect_error(kBin + "strata emit " + kSpotModel + " --out /proc", "emit: cannot write into the folder /proc");
}

TEST_CASE("strata flags are checked before any work, in the flag's own terms") {
    const std::string emit = kBin + "strata emit " + kSpotModel + " --out /nonexistent/never-created ";
    auto flag_error = [](const std::string &command, const std::string &expected) {
        const Outcome o = run(command);
        INFO(command << "\n" << o.output);
        CHECK(o.status != 0);
        CHECK(o.status != -1);
        CHECK_THAT(o.output, Contains(expected));
    };
    flag_error(emit + "--batch 0", "--batch: 0 is not a batch size: expected a whole number >= 1");
    flag_error(emit + "--batch -3", "--batch: -3 is not a batch size");
    flag_error(emit + "--train --lr nan", "--lr: 'nan' is not a learning rate: expected a finite number > 0");
    flag_error(emit + "--train --lr 0", "--lr: 0 is not a learning rate");
    flag_error(emit + "--train --momentum -1", "--momentum: -1 is not a momentum: expected a finite number >= 0");
    flag_error(kBin + "strata bench --threads 100000", "--threads: 100000 is not a thread count: expected a whole "
                                                       "number from 1 to 1024");
    flag_error(kBin + "strata bench --threads -1", "--threads: -1 is not a thread count");
    flag_error(kBin + "strata bench --reps 99999999999999999999", "--reps: 99999999999999999999 is out of range");
    // An unwritable --json fails before a workload runs (ResNet-20 would take minutes).
    const Outcome unwritable_json = run(kBin + "strata bench --json /nonexistent/dir/out.json resnet20_train");
    INFO(unwritable_json.output);
    CHECK(unwritable_json.status == 1);
    CHECK_THAT(unwritable_json.output, Contains("/nonexistent/dir/out.json: cannot create the file"));
    CHECK(unwritable_json.output.find("resnet20_train...") == std::string::npos);
    flag_error(kBin + "fashion_mnist --batch 0 --data /nonexistent", "--batch: 0 is not a batch size");
    flag_error(kBin + "fashion_mnist --lr nan --data /nonexistent", "--lr: 'nan' is not a learning rate");
    flag_error(kBin + "fashion_mnist --threads -1 --data /nonexistent", "--threads: -1 is not a thread count (0: all cores)");
    flag_error(kBin + "fashion_mnist --threads 100000 --data /nonexistent", "expected a whole number from 0 to 1024");
    flag_error(kBin + "spot_the_seismogram classify x.txt --stride 0", "--stride: 0 is not a stride");
    flag_error(kBin + "spot_the_seismogram train --epochs 0", "--epochs: 0 is not a number of epochs");
}

TEST_CASE("spot_the_seismogram classify: a huge stride classifies the first window only") {
    TempDir dir;
    std::string text;
    for (int i = 0; i < 1200; ++i) text += std::to_string(std::sin(i * 0.05) * 100.0) + "\n";
    const std::string series = dir.write("series.txt", text);
    const Outcome o = run(kBin + "spot_the_seismogram classify " + series + " --stride 9223372036854775807 --json");
    INFO(o.output);
    REQUIRE(o.status == 0);
    CHECK(count(o.output, "\"start\":") == 1);
    CHECK_THAT(o.output, Contains("\"start\":0}]}"));  // one window, at 0
    // Strides that land exactly on the last window and just past it.
    const Outcome exact = run(kBin + "spot_the_seismogram classify " + series + " --stride 700 --json");
    CHECK(count(exact.output, "\"start\":") == 2);
    CHECK_THAT(exact.output, Contains("\"start\":700}]}"));
    const Outcome past = run(kBin + "spot_the_seismogram classify " + series + " --stride 701 --json");
    CHECK(count(past.output, "\"start\":") == 1);
}

TEST_CASE("spot_the_seismogram classify: samples near the largest double normalise without NaN") {
    TempDir dir;
    std::string text;
    for (int i = 0; i < 500; ++i) text += (i % 2 ? "1e308\n" : "-1.5e308\n");
    const std::string series = dir.write("huge.txt", text);
    const Outcome o = run(kBin + "spot_the_seismogram classify " + series + " --json");
    INFO(o.output);
    REQUIRE(o.status == 0);
    CHECK_THAT(o.output, !Contains(":nan") && !Contains("-nan") && !Contains("null"));  // not "finance"
    CHECK_THAT(o.output, Contains("\"start\":0}]}"));
}

TEST_CASE("spot_the_seismogram classify refuses a FIFO as the series or the model, without hanging") {
    TempDir dir;
    const std::string fifo = dir / "stream.fifo";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    std::string text;
    for (int i = 0; i < 600; ++i) text += "1.5\n";
    const std::string series = dir.write("series.txt", text);
    expect_error(kBin + "spot_the_seismogram classify " + fifo + " --format text", "is a FIFO (named pipe)");
    expect_error(kBin + "spot_the_seismogram classify " + series + " --model " + fifo, "is a FIFO (named pipe)");
    expect_error(kBin + "spot_the_seismogram classify /dev/zero --format text", "is a character device");
}

TEST_CASE("resnet20 --data refuses a FIFO and /dev/zero as CIFAR batches, without hanging") {
    TempDir dir;
    const std::string fifo_folder = dir / "fifo", zero_folder = dir / "zero";
    std::filesystem::create_directories(fifo_folder);
    std::filesystem::create_directories(zero_folder);
    REQUIRE(mkfifo((fifo_folder + "/data_batch_1.bin").c_str(), 0600) == 0);
    std::filesystem::create_symlink("/dev/zero", zero_folder + "/data_batch_1.bin");
    expect_error(kBin + "resnet20 --data " + fifo_folder, "data_batch_1.bin: not a regular file");
    expect_error(kBin + "resnet20 --data " + zero_folder, "data_batch_1.bin: not a regular file");
}
