#pragma once
// The example's MiniSEED mode (`phase_picking archive`): a two-headed picker (model.h) trained
// on windows cut from a folder tree of MiniSEED files (synthetic unless given one), labelled by
// a CSV of P and S picks, transformed in worker threads, emitted as a C library at the end.

#include "synthetic_archive.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace picking {

struct ArchiveSettings {
    std::string data_root, picks, workdir = "phase_picking_run", metrics_path, plot_path, residuals_path,
        emit_dir = "<workdir>/picker", checkpoint, resume, validation_station;
    ArchiveOptions archive;
    int64_t epochs = 6, batch = 32, workers = 1, length = 512, threads = 0;
    double lr = 3e-3, rate = 40.0, stride_seconds = 5.0, tolerance = 8.0;
    uint64_t seed = 0;
};

/// Adds the `archive` subcommand and its options to `app`.
CLI::App *add_archive_command(CLI::App &app, ArchiveSettings &settings);

/// Trains and evaluates on the archive; `settings` as parsed (the emit folder still "<workdir>/picker").
int run_archive(ArchiveSettings settings);

}  // namespace picking
