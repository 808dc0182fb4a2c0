// The MiniSEED mode: windows cut from a folder tree of MiniSEED files, labelled from a CSV of
// P and S picks, transformed in worker threads, train a two-headed picker (is there a P
// arrival; at which sample do P and S start) through Trainer's streaming fit, with detection
// accuracy/F1 and pick residuals as metrics; the trained picker is emitted as a C library.
//
//   phase_picking archive [--data TREE --picks PICKS.csv] [--workdir DIR] [--epochs 6] [--batch 32]
//                         [--workers 1] [--metrics FILE.json] [--plot FILE.svg] [--emit DIR|""]
//                         [--checkpoint FILE] [--resume FILE]
//
// Without --data it first writes a synthetic archive (SDS layout, Steim-2 records) and its
// picks into DIR (--stations, --minutes). The last station is held out for validation.

#include "archive_mode.h"
#include "labelled_windows.h"
#include "model.h"
#include "residual_histogram.h"

#include "runtime/data/transforms.h"

#include <strata/cli_flags.h>
#include <strata/stopwatch.h>
#include <strata/strata.h>

#include <fmt/core.h>

#include <chrono>
#include <cmath>
#include <filesystem>

namespace picking {

namespace {

namespace data = strata::data;
namespace fs = std::filesystem;


using strata::seconds_since;

/// "XX.S04" for every station of the index, in order.
std::vector<std::string> station_names(const data::MiniseedIndex &index) {
    std::vector<std::string> names;
    for (const auto &s : index.stations) {
        const std::string name = s.id.substr(0, s.id.find('.', s.id.find('.') + 1));
        if (names.empty() || names.back() != name) names.push_back(name);
    }
    return names;
}

/// The inference program at batch 1: detection probability, P and S onset probabilities.
void emit_picker(Picker &net, int64_t length, const std::string &dir) {
    net->eval();
    strata::Graph g;
    const strata::SymMap heads = net->heads(g.input("waveform", {1, 3, length}));
    g.output("detection", strata::sigmoid(heads.at("detection")));
    g.output("p_pick", strata::softmax(heads.at("p_pick"), 1));
    g.output("s_pick", strata::softmax(heads.at("s_pick"), 1));
    strata::codegen::EmitOptions options;
    options.name = "picker";
    options.out_dir = dir;
    const auto start = std::chrono::steady_clock::now();
    const auto library = strata::codegen::emit_library(g.program(), g.parameter_values(), options);
    fmt::print("emitted {} and {} in {:.1f} s: picker_predict(waveform[3*{}], detection[1], p_pick[{}], "
               "s_pick[{}])\n",
               library.library, library.header, seconds_since(start), length, length, length);
}

}  // namespace

CLI::App *add_archive_command(CLI::App &app, ArchiveSettings &s) {
    CLI::App *cmd = app.add_subcommand(
        "archive", "Train a two-headed P/S picker on windows of a MiniSEED archive labelled by a picks CSV");
    cmd->add_option("--data", s.data_root, "A folder tree of MiniSEED files (default: write a synthetic one)");
    cmd->add_option("--picks", s.picks, "CSV of picks: network,station,phase,time (ISO 8601 UTC)");
    cmd->add_option("--workdir", s.workdir, "Where the synthetic archive, the window indexes and the library go");
    cmd->add_option("--stations", s.archive.stations, "Synthetic archive: stations")
        ->check(strata::cli::whole_number(2, "a number of stations"));
    cmd->add_option("--minutes", s.archive.minutes, "Synthetic archive: minutes of data per station")
        ->check(strata::cli::whole_number(1, "a number of minutes"));
    cmd->add_option("--validation-station", s.validation_station, "NET.STA held out (default: the last one)");
    cmd->add_option("--rate", s.rate, "Samples per second the windows are resampled to")->check(strata::cli::number_in(1.0, 1e4, "a sampling rate in Hz"));
    cmd->add_option("--stride", s.stride_seconds, "Seconds between training windows")->check(strata::cli::number_in(0.01, 1e6, "a stride in seconds"));
    cmd->add_option("--epochs", s.epochs)->check(strata::cli::whole_number(1, "a number of epochs"));
    cmd->add_option("--batch", s.batch)->check(strata::cli::whole_number(1, "a batch size"));
    cmd->add_option("--lr", s.lr)->check(strata::cli::number_in(1e-6, 1.0, "a learning rate"));
    cmd->add_option("--workers", s.workers, "Threads reading and transforming windows ahead of the step")
        ->check(CLI::Range(int64_t{0}, int64_t{64}));
    cmd->add_option("--tolerance", s.tolerance, "Samples within which a pick counts as right")->check(strata::cli::number_in(0.0, 1e6, "a number of samples"));
    cmd->add_option("--seed", s.seed);
    cmd->add_option("--threads", s.threads, "Halide threads")->check(CLI::Range(int64_t{1}, int64_t{1024}));
    cmd->add_option("--metrics", s.metrics_path, "Write every epoch's values as JSON");
    cmd->add_option("--plot", s.plot_path, "Write the loss and headline metrics per epoch as SVG");
    cmd->add_option("--residuals", s.residuals_path, "Draw the validation picks' residuals as an SVG histogram");
    cmd->add_option("--emit", s.emit_dir, "Emit the trained picker as a C library here (\"\" to skip)");
    cmd->add_option("--checkpoint", s.checkpoint, "Save the trainer's whole state here every epoch");
    cmd->add_option("--resume", s.resume, "Continue a run from its --checkpoint file");
    return cmd;
}

int run_archive(ArchiveSettings s) {
    s.archive.rate = s.rate;
    s.archive.seed = s.seed;
    if (s.emit_dir == "<workdir>/picker") s.emit_dir = (fs::path(s.workdir) / "picker").string();
    if (s.threads > 0) setenv("HL_NUM_THREADS", std::to_string(s.threads).c_str(), 1);
    const auto start = std::chrono::steady_clock::now();
    fs::create_directories(s.workdir);
    std::string root = s.data_root, picks_path = s.picks;
    if (root.empty()) {
        const Archive archive = write_synthetic_archive(s.workdir, s.archive);
        root = archive.root;
        picks_path = archive.picks;
        fmt::print("wrote a synthetic archive: {} MiniSEED files under {}, {} events in {} ({:.1f} s)\n", archive.files,
                   root, archive.events, picks_path, seconds_since(start));
    } else if (picks_path.empty()) {
        strata::fail("--data {} needs --picks FILE.csv (columns network, station, phase, time)", root);
    }

    // Two window indexes of the same tree, built once and saved in the work folder: training
    // windows longer than the model's input (a random crop moves the picks around in them),
    // validation windows of exactly the input length.
    data::MiniseedWindowOptions train_windows;
    train_windows.sampling_rate = s.rate;
    train_windows.window_seconds = double(s.length) * 1.5625 / s.rate;
    train_windows.stride_seconds = s.stride_seconds;
    data::MiniseedWindowOptions validation_windows = train_windows;
    validation_windows.window_seconds = double(s.length) / s.rate;
    validation_windows.stride_seconds = 0;  // back to back
    auto train_index = data::MiniseedDataset::open(root, train_windows, (fs::path(s.workdir) / "train-index.json").string());
    auto validation_index =
        data::MiniseedDataset::open(root, validation_windows, (fs::path(s.workdir) / "validation-index.json").string());
    if (train_index->loaded_saved_index() && validation_index->loaded_saved_index())
        fmt::print("saved window indexes reused (the files under {} have not changed)\n", root);
    else
        fmt::print("indexed {} MiniSEED files ({:.1f} s so far)\n", train_index->index().files.size(), seconds_since(start));
    const std::vector<std::string> stations = station_names(train_index->index());
    if (stations.size() < 2) strata::fail("{}: one station ({}); need two or more (one is held out)", root, stations[0]);
    const std::string held_out = s.validation_station.empty() ? stations.back() : s.validation_station;
    std::vector<std::string> training_stations;
    for (const auto &name : stations)
        if (name != held_out) training_stations.push_back(name);

    const PickTable picks = read_picks(picks_path);
    auto train = std::make_shared<LabelledWindows>(train_index, picks, training_stations);
    auto validation = std::make_shared<LabelledWindows>(validation_index, picks, std::vector{held_out});
    fmt::print("{} stations; training on {} windows of {} samples ({} with a P arrival), validating on {} windows of "
               "{} ({}, {} with P)\n",
               stations.size(), train->size(), train_index->index().window_samples, train->windows_with_p(),
               validation->size(), s.length, held_out, validation->windows_with_p());

    strata::manual_seed(s.seed);
    Picker net;
    strata::optim::Adam adam(strata::optim::AdamOptions(s.lr));
    const strata::ForwardFn forward = [&](const strata::SymMap &in) { return net->heads(in.at("waveform")); };
    const double per_example = 1.0 / double(s.batch);
    const strata::MultiLossFn loss = [per_example](const strata::SymMap &out, const strata::SymMap &t) {
        // Summed over the windows that have the pick, per window of the batch: a batch without
        // any pick adds 0 instead of 0/0.
        strata::CrossEntropyOptions sum;
        sum.reduction = "sum";
        return strata::binary_cross_entropy_with_logits(out.at("detection"), t.at("is_event")) +
               per_example * (strata::cross_entropy(out.at("p_pick"), t.at("p_onset"), sum) +
                              strata::cross_entropy(out.at("s_pick"), t.at("s_onset"), sum));
    };
    strata::TrainerOptions options;
    options.epochs = s.epochs;
    options.batch_size = s.batch;
    options.seed = s.seed;
    options.checkpoint_path = s.checkpoint;
    strata::Trainer trainer(*net, adam, forward, loss, options);
    namespace metrics = strata::metrics;
    trainer.add_metric(metrics::BinaryAccuracy()).on("detection", "is_event");
    trainer.add_metric(metrics::PrecisionRecallF1::binary()).on("detection", "is_event");
    trainer.add_metric(metrics::PickingResidual(s.tolerance)).on("p_pick", "p_onset");
    trainer.add_metric(metrics::PickingResidual(s.tolerance)).on("s_pick", "s_onset");
    const auto reach = static_cast<int64_t>(std::ceil(4 * std::max(s.tolerance, 1.0)));
    auto &p_histogram = trainer.add_metric(ResidualHistogram(reach));
    auto &s_histogram = trainer.add_metric(ResidualHistogram(reach));
    p_histogram.on("p_pick", "p_onset");
    s_histogram.on("s_pick", "s_onset");

    strata::StreamOptions stream;
    stream.inputs = {"waveform"};
    stream.num_workers = s.workers;
    stream.transforms = {std::make_shared<data::Demean>(),
                         std::make_shared<data::RandomCrop>(data::RandomCropOptions{
                             .length = s.length, .picks = {"p_sample", "s_sample"}}),
                         std::make_shared<data::NormalizeMax>(), std::make_shared<PickTargets>(s.length)};
    stream.validation_transforms = {std::make_shared<data::Demean>(), std::make_shared<data::NormalizeMax>(),
                                    std::make_shared<PickTargets>(s.length)};
    strata::FitOptions fit_options;
    fit_options.resume = s.resume;
    const auto history = trainer.fit(train, stream, fit_options, validation);

    fmt::print("\n epoch | train loss | val loss | detection acc |  F1   | P within {:g} | S within {:g} | P MAE | S MAE | s\n",
               s.tolerance, s.tolerance);
    for (const auto &e : history) {
        auto at = [&](const char *key) { return e.metrics.count(key) ? e.metrics.at(key) : NAN; };
        fmt::print(" {:>5} | {:>10.4f} | {:>8.4f} | {:>13.3f} | {:.3f} | {:>10.3f} | {:>10.3f} | {:>5.1f} | {:>5.1f} | {:.1f}\n",
                   e.epoch + 1, e.train_loss, e.validation_loss, at("val_detection.binary_accuracy"),
                   at("val_detection.f1/1"), at("val_p_pick.picking/within_tolerance"),
                   at("val_s_pick.picking/within_tolerance"), at("val_p_pick.picking/mae"),
                   at("val_s_pick.picking/mae"), e.seconds);
    }
    fmt::print("training step compiled in {:.1f} s; whole run so far {:.1f} s\n", trainer.compile_seconds(),
               seconds_since(start));
    if (!s.metrics_path.empty()) strata::write_history_json(s.metrics_path, history);
    if (!s.plot_path.empty()) strata::write_history_svg(s.plot_path, history, "phase picking");
    if (!s.residuals_path.empty())
        write_residual_svg(s.residuals_path, p_histogram, s_histogram);
    if (!s.emit_dir.empty()) emit_picker(net, s.length, s.emit_dir);
    fmt::print("done in {:.1f} s\n", seconds_since(start));
    return 0;
}


}  // namespace picking
