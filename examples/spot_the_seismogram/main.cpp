// "Spot the seismogram" (after Valentine & Trampert, 2012): a 1-D CNN tells,
// from a 500-sample window alone, a long-period seismogram from a price
// series, monthly temperatures and Gaussian noise.
//
//   spot_the_seismogram train [--epochs 8] [--out MODEL] [--examples 2000] [--seed 0] [--distributed]
//                             [--metrics FILE.json] [--plot FILE.svg]
//   spot_the_seismogram classify FILE [--model MODEL] [--format mseed|text|csv] [--column C]
//                                     [--stride 500] [--json]

#include "model.h"
#include "synthetic.h"

#include <strata/cli_flags.h>
#include <strata/cli_version.h>
#include <strata/main_guard.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <thread>

namespace {

const char *kRealRecord = "/usr/share/doc/libmseed-dev/examples/test.mseed";
const char *kClassColors[] = {"#d62728", "#1f77b4", "#2ca02c", "#7f7f7f"};

struct RealWindows {
    std::vector<std::vector<double>> train, held_out;
};

/// 500-sample windows (stride 100) of the real record, if installed: those
/// from the first 60% of each trace for training, the rest held out.
RealWindows real_seismogram_windows() {
    RealWindows windows;
    if (!std::filesystem::exists(kRealRecord)) return windows;
    for (const strata::Trace &trace : strata::read_miniseed(kRealRecord)) {
        const size_t split = trace.samples.size() * 6 / 10;
        for (size_t start = 0; start + spot::kWindow <= trace.samples.size(); start += 100) {
            std::vector<double> w(trace.samples.begin() + static_cast<long>(start),
                                  trace.samples.begin() + static_cast<long>(start) + spot::kWindow);
            if (start + spot::kWindow <= split) windows.train.push_back(std::move(w));
            else if (start >= split) windows.held_out.push_back(std::move(w));
        }
    }
    return windows;
}

/// The inference program (one window at a time).
strata::CompiledGraph compile_classifier(spot::nn::Sequential &net) {
    net->eval();
    strata::Graph g;
    g.output("probabilities", strata::softmax(net->forward(g.input("window", {1, 1, spot::kWindow})), 1));
    return g.compile();
}

/// Class probabilities of one (unnormalised) window.
std::vector<double> classify_window(const strata::CompiledGraph &model, std::vector<double> w) {
    spot::normalize(w);
    strata::Tensor input = strata::Tensor::empty({1, 1, spot::kWindow});
    for (int64_t i = 0; i < spot::kWindow; ++i) input.data<float>()[i] = static_cast<float>(w[static_cast<size_t>(i)]);
    const strata::Tensor p = model.run(input);
    std::vector<double> probabilities;
    for (size_t c = 0; c < spot::kClasses.size(); ++c) probabilities.push_back(p.get_flat(static_cast<int64_t>(c)));
    return probabilities;
}

size_t best_class(const std::vector<double> &p) {
    return static_cast<size_t>(std::max_element(p.begin(), p.end()) - p.begin());
}

/// Trains on this process, or with `group` on every rank of an MPI job (rank 0 prints and saves).
int train(int64_t epochs, int64_t per_class, uint64_t seed, const std::string &out, const std::string &metrics_path,
          const std::string &plot_path, strata::distributed::ProcessGroup *group) {
    const bool lead = !group || group->is_main();
    strata::manual_seed(seed);
    spot::nn::Sequential net = spot::make_model();
    const RealWindows real = real_seismogram_windows();
    if (lead) {
        fmt::print("{}\nparameters: {} (a fully-connected network of the same widths needs {})\n", net->to_string(),
                   net->parameter_count(), spot::dense_equivalent_parameters());
        if (real.train.empty())
            fmt::print("real record {} not found (install libmseed-doc): synthetic data only\n", kRealRecord);
        else
            fmt::print("real seismogram windows: {} for training, {} held out\n", real.train.size(),
                       real.held_out.size());
    }
    const strata::Dataset train_set = spot::make_dataset(per_class, seed + 1, real.train);
    const strata::Dataset test_set = spot::make_dataset(std::max<int64_t>(per_class / 4, 13), seed + 2);
    strata::optim::Adam adam(strata::optim::AdamOptions(2e-3));
    auto loss = [](const strata::SymTensor &logits, const strata::SymTensor &labels) {
        return strata::cross_entropy(logits, labels);
    };
    strata::TrainerOptions options;
    options.epochs = epochs;
    options.batch_size = 50;
    options.seed = seed;
    std::vector<strata::EpochStats> history;
    std::vector<std::string> class_names(spot::kClasses.begin(), spot::kClasses.end());
    if (group) {
        history = strata::distributed::DistributedTrainer(*group, *net, adam, loss, options).fit(train_set, &test_set);
    } else {
        strata::Trainer trainer(*net, adam, loss, options);
        trainer.add_metric(strata::metrics::Accuracy());
        trainer.add_metric(strata::metrics::PrecisionRecallF1(int64_t(class_names.size())));
        const auto &confusion = trainer.add_metric(strata::metrics::ConfusionMatrix(int64_t(class_names.size())));
        history = trainer.fit(train_set, &test_set);
        // The matrix of the last pass: the held-out windows after the last epoch.
        fmt::print("held-out synthetic windows (rows: true class, columns: predicted):\n{}\n",
                   confusion.to_string(class_names));
        fmt::print("F1 per class: {}\n", [&] {
            std::string text;
            for (size_t c = 0; c < class_names.size(); ++c)
                text += fmt::format("{}{} {:.3f}", c ? ", " : "", class_names[c],
                                    history.back().metrics.at(fmt::format("val_f1/{}", c)));
            return text;
        }());
    }
    if (!lead) return 0;
    fmt::print("accuracy on held-out synthetic windows: {:.4f}\n", history.back().validation_accuracy);
    if (!metrics_path.empty()) strata::write_history_json(metrics_path, history);
    if (!plot_path.empty()) strata::write_history_svg(plot_path, history, "spot the seismogram");
    const strata::CompiledGraph model = compile_classifier(net);
    if (!real.held_out.empty()) {
        size_t right = 0;
        for (const auto &w : real.held_out) right += best_class(classify_window(model, w)) == 0;
        fmt::print("accuracy on held-out windows of the real record: {:.4f} ({} of {})\n",
                   static_cast<double>(right) / static_cast<double>(real.held_out.size()), right, real.held_out.size());
    }

    // Save the weights with the inference program (one window at a time).
    strata::Graph g;
    g.output("probabilities", strata::softmax(net->forward(g.input("window", {1, 1, spot::kWindow})), 1));
    strata::CheckpointInfo info;
    info.step = adam.step_count();
    info.ir = g.to_string();
    strata::save_checkpoint(out, *net, nullptr, info);
    fmt::print("saved {}\n", out);
    return 0;
}

std::vector<double> read_series(const std::string &path, std::string format, const std::string &column) {
    if (format.empty()) {
        const std::string ext = std::filesystem::path(path).extension().string();
        format = ext == ".mseed" || ext == ".miniseed" ? "mseed" : ext == ".csv" ? "csv" : "text";
    }
    if (format == "mseed") {
        const auto traces = strata::read_miniseed(path);
        if (traces.empty()) strata::fail("{}: no traces", path);
        if (traces.size() > 1)
            fmt::print(stderr, "{}: {} traces; classifying the first ({})\n", path, traces.size(), traces[0].id());
        return traces[0].samples;
    }
    if (format == "csv") {
        if (column.empty()) strata::fail("{}: --column NAME|INDEX is needed for CSV input", path);
        return strata::read_series_csv(path, column);  // a header name, or an all-digit 0-based index
    }
    return strata::read_series_text(path);
}

int classify(const std::string &path, const std::string &model_path, const std::string &format,
             const std::string &column, int64_t stride, bool json, const std::string &plot_path) {
    if (stride <= 0) strata::fail("--stride must be positive, got {}", stride);
    spot::nn::Sequential net = spot::make_model();
    strata::load_checkpoint(model_path, *net, nullptr);
    const strata::CompiledGraph model = compile_classifier(net);

    const std::vector<double> series = read_series(path, format, column);
    if (static_cast<int64_t>(series.size()) < spot::kWindow)
        strata::fail("{}: {} samples, fewer than one window of {}", path, series.size(), spot::kWindow);
    nlohmann::json windows = nlohmann::json::array();
    std::vector<strata::PlotSegment> segments;
    // Window starts 0, stride, 2 stride, ... up to `last`, stepped so a huge stride cannot overflow.
    const int64_t last = static_cast<int64_t>(series.size()) - spot::kWindow;
    for (int64_t start = 0; start <= last; start = stride > last - start ? last + 1 : start + stride) {
        const std::vector<double> p =
            classify_window(model, {series.begin() + start, series.begin() + start + spot::kWindow});
        const size_t best = best_class(p);
        nlohmann::json probabilities;
        for (size_t c = 0; c < spot::kClasses.size(); ++c) probabilities[spot::kClasses[c]] = p[c];
        windows.push_back({{"start", start}, {"probabilities", probabilities}, {"class", spot::kClasses[best]}});
        segments.push_back({start, start + spot::kWindow, spot::kClasses[best], kClassColors[best]});
        if (!json)
            fmt::print("{:>8}  {:<12} seismogram {:.3f}  finance {:.3f}  temperature {:.3f}  noise {:.3f}\n", start,
                       spot::kClasses[best], p[0], p[1], p[2], p[3]);
    }
    if (json) fmt::print("{}\n", nlohmann::json{{"windows", windows}}.dump());
    if (!plot_path.empty())
        strata::write_svg_segments(plot_path, "spot the seismogram: " + std::filesystem::path(path).filename().string(),
                                   series, segments);
    return 0;
}

int run(int argc, char **argv) {
    CLI::App app{"Spot the seismogram: a 1-D CNN that recognises seismograms among other time series"};
    app.require_subcommand(1);
    strata::cli::add_version_flag(app, "spot_the_seismogram");
    int64_t epochs = 8, per_class = 2000, stride = spot::kWindow;
    uint64_t seed = 0;
    std::string out = "spot_model.safetensors", file, model = SPOT_DEFAULT_MODEL, format, column;
    bool json = false, distributed = false;
    std::string plot_path, metrics_path, history_plot_path;
    CLI::App *train_cmd = app.add_subcommand("train", "Train on generated data and save the model");
    train_cmd->add_option("--epochs", epochs, "Training epochs")->check(strata::cli::whole_number(1, "a number of epochs"));
    train_cmd->add_option("--examples", per_class, "Generated training windows per class")
        ->check(strata::cli::whole_number(1, "a number of windows"));
    train_cmd->add_option("--seed", seed, "Seed of the data and the weights");
    train_cmd->add_option("--out", out, "Where to save the model");
    train_cmd->add_flag("--distributed", distributed,
                        "Data-parallel training over the processes of an MPI job (mpirun -np N ...): each batch of "
                        "50 windows is split across them");
    train_cmd->add_option("--metrics", metrics_path, "Write every epoch's loss, accuracy, precision/recall/F1 as JSON");
    train_cmd->add_option("--plot", history_plot_path, "Write the loss and accuracy per epoch as SVG");
    CLI::App *classify_cmd = app.add_subcommand("classify", "Classify every window of a recorded series");
    classify_cmd->add_option("file", file, "MiniSEED, text (one value per line) or CSV file")->required();
    classify_cmd->add_option("--model", model, "A model saved by `train` (default: the one shipped with Strata)");
    classify_cmd->add_option("--format", format, "mseed, text or csv (default: from the extension)")
        ->check(CLI::IsMember({"mseed", "text", "csv"}));
    classify_cmd->add_option("--column", column, "CSV column, by header name or 0-based index");
    classify_cmd->add_option("--stride", stride, "Samples between window starts")
        ->check(strata::cli::whole_number(1, "a stride"));
    classify_cmd->add_flag("--json", json, "Print JSON instead of a table");
    classify_cmd->add_option("--plot", plot_path, "Draw the series as SVG, each window coloured by its class");
    CLI11_PARSE(app, argc, argv);
    strata::distributed::ProcessGroup *group = nullptr;
    try {
        if (train_cmd->parsed() && distributed) {
            group = &strata::distributed::ProcessGroup::world();
            // The ranks on this machine share its cores (read when Halide's thread pool starts).
            const unsigned threads = std::max(1u, std::thread::hardware_concurrency() /
                                                      static_cast<unsigned>(std::max(1, group->local_size())));
            setenv("HL_NUM_THREADS", std::to_string(threads).c_str(), 0);
        }
        if (train_cmd->parsed()) return train(epochs, per_class, seed, out, metrics_path, history_plot_path, group);
        return classify(file, model, format, column, stride, json, plot_path);
    } catch (const strata::distributed::JobError &e) {
        // Every rank stopped at the same step with the same error: rank 0 reports it.
        if (group->is_main()) fmt::print(stderr, "error: {}\n", e.what());
        return 1;
    } catch (const strata::Error &e) {
        // This rank alone failed: end the whole job rather than leave the others waiting.
        if (group) group->abort(fmt::format("rank {}: {}", group->rank(), e.what()));
        fmt::print(stderr, "error: {}\n", e.what());
        return 1;
    }
}

}  // namespace

int main(int argc, char **argv) {
    return strata::guarded_main("spot_the_seismogram", [&] { return run(argc, argv); });
}
