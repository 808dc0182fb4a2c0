// `strata bench`: the benchmark suite (bench/) as a table, and as JSON with --json.

#include "tools/commands.h"

#include "bench/child_json.h"
#include "bench/compile_report.h"
#include "bench/memory_report.h"
#include "bench/report.h"
#include "bench/suite.h"
#include "bench/workloads.h"
#include "runtime/atomic_file.h"

#include <strata/error.h>

#include <fmt/core.h>

#include <optional>

namespace strata::tools {

int bench(const BenchCommand &command) {
    if (!command.compile_one.empty()) return strata::bench::compile_one(command.compile_one);
    if (!command.memory_one.empty())
        return strata::bench::memory_one(command.memory_one, command.memory_engine, command.threads);
    if (command.compile_report) {
        fmt::print("{}", strata::bench::format_compile_report(strata::bench::run_compile_report(
                             command.workloads.empty() ? strata::bench::compile_report_models() : command.workloads,
                             strata::bench::this_program("--compile-report"), command.threads)));
        return 0;
    }
    if (command.memory_report) {
        fmt::print("{}", strata::bench::format_memory_report(strata::bench::run_memory_report(
                             command.workloads.empty() ? strata::bench::memory_report_workloads() : command.workloads,
                             strata::bench::this_program("--memory-report"), command.threads)));
        return 0;
    }
    if (command.list) {
        for (const strata::bench::Workload &w : strata::bench::all_workloads())
            fmt::print("{:<17} {}\n", w.name, w.description);
        return 0;
    }
    strata::bench::SuiteOptions options;
    options.workloads = command.workloads;
    options.schedule = command.schedule;
    options.threads = command.threads;
    options.reps = command.reps;
    options.check = command.check;
    options.profile = command.profile;
    // Opened before any work, so an unwritable --json path fails in seconds, not after the run.
    std::optional<AtomicFileWriter> json_file;
    if (!command.json_path.empty()) json_file.emplace(command.json_path);
    const strata::bench::SuiteResult result = strata::bench::run_suite(
        options, [](const std::string &what) { fmt::print(stderr, "strata bench: {}...\n", what); });
    fmt::print("{}", strata::bench::format_table(result, options));
    if (json_file) {
        const std::string json = strata::bench::to_json(result, options).dump(2) + "\n";
        json_file->write(json.data(), json.size());
        json_file->commit();
    }
    // Non-zero when a workload failed or a check disagreed (the table says which).
    return result.all_ok() ? 0 : 1;
}

}  // namespace strata::tools
