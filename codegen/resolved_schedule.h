#pragma once
// Internal to codegen: what a CompileOptions' schedule means (a mode and the
// rules on top) and the lowering options it gives. Shared by compile(),
// schedule_in_effect() and cuda_device_code().

#include "codegen/compiler.h"
#include "codegen/lower/lower.h"

#include <string>

namespace strata::codegen {

struct ResolvedSchedule {
    std::string mode;  ///< "default", "simple", "gpu", an autoscheduler or "stages" (stage lines)
    Schedule rules;
    std::string key;   ///< what identifies it in cache keys
};

/// Reads a schedule file when options.schedule names one; throws strata::Error
/// for an unknown schedule or rules on top of a non-default one.
ResolvedSchedule resolve_schedule(const CompileOptions &options);

/// The lowering options for a schedule (rules point into `schedule`).
LowerOptions lower_options_for(const ResolvedSchedule &schedule);

struct PipelineNames;

/// Lowers `program` under `schedule` and, when it names an autoscheduler, lets
/// that schedule the whole pipeline; applies stage lines. `constants` as in
/// LowerOptions. `names`, when given, receives the Funcs' stage-line names as
/// lowered (codegen/stage_schedule.h), before any autoscheduler ran.
LoweredProgram lower_scheduled(const ir::Program &program, const Halide::Target &target,
                               const ResolvedSchedule &schedule,
                               const std::map<std::string, Tensor> *constants = nullptr,
                               PipelineNames *names = nullptr);

}  // namespace strata::codegen
