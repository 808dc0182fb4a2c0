#pragma once
// `classify` and `pick`: the trained GPD picker on a MiniSEED record (Debian's test.mseed, the
// IU.COLA recording of the 2010 Maule earthquake, or any other): sliding windows -> class
// probabilities -> picks with their times.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace picking {

struct GpdApplySettings {
    std::string file, model = "gpd_run/gpd_model.safetensors", plot;
    int64_t stride = 0;  ///< 0: classify steps a whole window, pick 10 samples
    double threshold = 0.9;
    bool json = false;
    int64_t threads = 0;
};

/// Adds the `classify` and `pick` subcommands; `*classify` / `*pick` say which one ran.
void add_gpd_apply_commands(CLI::App &app, GpdApplySettings &settings, CLI::App **classify, CLI::App **pick);

/// Class probabilities of every window (start time, P, S, noise, the class).
int classify_record(const GpdApplySettings &settings);
/// The picks: phase, UTC time, seconds from the record's start, probability.
int pick_record(const GpdApplySettings &settings);

}  // namespace picking
