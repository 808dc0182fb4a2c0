#pragma once
/// \file
/// The benchmark suite behind `strata bench` and `make bench`: measures the
/// FMA peak, then for each workload compiles it with Strata under a schedule,
/// times it, optionally checks its results against a reference schedule, and
/// runs LibTorch on the same data when it is installed.

#include "bench/compare.h"
#include "bench/fma_peak.h"
#include "bench/timing.h"
#include "bench/workloads.h"
#include "codegen/plan/kernel_profile.h"

#include <optional>
#include <string>
#include <vector>

namespace strata::bench {

struct SuiteOptions {
    std::vector<std::string> workloads;  ///< names; empty runs them all
    /// Passed unchanged to codegen::CompileOptions::schedule.
    std::string schedule = "default";
    int threads = 2;  ///< for Strata's kernels (HL_NUM_THREADS) and LibTorch
    int reps = 0;     ///< timed calls per engine and workload; 0 picks (10 to 200, about a second)
    /// Compare the results with the "default" schedule's on the same data
    /// (with the "simple" schedule's when `schedule` is "default"), and with LibTorch's.
    bool check = false;
    /// Time every kernel of Strata's timed calls (the plan executor's profile, in the table and JSON).
    bool profile = false;
};

struct Row {
    const Workload *workload = nullptr;
    std::string schedule;
    std::string error;  ///< why Strata could not compile or run it; the other fields are then empty
    double compile_seconds = 0;
    Timing strata;
    std::optional<Agreement> matches_reference;  ///< with --check
    /// LibTorch: "" when it ran, "not installed", or its error.
    std::string libtorch_status = "not installed";
    Timing libtorch;
    std::optional<Agreement> matches_libtorch;  ///< with --check, Strata's results against LibTorch's
    /// With `profile`: Strata's kernels over the timed calls, most time first.
    std::vector<codegen::KernelTime> kernel_profile;
};

struct SuiteResult {
    /// The best FMA peak of the probes run before and between workloads (other
    /// processes only ever lower what a probe sees).
    FmaPeak peak;
    int peak_probes = 0;
    std::string libtorch_version;  ///< "" when not installed
    /// The 1-minute load average when the suite started (-1 when unknown) and
    /// the CPU count: other processes make every number slower.
    double load_average = -1;
    unsigned cpus = 0;
    std::vector<Row> rows;
    /// False when a row has an error or a failed check.
    bool all_ok() const;
};

/// Runs the suite; an unknown workload name throws strata::Error before anything runs.
/// `progress` is told the name of each workload as it starts (for a status line).
SuiteResult run_suite(const SuiteOptions &options, const std::function<void(const std::string &)> &progress = {});

}  // namespace strata::bench
