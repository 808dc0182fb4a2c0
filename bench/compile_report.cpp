#include "bench/compile_report.h"

#include "bench/child_json.h"

#include "bench/strata_case.h"
#include "bench/workloads.h"
#include "frontend/train/train_step.h"

#include <strata/error.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sys/resource.h>
#include <unistd.h>

namespace strata::bench {

namespace {

struct ModelStep {
    std::shared_ptr<nn::Module> model;
    std::shared_ptr<optim::Optimizer> optimizer;
    Shape input, target;
};

/// The model's training step at the benchmark's sizes, `extra_classes` wider.
ModelStep make_model_step(const std::string &name, int64_t extra_classes) {
    const auto &models = compile_report_models();
    if (std::find(models.begin(), models.end(), name) == models.end())
        fail("strata bench --compile-report: unknown model '{}' (lenet, gpd, resnet20, phasenet)", name);
    const Workload &w = find_workload(name == "lenet" ? "lenet_train" : name + "_train");
    return {make_bench_model(name, extra_classes), make_bench_optimizer(name), w.input,
            make_data(w).inputs.at("labels").shape()};
}

double compile_step(const ModelStep &s, size_t *kernels, size_t *nodes = nullptr) {
    const auto start = std::chrono::steady_clock::now();
    const auto step = cross_entropy_step(*s.model, *s.optimizer, s.input, s.target);
    if (kernels) *kernels = step->compiled().executable().kernel_count();
    if (nodes) *nodes = step->compiled().executable().program().nodes().size();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double peak_rss_gib() {
    rusage self{}, children{};
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    return static_cast<double>(std::max(self.ru_maxrss, children.ru_maxrss)) / (1024.0 * 1024.0);  // KiB -> GiB
}

}  // namespace

const std::vector<std::string> &compile_report_models() {
    static const std::vector<std::string> models = {"lenet", "gpd", "resnet20", "phasenet"};
    return models;
}

int compile_one(const std::string &model) {
    size_t kernels = 0, nodes = 0;
    const double cold = compile_step(make_model_step(model, 0), &kernels, &nodes);
    const double recompile = compile_step(make_model_step(model, 1), nullptr);
    nlohmann::json j = {{"model", model}, {"cold_seconds", cold}, {"recompile_seconds", recompile},
                        {"peak_rss_gib", peak_rss_gib()}, {"kernels", kernels}, {"nodes", nodes}};
    fmt::print("{}\n", j.dump());
    return 0;
}

std::vector<CompileReportRow> run_compile_report(const std::vector<std::string> &models,
                                                 const std::string &strata_program, int threads) {
    namespace fs = std::filesystem;
    if (threads < 1) fail("strata bench: --threads must be at least 1, got {}", threads);
    const auto &known = compile_report_models();
    for (const std::string &model : models)  // unknown names fail before anything runs
        if (std::find(known.begin(), known.end(), model) == known.end())
            fail("strata bench --compile-report: unknown model '{}'; expected one of: {}", model, fmt::join(known, ", "));
    std::vector<CompileReportRow> rows;
    for (const std::string &model : models) {
        CompileReportRow row;
        row.model = model;
        char pattern[] = "/tmp/strata-compile-report-XXXXXX";
        const char *dir = mkdtemp(pattern);
        if (!dir) fail("strata bench --compile-report: cannot make a temporary cache folder");
        const std::string command = fmt::format("STRATA_CACHE_DIR={} HL_NUM_THREADS={} {} bench --compile-one {}",
                                                shell_quoted(dir), threads, shell_quoted(strata_program),
                                                shell_quoted(model));
        try {
            const nlohmann::json j = run_child_for_json(command);
            row.cold_seconds = j.at("cold_seconds");
            row.recompile_seconds = j.at("recompile_seconds");
            row.peak_rss_gib = j.at("peak_rss_gib");
            row.kernels = j.at("kernels");
            row.nodes = j.at("nodes");
        } catch (const std::exception &e) {
            row.error = e.what();
        }
        std::error_code ignored;
        fs::remove_all(dir, ignored);
        rows.push_back(row);
    }
    return rows;
}

std::string format_compile_report(const std::vector<CompileReportRow> &rows) {
    std::string text = fmt::format("{:<10} {:>8} {:>8} {:>14} {:>14} {:>16}\n", "model", "IR nodes", "kernels", "cold compile s",
                                   "peak RSS GiB", "recompile s (1)");
    for (const CompileReportRow &r : rows) {
        if (!r.error.empty()) {
            text += fmt::format("{:<10} failed: {}\n", r.model, r.error);
            continue;
        }
        text += fmt::format("{:<10} {:>8} {:>8} {:>14.1f} {:>14.2f} {:>16.1f}\n", r.model, r.nodes, r.kernels, r.cold_seconds,
                            r.peak_rss_gib, r.recompile_seconds);
    }
    text += "(1) the same step with the classifier one class wider, after the cold compile (cache warm)\n";
    return text;
}

}  // namespace strata::bench
