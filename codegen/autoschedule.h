#pragma once
// Internal to codegen: Halide 14's autoschedulers (the plugins Debian's
// libhalide14-0-dev ships) applied to a pipeline lowered with no schedule.

#include "codegen/lower/lower.h"

#include <string>

namespace strata::codegen {

/// True for "mullapudi2016", "li2018" and "adams2019".
bool is_autoscheduler(const std::string &name);

/// Loads the plugin (once), gives Halide every buffer's static extent as its
/// estimate, and lets the autoscheduler schedule the whole pipeline for
/// `threads` cores. Returns the schedule it wrote, as Halide C++ source.
std::string autoschedule(const std::string &name, LoweredProgram &lowered, const ir::Program &program,
                         const Halide::Target &target, int threads);

}  // namespace strata::codegen
