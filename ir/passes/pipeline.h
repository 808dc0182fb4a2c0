#pragma once
/// \file
/// The default simplification pipeline: verify, then each pass, verifying after each.

#include "ir/program.h"

#include <string>
#include <vector>

namespace strata::ir {

/// One IR pass: a name (for dumps and messages) and its entry function.
struct Pass {
    std::string name;
    Program (*run)(const Program &);
};

/// The passes `run_passes` runs, in order: dead code elimination, constant
/// folding, layout-chain folding, CSE, dead code elimination.
const std::vector<Pass> &default_passes();

/// Verifies `program`, then runs `passes` in order and verifies after each.
/// With the environment variable STRATA_DUMP_IR=1, prints `// after <pass>`
/// and the IR to stderr after each pass.
Program run_passes(const Program &program, const std::vector<Pass> &passes = default_passes());

}  // namespace strata::ir
