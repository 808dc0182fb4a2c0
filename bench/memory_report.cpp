#include "bench/memory_report.h"

#include "bench/child_json.h"
#include "bench/libtorch_peer.h"
#include "bench/process_memory.h"
#include "bench/strata_case.h"
#include "bench/workloads.h"

#include <strata/error.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <malloc.h>

namespace strata::bench {

const std::vector<std::string> &memory_report_workloads() {
    static const std::vector<std::string> workloads = {"lenet_train", "gpd_train", "resnet20_train", "phasenet_train"};
    return workloads;
}

int memory_one(const std::string &workload, const std::string &engine, int threads, int calls) {
    const Workload &w = find_workload(workload);
    const WorkloadData data = make_data(w);
    malloc_trim(0);
    const double process = process_status_mib("VmRSS");
    EngineCase engine_case;
    if (engine == "strata") {
        engine_case = make_strata_case(w, data, "default");
    } else if (engine == "libtorch") {
        if (libtorch_version().empty()) {
            fmt::print("{}\n", nlohmann::json{{"status", "not installed"}}.dump());
            return 0;
        }
        set_libtorch_threads(threads);
        engine_case = make_libtorch_case(w, data);
    } else {
        fail("strata bench --memory-engine: unknown engine '{}' (strata, libtorch)", engine);
    }
    engine_case.first_results();
    malloc_trim(0);  // freed heap back to the system: what compiling or warming up freed does not count
    restart_peak_rss();
    for (int i = 0; i < calls; ++i) engine_case.run();
    const nlohmann::json j = {{"status", ""}, {"process_mib", process}, {"peak_mib", process_status_mib("VmHWM")}};
    fmt::print("{}\n", j.dump());
    return 0;
}

std::vector<MemoryReportRow> run_memory_report(const std::vector<std::string> &workloads,
                                               const std::string &strata_program, int threads) {
    if (threads < 1) fail("strata bench: --threads must be at least 1, got {}", threads);
    for (const std::string &name : workloads) find_workload(name);  // unknown names fail before anything runs
    std::vector<MemoryReportRow> rows;
    for (const std::string &name : workloads) {
        MemoryReportRow row;
        row.workload = name;
        for (const char *engine : {"strata", "libtorch"}) {
            const std::string command =
                fmt::format("HL_NUM_THREADS={} {} bench --threads {} --memory-one {} --memory-engine {}", threads,
                            shell_quoted(strata_program), threads, shell_quoted(name), engine);
            const bool is_strata = std::string(engine) == "strata";
            try {
                const nlohmann::json j = run_child_for_json(command);
                const std::string status = j.at("status");
                if (is_strata) {
                    row.process_mib = j.at("process_mib");
                    row.strata_peak_mib = j.at("peak_mib");
                } else {
                    row.libtorch_status = status;
                    if (status.empty()) row.libtorch_peak_mib = j.at("peak_mib");
                }
            } catch (const std::exception &e) {
                (is_strata ? row.strata_error : row.libtorch_status) = e.what();
            }
        }
        rows.push_back(row);
    }
    return rows;
}

std::string format_memory_report(const std::vector<MemoryReportRow> &rows) {
    std::string text = fmt::format("{:<16} {:>12} {:>16} {:>18} {:>16}\n", "workload", "data MiB (1)", "Strata peak MiB",
                                   "LibTorch peak MiB", "Strata/LibTorch");
    for (const MemoryReportRow &r : rows) {
        if (!r.strata_error.empty()) {
            text += fmt::format("{:<16} Strata failed: {}\n", r.workload, r.strata_error);
            continue;
        }
        const std::string torch = r.libtorch_status.empty() ? fmt::format("{:.0f}", r.libtorch_peak_mib) : r.libtorch_status;
        const std::string ratio =
            r.libtorch_status.empty() ? fmt::format("{:.2f}", r.strata_peak_mib / r.libtorch_peak_mib) : "-";
        text += fmt::format("{:<16} {:>12.0f} {:>16.0f} {:>18} {:>16}\n", r.workload, r.process_mib, r.strata_peak_mib, torch,
                            ratio);
    }
    text += "Peak resident memory of a fresh process per engine over 5 calls after a warm-up call (compiling excluded).\n"
            "(1) the process with the workload's data made, before either engine is built\n";
    return text;
}

}  // namespace strata::bench
