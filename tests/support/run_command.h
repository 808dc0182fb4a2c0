#pragma once
// Running a program from a test: its exit status and its stdout and stderr together.

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace strata::testing {

struct CommandResult {
    int status = -1;  ///< the exit status, or -1 when a signal ended it
    std::string output;
};

inline CommandResult run_command(const std::string &command) {
    CommandResult r;
    FILE *pipe = popen((command + " 2>&1").c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[4096];
    while (fgets(buffer, sizeof buffer, pipe)) r.output += buffer;
    const int status = pclose(pipe);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

}  // namespace strata::testing
