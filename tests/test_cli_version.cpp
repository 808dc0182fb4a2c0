// Every program Strata ships answers --version with its name and Strata's version, exit status 0,
// before it reads any data (a subcommand or a required option is not needed).
#include "runtime/version.h"

#include <catch2/catch.hpp>

#include "tests/support/run_command.h"

#include <string>

using strata::testing::run_command;

TEST_CASE("Every command line answers --version with its name and Strata's version", "[cli][version]") {
    const std::string bin = std::string(STRATA_BINARY_DIR) + "/bin/";
    const std::string version = strata::version();
    REQUIRE(version == "0.1.0");  // CMakeLists.txt's project(VERSION), the single source
    for (const std::string program : {"strata", "strata-kernel-compiler", "fashion_mnist", "spot_the_seismogram",
                                      "resnet20", "phasenet", "phase_picking", "import_pytorch"}) {
        const auto r = run_command(bin + program + " --version");
        INFO(program << ": " << r.output);
        CHECK(r.status == 0);
        CHECK(r.output == program + " (Strata " + version + ")\n");
    }
}
