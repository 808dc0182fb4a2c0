// phase_picking's command line on bad numbers: NaN passes CLI::Range (it compares false with
// both bounds), so every real-valued flag must refuse it itself, before any work.
#include "support/run_command.h"

#include <catch2/catch.hpp>

#include <string>

using Catch::Matchers::Contains;

namespace {

const std::string kProgram = std::string(STRATA_BINARY_DIR) + "/bin/phase_picking ";

void flag_error(const std::string &args, const std::string &expected) {
    const std::string command = "timeout 60 " + kProgram + args + " < /dev/null";
    const strata::testing::CommandResult o = strata::testing::run_command(command);
    INFO(command << "\n" << o.output);
    CHECK(o.status != 0);
    CHECK(o.status != -1);
    CHECK_THAT(o.output, Contains(expected));
    CHECK(o.output.find("training on") == std::string::npos);  // refused before any data was read
}

}  // namespace

TEST_CASE("phase_picking refuses NaN and out-of-range numbers for its real-valued flags") {
    const std::string train = "--workdir /nonexistent/never-created ";
    flag_error(train + "--threshold nan", "--threshold: 'nan' is not a probability: expected a number from 0 to 1");
    flag_error(train + "--threshold 2", "--threshold: '2' is not a probability");
    flag_error(train + "--tolerance nan", "--tolerance: 'nan' is not a number of samples");
    flag_error(train + "--channel-drop nan", "--channel-drop: 'nan' is not a fraction");
    flag_error(train + "--lr nan", "--lr: 'nan' is not a learning rate");
    flag_error(train + "--rate 1e400", "--rate: '1e400' is not a sampling rate in Hz");
    flag_error(train + "--trace-seconds nan", "--trace-seconds: 'nan' is not a number of seconds");
    flag_error("pick /nonexistent.mseed --threshold nan", "--threshold: 'nan' is not a probability");
    flag_error("pick /nonexistent.mseed --threshold -nan", "--threshold: '-nan' is not a probability");
    flag_error("archive --workdir /nonexistent/never-created --tolerance nan", "--tolerance: 'nan' is not a number");
    flag_error("archive --workdir /nonexistent/never-created --stride nan", "--stride: 'nan' is not a stride");
}
