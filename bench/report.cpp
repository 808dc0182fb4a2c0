#include "bench/report.h"

#include <fmt/format.h>

namespace strata::bench {
namespace {

constexpr const char *kFlopConvention =
    "FLOPs = 2 x multiply-adds of the convolutions and linear layers; a fwdbwd call counts the forward, "
    "the input gradient and the weight gradient (LeNet training: every weight gradient, every input "
    "gradient but conv1's); pooling, activations, loss and optimizer are not counted";
constexpr const char *kBytesConvention =
    "max_pool: GB/s = bytes each f32 tensor must move once (forward reads x, writes y; backward reads x "
    "and grad_y, writes grad_x) / median time";
constexpr const char *kCompileConvention =
    "compile s = building the program, IR passes and JIT, wall clock (a compile-cache hit makes it a load)";
constexpr const char *kSpeedupConvention = "Strata/LibTorch = LibTorch median / Strata median (> 1: Strata is faster)";

std::string compact(double v) {
    if (v >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
    if (v >= 1e4) return fmt::format("{:.1f}k", v / 1e3);
    return fmt::format("{:.0f}", v);
}

/// GFLOP/s or GB/s at this median time, with its unit.
std::string rate(const Workload &w, double seconds) {
    if (w.flops > 0) return fmt::format("{:.1f} GF/s", w.flops / seconds * 1e-9);
    if (w.bytes > 0) return fmt::format("{:.1f} GB/s", w.bytes / seconds * 1e-9);
    return "-";  // the models: images/s only
}

std::string agreement(const std::optional<Agreement> &a) {
    if (!a) return "-";
    if (!a->problem.empty()) return fmt::format("NO: {}", a->problem);
    // With f64 twins the verdict is theirs; the f32 error is shown after it.
    if (a->precise_rel_error >= 0)
        return fmt::format("{} {:.0e}/{:.0e}", a->passed ? "yes" : "NO", a->precise_rel_error, a->max_rel_error);
    return fmt::format("{} {:.0e}", a->passed ? "yes" : "NO", a->max_rel_error);
}

nlohmann::json agreement_json(const Agreement &a) {
    nlohmann::json j = {{"reference", a.reference}, {"passed", a.passed}, {"max_abs_error", a.max_abs_error},
                        {"max_rel_error", a.max_rel_error}, {"tolerance", kTolerance}};
    if (a.peer_rel_error >= 0) j["reference_f32_rel_error"] = a.peer_rel_error;
    if (a.precise_rel_error >= 0) {
        j["f64_twins_rel_error"] = a.precise_rel_error;
        j["f64_tolerance"] = kPreciseTolerance;
    }
    if (!a.problem.empty()) j["problem"] = a.problem;
    return j;
}

/// Rates of one engine's timing.
nlohmann::json timing_json(const Workload &w, const Timing &t) {
    nlohmann::json j = {{"median_ms", 1e3 * t.median_seconds}, {"min_ms", 1e3 * t.min_seconds}, {"reps", t.reps}};
    if (w.flops > 0) j["gflops"] = w.flops / t.median_seconds * 1e-9;
    if (w.bytes > 0) j["gbytes_per_s"] = w.bytes / t.median_seconds * 1e-9;
    if (w.images > 0) j["images_per_s"] = static_cast<double>(w.images) / t.median_seconds;
    return j;
}

/// Calls of the timed function the profile covers (the warm-ups and the timed reps).
int profiled_steps(const Row &row) { return kWarmupCalls + row.strata.reps; }

/// The kernels that take most of a call of `row`'s workload, with --profile.
std::string format_kernel_profile(const Row &row) {
    constexpr size_t kShown = 15;
    if (row.kernel_profile.empty()) return "";
    double total = 0;
    for (const codegen::KernelTime &k : row.kernel_profile) total += k.seconds;
    const double steps = profiled_steps(row);
    std::string out = fmt::format("\n{}: {} kernels, {:.3f} ms of kernel time per call (most first)\n{:>9} {:>6} {:>6}  {}\n",
                                  row.workload->name, row.kernel_profile.size(), 1e3 * total / steps, "ms/call",
                                  "%", "calls", "kernel");
    for (size_t i = 0; i < std::min(kShown, row.kernel_profile.size()); ++i) {
        const codegen::KernelTime &k = row.kernel_profile[i];
        out += fmt::format("{:>9.3f} {:>5.1f}% {:>6.0f}  {}\n", 1e3 * k.seconds / steps, 100 * k.seconds / total,
                           k.calls / steps, k.label);
    }
    return out;
}

}  // namespace

std::string format_table(const SuiteResult &result, const SuiteOptions &options) {
    const FmaPeak &peak = result.peak;
    std::string out = fmt::format(
        "Strata bench: schedule '{}', {} thread(s); LibTorch {}; load average {:.2f} on {} CPUs at start\n"
        "FMA peak, best of {} probes before and between workloads ({}, {} f32 lanes): {:.1f} GFLOP/s on 1 thread, "
        "{:.1f} on {}; %peak uses the latter\n"
        "{}.\n{}.\n{}.\n{}. matches (with --check): max|a-b| <= {:g} x max|ref| per result; the model workloads "
        "(training steps and inference) also run in f64 in both engines and schedules, and those f64 twins decide "
        "(<= {:g}; shown as f64/f32 error: an f32 step's ReLU masks flip where a value lies within rounding of zero, "
        "in any engine).\n\n",
        options.schedule, options.threads,
        result.libtorch_version.empty() ? "not installed" : result.libtorch_version, result.load_average, result.cpus,
        result.peak_probes, peak.isa, peak.lanes,
        peak.gflops_one_thread, peak.gflops_all_threads, peak.threads, kFlopConvention, kBytesConvention, kCompileConvention,
        kSpeedupConvention, kTolerance, kPreciseTolerance);
    if (result.load_average > 0.5 * result.cpus)
        out += fmt::format(
            "WARNING: other processes are running (load average {:.2f} on {} CPUs): every timing is slower than on an "
            "idle machine, LibTorch's spinning OpenMP threads most of all; rerun when the machine is idle.\n\n",
            result.load_average, result.cpus);
    const std::string reference = options.schedule == "default" ? "simple" : "default";
    out += fmt::format("{:<17} {:<9} {:>9} {:>10} {:>10} {:>11} {:>6} {:>9} {:>11} | {:>9} {:>11} {:>9} {:>8} {:>9}\n",
                       "workload", "schedule", "compile s", "median ms", "min ms", "rate", "%peak", "images/s",
                       "= " + reference, "LT ms", "LT rate", "LT img/s", "= LT", "Strata/LT");
    for (const Row &row : result.rows) {
        const Workload &w = *row.workload;
        if (!row.error.empty()) {
            out += fmt::format("{:<17} {:<9} error: {}\n", w.name, row.schedule, row.error);
            continue;
        }
        const double s = row.strata.median_seconds;
        const std::string percent = w.flops > 0 ? fmt::format("{:.0f}%", 100 * w.flops / s * 1e-9 / peak.gflops_all_threads) : "-";
        out += fmt::format("{:<17} {:<9} {:>9.2f} {:>10.3f} {:>10.3f} {:>11} {:>6} {:>9} {:>11} | ", w.name,
                           row.schedule, row.compile_seconds, 1e3 * s, 1e3 * row.strata.min_seconds, rate(w, s),
                           percent, w.images > 0 ? compact(w.images / s) : "-", agreement(row.matches_reference));
        if (!row.libtorch_status.empty()) {
            out += row.libtorch_status + "\n";
            continue;
        }
        const double t = row.libtorch.median_seconds;
        out += fmt::format("{:>9.3f} {:>11} {:>9} {:>8} {:>8.2f}x\n", 1e3 * t, rate(w, t),
                           w.images > 0 ? compact(w.images / t) : "-", agreement(row.matches_libtorch), t / s);
    }
    for (const Row &row : result.rows) out += format_kernel_profile(row);
    return out;
}

nlohmann::json to_json(const SuiteResult &result, const SuiteOptions &options) {
    const FmaPeak &peak = result.peak;
    nlohmann::json j;
    j["schedule"] = options.schedule;
    j["threads"] = options.threads;
    j["load_average_at_start"] = result.load_average;
    j["cpus"] = result.cpus;
    j["libtorch"] = result.libtorch_version.empty() ? "not installed" : result.libtorch_version;
    j["fma_peak"] = {{"isa", peak.isa},
                     {"lanes", peak.lanes},
                     {"gflops_one_thread", peak.gflops_one_thread},
                     {"gflops_all_threads", peak.gflops_all_threads},
                     {"threads", peak.threads},
                     {"probes", result.peak_probes}};
    j["conventions"] = {{"flops", kFlopConvention}, {"bytes", kBytesConvention}, {"compile_s", kCompileConvention},
                        {"strata_over_libtorch", kSpeedupConvention}, {"tolerance", kTolerance}};
    j["rows"] = nlohmann::json::array();
    for (const Row &row : result.rows) {
        const Workload &w = *row.workload;
        nlohmann::json r = {{"workload", w.name}, {"description", w.description}, {"schedule", row.schedule}};
        if (w.flops > 0) r["flops_per_call"] = w.flops;
        if (w.bytes > 0) r["bytes_per_call"] = w.bytes;
        if (!row.error.empty()) {
            r["error"] = row.error;
            j["rows"].push_back(r);
            continue;
        }
        r["compile_s"] = row.compile_seconds;
        r["strata"] = timing_json(w, row.strata);
        if (w.flops > 0) r["strata"]["percent_of_peak"] = 100 * w.flops / row.strata.median_seconds * 1e-9 / peak.gflops_all_threads;
        if (row.matches_reference) r["check"] = agreement_json(*row.matches_reference);
        if (row.libtorch_status.empty()) {
            r["libtorch"] = timing_json(w, row.libtorch);
            if (row.matches_libtorch) r["libtorch"]["check"] = agreement_json(*row.matches_libtorch);
            r["strata_over_libtorch"] = row.libtorch.median_seconds / row.strata.median_seconds;
        } else {
            r["libtorch"] = {{"status", row.libtorch_status}};
        }
        for (const codegen::KernelTime &k : row.kernel_profile)
            r["kernel_profile"].push_back(
                {{"kernel", k.label}, {"ms_per_call", 1e3 * k.seconds / profiled_steps(row)}, {"calls", k.calls}});
        j["rows"].push_back(r);
    }
    return j;
}

}  // namespace strata::bench
