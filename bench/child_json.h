#pragma once
/// \file
/// The reports that need a fresh process per measurement (compile time and
/// memory) run `strata bench` again as a child that prints one JSON line.

#include <nlohmann/json.hpp>

#include <string>

namespace strata::bench {

/// Runs `command` through the shell and returns the last JSON object it printed
/// on stdout. Throws strata::Error when it cannot start, exits non-zero, or
/// prints no readable object.
nlohmann::json run_child_for_json(const std::string &command);

/// `text` as one shell word: in single quotes, each ' written '\'' (a path or name with
/// quotes, spaces or $(...) reaches the child as it is, never as shell syntax).
std::string shell_quoted(const std::string &text);

/// This program's own path (for the child's command line).
std::string this_program(const char *report);

}  // namespace strata::bench
