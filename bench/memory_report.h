#pragma once
/// \file
/// `strata bench --memory-report`: the peak resident memory of a process that
/// trains (or runs) a workload with Strata, beside one that does the same with
/// LibTorch. Each engine runs in a fresh process of its own, so neither sees
/// the other's allocations, compiler or caches.

#include <string>
#include <vector>

namespace strata::bench {

struct MemoryReportRow {
    std::string workload;
    /// Resident MiB of the process once the workload's data is made, before the engine is built.
    double process_mib = 0;
    /// Peak resident MiB of each engine's process over its timed calls (after one warm-up call).
    double strata_peak_mib = 0, libtorch_peak_mib = 0;
    std::string strata_error;                         ///< "" when it ran
    std::string libtorch_status = "not installed";   ///< "" when it ran
};

/// The workloads the report covers by default: the model training steps.
const std::vector<std::string> &memory_report_workloads();

/// Runs `strata_program bench --memory-one W --memory-engine E` for each workload and engine.
std::vector<MemoryReportRow> run_memory_report(const std::vector<std::string> &workloads,
                                               const std::string &strata_program, int threads);

/// In the child: builds `engine` ("strata" or "libtorch") for the workload, makes one
/// warm-up call, then `calls` more, and prints one JSON line with the process's
/// resident memory before the engine and its peak over those calls. Returns the exit status.
int memory_one(const std::string &workload, const std::string &engine, int threads, int calls = 5);

std::string format_memory_report(const std::vector<MemoryReportRow> &rows);

}  // namespace strata::bench
