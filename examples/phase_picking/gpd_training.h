#pragma once
// The example's default mode: the GPD picker (Ross et al. 2018) trained on a STEAD-like HDF5
// file (a synthetic one it writes, or the user's), with validation metrics, pick-time residuals
// on whole validation traces, checkpoint and resume; the trained model is saved for `classify`
// and `pick` (gpd_apply.h).

#include "stead_synthetic.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace picking {

struct GpdTrainSettings {
    std::string workdir = "gpd_run";
    std::string hdf5, csv;          ///< a STEAD-like file and its CSV (default: write a synthetic one)
    std::string model = "<workdir>/gpd_model.safetensors", checkpoint = "<workdir>/train-state.safetensors", resume;
    SteadOptions stead;
    int64_t epochs = 6, batch = 64, workers = 1, threads = 0, jitter = 20, pick_traces = 200, pick_stride = 10;
    double lr = 1e-3, rate = 100.0, threshold = 0.9, tolerance = 50, channel_drop = 0.2;
    uint64_t seed = 0;
};

/// The training options on `app` (the program's own, as training is the default mode).
void add_gpd_train_options(CLI::App &app, GpdTrainSettings &settings);

/// Trains, evaluates and saves; prints the per-epoch table and the pick evaluation. Writes into
/// the work folder: metrics.json and metrics.svg (every epoch), confusion.svg, pick_evaluation.json
/// and residuals.svg (the pick-time residuals), synthetic-event.mseed (a record to try `pick` on)
/// and the model.
int train_gpd(GpdTrainSettings settings);

}  // namespace picking
