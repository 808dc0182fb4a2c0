#pragma once
/// \file
/// `--version` for Strata's programs: "PROGRAM (Strata 0.1.0)" on stdout and exit status 0.
/// Needs CLI11 (Debian's libcli11-dev).
///
///     CLI::App app{"..."};
///     strata::cli::add_version_flag(app, "fashion_mnist");

#include "runtime/version.h"

#include <CLI/CLI.hpp>

#include <string>

namespace strata::cli {

/// The line `--version` prints for `program`.
inline std::string version_line(const std::string &program) {
    return program + " (Strata " + strata::version() + ")";
}

inline void add_version_flag(CLI::App &app, const std::string &program) {
    app.set_version_flag("--version", version_line(program), "Print the program's and Strata's version and exit");
}

}  // namespace strata::cli
