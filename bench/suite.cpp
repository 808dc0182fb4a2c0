#include "bench/suite.h"

#include "bench/libtorch_peer.h"
#include "bench/strata_case.h"

#include <strata/error.h>

#include <algorithm>
#include <malloc.h>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

namespace strata::bench {
namespace {

/// The 1-minute load average (Linux), or -1.
double load_average() {
    double load = -1;
    if (FILE *f = std::fopen("/proc/loadavg", "r")) {
        if (std::fscanf(f, "%lf", &load) != 1) load = -1;
        std::fclose(f);
    }
    return load;
}

/// LibTorch allocates its results with malloc on every call, and glibc maps
/// big blocks afresh each time, so every call page-faults them in (conv1d
/// fwd+bwd: 34-37 ms instead of 20). PyTorch deployments avoid that with
/// jemalloc or tcmalloc; here glibc keeps freed memory while LibTorch runs
/// (Strata's buffer pool does the same for Strata), and is set back after.
struct KeepFreedMemoryForLibTorch {
    KeepFreedMemoryForLibTorch() {
        mallopt(M_MMAP_THRESHOLD, 1 << 30);
        mallopt(M_TRIM_THRESHOLD, 1 << 30);
    }
    ~KeepFreedMemoryForLibTorch() {
        mallopt(M_MMAP_THRESHOLD, 128 << 10);
        mallopt(M_TRIM_THRESHOLD, 128 << 10);
        malloc_trim(0);
    }
};

Row run_workload(const Workload &workload, const SuiteOptions &options, bool have_libtorch) {
    Row row;
    row.workload = &workload;
    row.schedule = options.schedule;
    const WorkloadData data = make_data(workload);
    std::vector<Tensor> results, strata_precise;  // f32 first results; their f64 twin's with --check
    try {
        EngineCase strata_case = make_strata_case(workload, data, options.schedule);
        row.compile_seconds = strata_case.compile_seconds;
        results = strata_case.first_results();
        if (options.profile) {
            codegen::take_kernel_profile();  // forget the first call's
            codegen::set_kernel_profiling(true);
        }
        row.strata = time_calls(strata_case.run, options.reps);
        if (options.profile) {
            codegen::set_kernel_profiling(false);
            row.kernel_profile = codegen::take_kernel_profile();
        }
        if (options.check) {
            // The reference is a structurally different schedule, compiled and run from the same data.
            const std::string reference = options.schedule == "default" ? "simple" : "default";
            EngineCase reference_case = make_strata_case(workload, data, reference);
            const std::vector<Tensor> reference_results = reference_case.first_results();
            if (strata_case.precise_results) {
                strata_precise = strata_case.precise_results();
                row.matches_reference = compare_precise_twins(results, strata_precise, reference_results,
                                                              reference_case.precise_results(), reference);
            } else {
                row.matches_reference = compare_results(results, reference_results, reference);
            }
        }
    } catch (const std::exception &e) {
        // Report it in the row and go on with the other workloads.
        row.error = e.what();
        return row;
    }
    if (!have_libtorch) return row;
    try {
        const KeepFreedMemoryForLibTorch tuned;
        EngineCase torch_case = make_libtorch_case(workload, data);
        const std::vector<Tensor> torch_results = torch_case.first_results();
        row.libtorch = time_calls(torch_case.run, options.reps);
        row.libtorch_status = "";
        if (options.check) {
            if (torch_case.precise_results && !strata_precise.empty())
                row.matches_libtorch = compare_precise_twins(results, strata_precise, torch_results,
                                                             torch_case.precise_results(), "LibTorch");
            else if (torch_case.precise_results)
                row.matches_libtorch = compare_with_precise(results, torch_results, torch_case.precise_results(), "LibTorch");
            else
                row.matches_libtorch = compare_results(results, torch_results, "LibTorch");
        }
    } catch (const std::exception &e) {
        row.libtorch_status = e.what();
    }
    return row;
}

}  // namespace

bool SuiteResult::all_ok() const {
    for (const Row &row : rows) {
        if (!row.error.empty()) return false;
        if (row.matches_reference && !row.matches_reference->passed) return false;
        if (row.matches_libtorch && !row.matches_libtorch->passed) return false;
    }
    return true;
}

SuiteResult run_suite(const SuiteOptions &options, const std::function<void(const std::string &)> &progress) {
    if (options.threads < 1) fail("strata bench: --threads must be at least 1, got {}", options.threads);
    if (options.reps < 0) fail("strata bench: --reps must be positive (or 0 to pick), got {}", options.reps);
    std::vector<const Workload *> selected;
    for (const std::string &name : options.workloads) selected.push_back(&find_workload(name));
    if (selected.empty())
        for (const Workload &w : all_workloads()) selected.push_back(&w);

    // Strata's codegen and Halide's thread pool read this before the first compile / run.
    setenv("HL_NUM_THREADS", std::to_string(options.threads).c_str(), 1);
    SuiteResult result;
    result.load_average = load_average();
    result.cpus = std::thread::hardware_concurrency();
    result.libtorch_version = libtorch_version();
    const bool have_libtorch = !result.libtorch_version.empty();
    if (have_libtorch) set_libtorch_threads(options.threads);
    if (progress) progress("FMA peak probe");
    result.peak = measure_fma_peak(options.threads);
    result.peak_probes = 1;
    for (const Workload *w : selected) {
        if (progress) progress(w->name);
        result.rows.push_back(run_workload(*w, options, have_libtorch));
        const FmaPeak again = measure_fma_peak(options.threads);
        result.peak.gflops_one_thread = std::max(result.peak.gflops_one_thread, again.gflops_one_thread);
        result.peak.gflops_all_threads = std::max(result.peak.gflops_all_threads, again.gflops_all_threads);
        ++result.peak_probes;
    }
    return result;
}

}  // namespace strata::bench
