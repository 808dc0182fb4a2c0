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

/// Runs `command` and requires it to succeed (its output shown when it does not); returns its output.
inline std::string run_ok(const std::string &command) {
    const CommandResult r = run_command(command);
    INFO(command << "\n" << r.output);
    REQUIRE(r.status == 0);
    return r.output;
}

}  // namespace strata::testing
