#pragma once
/// \file
/// `strata bench --compile-report`: how long a cold compile of each model's
/// training step takes, its peak memory, how many kernels it is, and how long
/// a recompile takes after one layer's width changes. Each model compiles in a
/// fresh process with an empty compile cache, so nothing earlier helps it.

#include <string>
#include <vector>

namespace strata::bench {

struct CompileReportRow {
    std::string model;
    double cold_seconds = 0;
    /// The same step again with the classifier one class wider (the cache warm).
    double recompile_seconds = 0;
    /// The largest resident set of the compiling process and of any worker it started.
    double peak_rss_gib = 0;
    size_t kernels = 0;
    size_t nodes = 0;  ///< IR nodes of the step after the passes
    std::string error;
};

/// The models the report covers: lenet, gpd, resnet20, phasenet.
const std::vector<std::string> &compile_report_models();

/// Runs `strata_program bench --compile-one MODEL` for each model, each with
/// an empty cache folder of its own and `threads` threads.
std::vector<CompileReportRow> run_compile_report(const std::vector<std::string> &models,
                                                 const std::string &strata_program, int threads);

/// In the child: compiles MODEL's step cold and after a width change, and
/// prints one JSON line with the numbers. Returns the exit status.
int compile_one(const std::string &model);

std::string format_compile_report(const std::vector<CompileReportRow> &rows);

}  // namespace strata::bench
