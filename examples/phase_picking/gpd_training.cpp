#include "gpd_training.h"
#include "gpd_sliding.h"
#include "gpd_windows.h"
#include "pick_evaluation.h"

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

std::string in_workdir(const std::string &path, const std::string &workdir) {
    const std::string tag = "<workdir>/";
    return path.rfind(tag, 0) == 0 ? (fs::path(workdir) / path.substr(tag.size())).string() : path;
}

int64_t count(const std::vector<GpdItem> &items, GpdClass label) {
    return std::count_if(items.begin(), items.end(), [&](const GpdItem &i) { return i.label == label; });
}

void print_phase(const char *name, const PhasePicks &p, double rate) {
    fmt::print("  {}: {} of {} arrivals picked within the tolerance (recall {:.3f}), {} picks, {} false (precision "
               "{:.3f}, F1 {:.3f}); ",
               name, p.found, p.arrivals, p.recall(), p.picks, p.false_picks, p.precision(), p.f1());
    if (p.found == 0) {  // no residuals to average
        fmt::print("no residuals\n");
        return;
    }
    fmt::print("residual mean {:+.1f}, MAE {:.1f}, RMSE {:.1f} samples ({:.3f} s)\n", p.mean(), p.mae(), p.rmse(),
               p.rmse() / rate);
}

}  // namespace

void add_gpd_train_options(CLI::App &app, GpdTrainSettings &s) {
    using strata::cli::whole_number;
    app.add_option("--workdir", s.workdir, "Where the synthetic HDF5 file, metrics, checkpoints and the model go");
    app.add_option("--hdf5", s.hdf5, "A STEAD-like HDF5 file (group data, one [samples, 3] E/N/Z trace each)");
    app.add_option("--csv", s.csv, "Its metadata CSV (trace_name, trace_category, p/s_arrival_sample[, split])");
    app.add_option("--traces", s.stead.traces, "Synthetic file: traces (a third of them noise)")
        ->check(whole_number(20, "a number of traces", 10'000'000));
    app.add_option("--trace-seconds", s.stead.seconds, "Synthetic file: seconds per trace")->check(strata::cli::number_in(4.0, 3600.0, "a number of seconds"));
    app.add_option("--rate", s.rate, "Samples per second of the traces (STEAD: 100)")->check(strata::cli::number_in(1.0, 1e4, "a sampling rate in Hz"));
    app.add_option("--epochs", s.epochs)->check(whole_number(1, "a number of epochs"));
    app.add_option("--batch", s.batch)->check(whole_number(1, "a batch size"));
    app.add_option("--lr", s.lr)->check(strata::cli::number_in(1e-6, 1.0, "a learning rate"));
    app.add_option("--workers", s.workers, "Threads reading and transforming windows ahead of the step")
        ->check(CLI::Range(int64_t{0}, int64_t{64}));
    app.add_option("--jitter", s.jitter, "P/S windows are centred within this many samples of the arrival")
        ->check(whole_number(0, "a number of samples", 1000));
    app.add_option("--channel-drop", s.channel_drop, "Fraction of training windows with random channels zeroed")
        ->check(strata::cli::number_in(0.0, 1.0, "a fraction"));
    app.add_option("--pick-traces", s.pick_traces, "Validation traces the picker slides along for pick residuals")
        ->check(whole_number(0, "a number of traces"));
    app.add_option("--pick-stride", s.pick_stride, "Samples between the sliding windows")
        ->check(whole_number(1, "a stride", 100000));
    app.add_option("--threshold", s.threshold, "Class probability for a pick")->check(strata::cli::number_in(0.0, 1.0, "a probability"));
    app.add_option("--tolerance", s.tolerance, "Samples within which a pick matches an arrival")
        ->check(strata::cli::number_in(1.0, 1e6, "a number of samples"));
    app.add_option("--seed", s.seed);
    app.add_option("--threads", s.threads, "Halide threads")->check(CLI::Range(int64_t{1}, int64_t{1024}));
    app.add_option("--model", s.model, "Where the trained model is saved (for classify and pick)");
    app.add_option("--checkpoint", s.checkpoint, "The trainer's whole state, saved every epoch (\"\" for none)");
    app.add_option("--resume", s.resume, "Continue a run from its --checkpoint file");
}

int train_gpd(GpdTrainSettings s) {
    if (s.threads > 0) setenv("HL_NUM_THREADS", std::to_string(s.threads).c_str(), 1);
    if (s.hdf5.empty() != s.csv.empty()) strata::fail("--hdf5 and --csv go together (the file and its metadata)");
    const auto start = std::chrono::steady_clock::now();
    fs::create_directories(s.workdir);
    s.model = in_workdir(s.model, s.workdir);
    s.checkpoint = in_workdir(s.checkpoint, s.workdir);
    auto out = [&](const char *name) { return (fs::path(s.workdir) / name).string(); };
    constexpr int64_t window = 400;  // 4 s at 100 Hz, GPD's window

    if (s.hdf5.empty()) {
        s.stead.rate = s.rate;
        s.stead.seed = s.seed;
        const SteadFiles files = write_synthetic_stead(s.workdir, s.stead);
        s.hdf5 = files.hdf5;
        s.csv = files.csv;
        fmt::print("{} {} ({} earthquake and {} noise traces of {:g} s) and {} ({:.1f} s)\n",
                   files.reused ? "reusing" : "wrote", s.hdf5, files.earthquakes, files.noise, s.stead.seconds, s.csv,
                   seconds_since(start));
    }
    data::Hdf5TraceOptions file_options;
    file_options.path = s.hdf5;
    file_options.metadata_csv = s.csv;
    auto traces = std::make_shared<const data::Hdf5TraceDataset>(file_options);
    const GpdPlan plan = plan_gpd_examples(data::MetadataTable::read_csv(s.csv));
    auto train = std::make_shared<GpdExamples>(traces, plan.train);
    auto validation = std::make_shared<GpdExamples>(traces, plan.validation);
    fmt::print("training on {} windows (P {}, S {}, noise {}), validating on {} (P {}, S {}, noise {}); {} s windows\n",
               train->size(), count(plan.train, kP), count(plan.train, kS), count(plan.train, kNoise),
               validation->size(), count(plan.validation, kP), count(plan.validation, kS),
               count(plan.validation, kNoise), double(window) / s.rate);

    strata::manual_seed(s.seed);
    strata::models::GPD net;
    strata::optim::Adam adam(strata::optim::AdamOptions(s.lr));
    const auto loss = [](const strata::SymTensor &logits, const strata::SymTensor &labels) {
        return strata::cross_entropy(logits, labels);
    };
    strata::TrainerOptions options;
    options.epochs = s.epochs;
    options.batch_size = s.batch;
    options.seed = s.seed;
    options.checkpoint_path = s.checkpoint;
    strata::Trainer trainer(*net, adam, loss, options);
    trainer.add_metric(strata::metrics::Accuracy());
    trainer.add_metric(strata::metrics::PrecisionRecallF1(3));
    const auto &confusion = trainer.add_metric(strata::metrics::ConfusionMatrix(3));

    // In the loader's workers: the window cut around its pick (a new offset every epoch), then
    // what GPD did to its windows (demean, divide by the largest |sample|); training also zeroes
    // random channels of some windows, so that a record with one component is no surprise.
    const GpdCropOptions crop{.length = window, .jitter = s.jitter, .gap = 2 * std::max<int64_t>(s.jitter, 25)};
    strata::StreamOptions stream;
    stream.inputs = {"waveform"};
    stream.num_workers = s.workers;
    stream.transforms = {std::make_shared<GpdCrop>(crop), std::make_shared<data::Demean>(),
                         std::make_shared<RandomApply>(s.channel_drop, std::make_shared<data::ChannelDrop>()),
                         std::make_shared<data::NormalizeMax>()};
    stream.validation_transforms = {std::make_shared<GpdCrop>(crop), std::make_shared<data::Demean>(),
                                    std::make_shared<data::NormalizeMax>()};
    strata::FitOptions fit_options;
    fit_options.resume = s.resume;
    const auto history = trainer.fit(train, stream, fit_options, validation);

    fmt::print("\n epoch | train loss | val loss | val acc | F1 P  | F1 S  | F1 noise | s\n");
    for (const auto &e : history) {
        auto at = [&](const std::string &key) { return e.metrics.count(key) ? e.metrics.at(key) : NAN; };
        fmt::print(" {:>5} | {:>10.4f} | {:>8.4f} | {:>7.4f} | {:.3f} | {:.3f} | {:>8.3f} | {:.1f}\n", e.epoch + 1,
                   e.train_loss, e.validation_loss, at("val_accuracy"), at("val_f1/0"), at("val_f1/1"), at("val_f1/2"),
                   e.seconds);
    }
    if (!history.empty()) {
        const auto &m = history.back().metrics;
        fmt::print("validation windows, last epoch (rows: true class, columns: predicted):\n{}\n",
                   confusion.to_string(kGpdClassNames));
        for (size_t c = 0; c < kGpdClassNames.size(); ++c)
            fmt::print("  {:<5} precision {:.3f}  recall {:.3f}  F1 {:.3f}\n", kGpdClassNames[c],
                       m.at(fmt::format("val_precision/{}", c)), m.at(fmt::format("val_recall/{}", c)),
                       m.at(fmt::format("val_f1/{}", c)));
        strata::write_history_json(out("metrics.json"), history);
        strata::write_history_svg(out("metrics.svg"), history, "GPD picker");
        confusion.write_svg(out("confusion.svg"), kGpdClassNames);
    }
    fmt::print("training step compiled in {:.1f} s; {} epochs in all; whole run so far {:.1f} s\n",
               trainer.compile_seconds(), trainer.epochs_done(), seconds_since(start));

    strata::CheckpointInfo info;
    info.step = adam.step_count();
    info.metadata = {{"gpd.window", std::to_string(window)}, {"gpd.sampling_rate", fmt::format("{}", s.rate)}};
    strata::save_checkpoint(s.model, *net, nullptr, info);
    fmt::print("saved the model to {}\n", s.model);

    // Pick-time residuals: the classifier slides along whole validation traces.
    const auto evaluation_start = std::chrono::steady_clock::now();
    const GpdClassifier classifier(net, window);
    std::vector<int64_t> pick_traces = plan.validation_earthquakes;
    if (int64_t(pick_traces.size()) > s.pick_traces) pick_traces.resize(size_t(s.pick_traces));
    if (!pick_traces.empty()) {
        const PickEvaluation evaluation =
            evaluate_picks(classifier, *traces, pick_traces, {s.pick_stride, s.threshold, s.tolerance});
        fmt::print("picks on {} validation traces (windows every {} samples, threshold {}, tolerance {:g} samples = "
                   "{:g} s), {:.1f} s:\n",
                   evaluation.traces, s.pick_stride, s.threshold, s.tolerance, s.tolerance / s.rate,
                   seconds_since(evaluation_start));
        print_phase("P", evaluation.p, s.rate);
        print_phase("S", evaluation.s, s.rate);
        write_pick_evaluation_json(out("pick_evaluation.json"), evaluation);
        write_pick_residual_svg(out("residuals.svg"), evaluation);
    }
    const std::string record = out("synthetic-event.mseed");
    const auto arrivals = write_synthetic_event_record(record, s.rate, s.seed + 7);
    std::string truth;
    for (const auto &a : arrivals) truth += fmt::format(" {} {:g} s", a.phase, a.seconds);
    fmt::print("wrote {} (60 s, arrivals at{}); try: phase_picking pick {} --model {}\n", record, truth, record, s.model);
    fmt::print("done in {:.1f} s\n", seconds_since(start));
    return 0;
}

}  // namespace picking
