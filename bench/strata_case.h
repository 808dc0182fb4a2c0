#pragma once
/// \file
/// A workload compiled by Strata as one program (a CompiledGraph or a TrainStep).

#include "bench/engine_case.h"
#include "bench/workloads.h"

#include <string>

namespace strata::bench {

/// Compiles `workload` with `schedule` passed unchanged to
/// `codegen::CompileOptions::schedule`; a bad schedule throws strata::Error.
EngineCase make_strata_case(const Workload &workload, const WorkloadData &data, const std::string &schedule);

}  // namespace strata::bench
