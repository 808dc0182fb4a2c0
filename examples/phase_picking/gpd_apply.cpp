#include "gpd_apply.h"
#include "gpd_sliding.h"
#include "seismic_record.h"

#include <strata/cli_flags.h>
#include <strata/strata.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace picking {

namespace {

struct LoadedRecord {
    SeismicRecord record;
    std::vector<std::array<float, 3>> probabilities;
    int64_t window = 0, stride = 0;
};

/// Loads the model, reads the record and classifies its windows.
LoadedRecord classify_windows(const GpdApplySettings &s, int64_t default_stride) {
    if (s.threads > 0) setenv("HL_NUM_THREADS", std::to_string(s.threads).c_str(), 1);
    strata::models::GPD net;
    const strata::CheckpointInfo info = strata::load_checkpoint(s.model, *net, nullptr);
    const auto found = info.metadata.find("gpd.window");
    if (found == info.metadata.end() || found->second != "400")
        strata::fail("{}: not a model saved by phase_picking's training (no gpd.window = 400 in its metadata)", s.model);
    const auto rate = info.metadata.find("gpd.sampling_rate");
    const double trained_rate = rate == info.metadata.end() ? NAN : std::strtod(rate->second.c_str(), nullptr);
    if (!(trained_rate > 0 && trained_rate <= 1e6))
        strata::fail("{}: gpd.sampling_rate '{}' in its metadata; expected a rate in Hz", s.model,
                     rate == info.metadata.end() ? "" : rate->second);
    LoadedRecord loaded;
    loaded.window = 400;
    loaded.stride = s.stride > 0 ? s.stride : default_stride;
    loaded.record = read_seismic_record(s.file);
    const SeismicRecord &r = loaded.record;
    const int64_t length = r.samples.size(1);
    if (length < loaded.window)
        strata::fail("{}: {} has {} samples, fewer than one window ({})", s.file, r.instrument, length, loaded.window);
    fmt::print(stderr, "{}: {} ({}), {} samples at {:g} Hz from {}\n", s.file, r.instrument, r.components, length, r.rate,
               utc_time(r.start));
    if (r.components != "ENZ" && r.components != "12Z")
        fmt::print(stderr, "note: components {} ('-' rows are zeros): the picker was trained with some channels dropped, "
                           "but it reads three best\n",
                   r.components);
    if (std::fabs(r.rate - trained_rate) > 1e-9 * trained_rate)
        fmt::print(stderr, "note: the model was trained at {:g} Hz and this record is at {:g} Hz: its samples are used "
                           "as they are, so a window is {:g} s of it, not {:g} s\n",
                   trained_rate, r.rate, double(loaded.window) / r.rate, double(loaded.window) / trained_rate);
    const GpdClassifier classifier(net, loaded.window);
    loaded.probabilities = classifier.classify(r.samples, loaded.stride);
    return loaded;
}

}  // namespace

void add_gpd_apply_commands(CLI::App &app, GpdApplySettings &s, CLI::App **classify, CLI::App **pick) {
    for (const bool picking : {false, true}) {
        CLI::App *cmd = picking ? app.add_subcommand("pick", "Pick P and S arrivals on a MiniSEED record")
                                : app.add_subcommand("classify", "Class probabilities (P, S, noise) of a MiniSEED "
                                                                 "record's 4-second windows");
        cmd->add_option("file", s.file, "A MiniSEED file (the first instrument in it; Z needed, E/N or 1/2 if there)")
            ->required();
        cmd->add_option("--model", s.model, "A model saved by training (default: gpd_run/gpd_model.safetensors)");
        cmd->add_option("--stride", s.stride,
                        picking ? "Samples between windows (default 10)" : "Samples between windows (default 400)")
            ->check(strata::cli::whole_number(1, "a stride", 1'000'000));
        if (picking) {
            cmd->add_option("--threshold", s.threshold, "Class probability for a pick")->check(strata::cli::number_in(0.0, 1.0, "a probability"));
            cmd->add_option("--plot", s.plot, "Draw the Z component and the P and S probabilities as SVG");
        }
        cmd->add_flag("--json", s.json, "Print JSON instead of a table");
        cmd->add_option("--threads", s.threads, "Halide threads")->check(CLI::Range(int64_t{1}, int64_t{1024}));
        *(picking ? pick : classify) = cmd;
    }
}

int classify_record(const GpdApplySettings &s) {
    const LoadedRecord loaded = classify_windows(s, 400);
    const SeismicRecord &r = loaded.record;
    nlohmann::json windows = nlohmann::json::array();
    if (!s.json) fmt::print("{:<24} {:>7} {:>7} {:>7}  class\n", "window start (UTC)", "P", "S", "noise");
    for (size_t w = 0; w < loaded.probabilities.size(); ++w) {
        const auto &p = loaded.probabilities[w];
        const size_t best = size_t(std::max_element(p.begin(), p.end()) - p.begin());
        const double start = r.start + double(int64_t(w) * loaded.stride) / r.rate;
        if (s.json)
            windows.push_back({{"start", utc_time(start)}, {"start_sample", int64_t(w) * loaded.stride},
                               {"P", p[0]}, {"S", p[1]}, {"noise", p[2]}, {"class", kGpdClassNames[best]}});
        else
            fmt::print("{:<24} {:>7.4f} {:>7.4f} {:>7.4f}  {}\n", utc_time(start), p[0], p[1], p[2], kGpdClassNames[best]);
    }
    if (s.json) fmt::print("{}\n", nlohmann::json{{"instrument", r.instrument}, {"windows", windows}}.dump());
    return 0;
}

int pick_record(const GpdApplySettings &s) {
    const LoadedRecord loaded = classify_windows(s, 10);
    const SeismicRecord &r = loaded.record;
    const std::vector<Pick> picks = find_picks(loaded.probabilities, loaded.stride, loaded.window, s.threshold);
    nlohmann::json list = nlohmann::json::array();
    if (!s.json) fmt::print("{} picks (windows every {} samples, threshold {}):\n", picks.size(), loaded.stride, s.threshold);
    for (const Pick &p : picks) {
        const double seconds = double(p.sample) / r.rate;
        if (s.json)
            list.push_back({{"phase", kGpdClassNames[p.phase]}, {"time", utc_time(r.start + seconds)},
                            {"seconds", seconds}, {"sample", p.sample}, {"probability", p.probability}});
        else
            fmt::print("  {}  {}  {:>9.2f} s  probability {:.3f}\n", kGpdClassNames[p.phase], utc_time(r.start + seconds),
                       seconds, p.probability);
    }
    if (s.json) fmt::print("{}\n", nlohmann::json{{"instrument", r.instrument}, {"picks", list}}.dump());
    if (!s.plot.empty()) {
        // One point per window centre: the Z sample there (scaled to +-1) and the probabilities.
        std::vector<double> x, z, p_prob, s_prob;
        const int64_t length = r.samples.size(1);
        const float *zs = r.samples.data<float>() + 2 * length;
        double peak = 0;
        for (int64_t i = 0; i < length; ++i) peak = std::max(peak, std::fabs(double(zs[i])));
        for (size_t w = 0; w < loaded.probabilities.size(); ++w) {
            const int64_t centre = int64_t(w) * loaded.stride + loaded.window / 2;
            x.push_back(double(centre) / r.rate);
            z.push_back(peak > 0 ? double(zs[centre]) / peak : 0.0);
            p_prob.push_back(loaded.probabilities[w][0]);
            s_prob.push_back(loaded.probabilities[w][1]);
        }
        strata::write_svg_plot(s.plot, fmt::format("GPD on {} from {}", r.instrument, utc_time(r.start)),
                               "seconds from the record's start (window centres)", x,
                               {{"Z (scaled)", z, "#444444"}, {"P probability", p_prob, "#1f77b4"},
                                {"S probability", s_prob, "#d62728"}});
    }
    return 0;
}

}  // namespace picking
