#pragma once
/// \file
/// Compile targets, named as Halide names them ("host", "x86-64-linux-avx2",
/// "arm-64-linux", "host-cuda"). No Halide types in this header.

#include <string>

namespace strata::codegen {

/// The target to compile for when none is given: $STRATA_TARGET if set,
/// else "host" (the features of the CPU this process runs on, detected now).
std::string default_target();

/// The canonical Halide string of a target name, with "host" resolved to
/// this CPU's features. Throws strata::Error for an unknown target.
std::string resolve_target(const std::string &name);

/// resolve_target of `name`, or of `default_target()` when `name` is empty.
std::string resolve_target_or_default(const std::string &name);

/// True when a target can be JIT-compiled and run in this process.
bool can_run_in_process(const std::string &resolved_target);

}  // namespace strata::codegen
