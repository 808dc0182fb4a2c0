#pragma once
// The `strata` subcommands, one function each.

#include <string>

namespace strata::tools {

struct InspectOptions {
    std::string path;
    bool run_passes = false;
    bool compile = false;
    std::string target;
};

/// `strata inspect FILE`: what a saved IR program contains.
int inspect(const InspectOptions &options);

/// `strata ops`: the op table.
int list_ops();

}  // namespace strata::tools
