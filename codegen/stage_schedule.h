#pragma once
// Internal to codegen: stage lines (codegen/schedule.h) applied to a lowered
// pipeline with Halide's own scheduling primitives, and the schedule of any
// lowered pipeline read back from Halide's schedule objects as stage lines.
//
// Names. Halide makes Func names unique per process ("f", then "f$1", ...),
// so lowering the same program twice gives different names. Stage lines use
// canonical names instead: the "$N" suffix is renumbered within the pipeline
// in creation order (the first "f" of a pipeline is always "f", the second
// "f$1"). Likewise an unnamed RDom's variables ("r123$x") are written "r$x".

#include "codegen/lower/lower.h"

#include <map>
#include <string>
#include <vector>

namespace strata::codegen {

/// The canonical name of each Func of a freshly lowered pipeline and the
/// order stage lines list them in (producers first). Taken before an
/// autoscheduler runs: Halide's autoschedulers inline trivial Funcs into
/// their consumers' definitions, which would change both.
struct PipelineNames {
    std::map<std::string, std::string> canonical;  ///< actual name -> canonical name
    std::vector<std::string> order;                ///< actual names
};
PipelineNames pipeline_names(const LoweredProgram &lowered);

/// Puts every Func of the pipeline back into Halide's unscheduled state
/// (inlined, loops in definition order, serial), so stage lines can schedule
/// a pipeline that was lowered with the default or simple schedule's
/// algorithm. Throws strata::Error when the schedule changed the algorithm
/// itself (Func::in wrappers: the GPU schedules).
void reset_schedules(LoweredProgram &lowered);

/// Applies the stage lines of `schedule`, in order. Throws strata::Error
/// naming the line and the directive for an unknown Func, stage or loop, a
/// GPU directive on a CPU target, or anything Halide rejects.
void apply_stage_rules(LoweredProgram &lowered, const Schedule &schedule, const Halide::Target &target);

/// The stage lines that give the pipeline's current schedule when applied to
/// its unscheduled form: one line per scheduled stage, producers first.
/// Throws strata::Error for schedules stage lines cannot express (compute_with,
/// prefetch, wrappers, rfactor's purified vars, ...), naming the Func.
/// `names`: as taken when the pipeline was lowered (else taken now).
std::string read_stage_schedule(const LoweredProgram &lowered, const PipelineNames *names = nullptr);

}  // namespace strata::codegen
