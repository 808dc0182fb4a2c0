#pragma once
// Internal to codegen: compiling many kernels at once in worker processes.
// Halide and LLVM compile one pipeline per process safely; each worker
// (the `strata-kernel-compiler` program) takes kernels from a shared job list
// and writes them into the on-disk compile cache, where the calling process
// then finds them. No Halide in this header.

#include "codegen/compiler.h"

#include <functional>
#include <string>
#include <vector>

namespace strata::codegen {

/// Compiles `kernels` (whole-program partition, no passes) into the on-disk
/// cache on all cores; `progress(done)` is called as kernels finish. Returns
/// false, having compiled nothing, when no worker can run (no cache, no worker
/// program, rules the job file cannot carry): the caller then compiles in
/// process. A kernel a worker fails on is left for the caller, whose compile
/// reports the error.
bool compile_in_workers(const std::vector<const ir::Program *> &kernels, const CompileOptions &options,
                        const std::function<void(size_t done)> &progress);

/// The job file format, shared with the worker program.
struct KernelJobs {
    std::string target;
    std::string schedule;  ///< a mode: default or simple
    std::string rules;     ///< class and op rules, as schedule-file text
    int threads = 1;
    std::vector<std::string> kernels;  ///< IR text
};
std::string write_kernel_jobs(const KernelJobs &jobs);
KernelJobs read_kernel_jobs(const std::string &text);

/// Worker side: compiles the jobs in `dir`, claiming each with an exclusive
/// file so several workers share the list. Returns the process exit status.
int run_kernel_worker(const std::string &dir);

}  // namespace strata::codegen
