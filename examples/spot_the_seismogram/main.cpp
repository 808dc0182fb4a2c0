// "Spot the seismogram" (after Valentine & Trampert, 2012): a 1-D CNN tells,
// from a 500-sample window alone, a long-period seismogram from a price
// series, monthly temperatures and Gaussian noise.
//
//   spot_the_seismogram train [--epochs 8] [--out MODEL] [--examples 2000] [--seed 0]
//   spot_the_seismogram classify FILE [--model MODEL] [--format mseed|text|csv] [--column C]
//                                     [--stride 500] [--json]

#include "model.h"
#include "synthetic.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <filesystem>

namespace {

const char *kRealRecord = "/usr/share/doc/libmseed-dev/examples/test.mseed";

/// 500-sample windows (stride 250) of every trace of the real record, if installed.
std::vector<std::vector<double>> real_seismogram_windows() {
    std::vector<std::vector<double>> windows;
    if (!std::filesystem::exists(kRealRecord)) return windows;
    for (const strata::Trace &trace : strata::read_miniseed(kRealRecord))
        for (size_t start = 0; start + spot::kWindow <= trace.samples.size(); start += spot::kWindow / 2)
            windows.emplace_back(trace.samples.begin() + static_cast<long>(start),
                                 trace.samples.begin() + static_cast<long>(start) + spot::kWindow);
    return windows;
}

int train(int64_t epochs, int64_t per_class, uint64_t seed, const std::string &out) {
    strata::manual_seed(seed);
    spot::nn::Sequential net = spot::make_model();
    fmt::print("{}\nparameters: {} (a fully-connected network of the same widths needs {})\n", net->to_string(),
               net->parameter_count(), spot::dense_equivalent_parameters());
    const auto real = real_seismogram_windows();
    fmt::print("real seismogram windows: {}{}\n", real.size(), real.empty() ? " (libmseed-doc not installed)" : "");
    const strata::Dataset train_set = spot::make_dataset(per_class, seed + 1, real);
    const strata::Dataset test_set = spot::make_dataset(per_class / 4, seed + 2, real);
    strata::optim::Adam adam(strata::optim::AdamOptions(2e-3));
    auto loss = [](const strata::SymTensor &logits, const strata::SymTensor &labels) {
        return strata::cross_entropy(logits, labels);
    };
    strata::Trainer trainer(*net, adam, loss, {.epochs = epochs, .batch_size = 50, .seed = seed});
    const auto history = trainer.fit(train_set, &test_set);
    fmt::print("test accuracy: {:.4f}\n", history.back().validation_accuracy);

    // Save the weights with the inference program (one window at a time).
    net->eval();
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
             const std::string &column, int64_t stride, bool json) {
    if (stride <= 0) strata::fail("--stride must be positive, got {}", stride);
    spot::nn::Sequential net = spot::make_model();
    strata::load_checkpoint(model_path, *net, nullptr);
    net->eval();
    strata::Graph g;
    g.output("probabilities", strata::softmax(net->forward(g.input("window", {1, 1, spot::kWindow})), 1));
    const strata::CompiledGraph model = g.compile();

    const std::vector<double> series = read_series(path, format, column);
    if (static_cast<int64_t>(series.size()) < spot::kWindow)
        strata::fail("{}: {} samples, fewer than one window of {}", path, series.size(), spot::kWindow);
    nlohmann::json windows = nlohmann::json::array();
    for (int64_t start = 0; start + spot::kWindow <= static_cast<int64_t>(series.size()); start += stride) {
        std::vector<double> w(series.begin() + start, series.begin() + start + spot::kWindow);
        spot::normalize(w);
        strata::Tensor input = strata::Tensor::empty({1, 1, spot::kWindow});
        for (int64_t i = 0; i < spot::kWindow; ++i) input.data<float>()[i] = static_cast<float>(w[static_cast<size_t>(i)]);
        const strata::Tensor p = model.run(input);
        nlohmann::json probabilities;
        size_t best = 0;
        for (size_t c = 0; c < spot::kClasses.size(); ++c) {
            probabilities[spot::kClasses[c]] = p.get_flat(static_cast<int64_t>(c));
            if (p.get_flat(static_cast<int64_t>(c)) > p.get_flat(static_cast<int64_t>(best))) best = c;
        }
        windows.push_back({{"start", start}, {"probabilities", probabilities}, {"class", spot::kClasses[best]}});
        if (!json)
            fmt::print("{:>8}  {:<12} seismogram {:.3f}  finance {:.3f}  temperature {:.3f}  noise {:.3f}\n", start,
                       spot::kClasses[best], p.get_flat(0), p.get_flat(1), p.get_flat(2), p.get_flat(3));
    }
    if (json) fmt::print("{}\n", nlohmann::json{{"windows", windows}}.dump());
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    CLI::App app{"Spot the seismogram: a 1-D CNN that recognises seismograms among other time series"};
    app.require_subcommand(1);
    int64_t epochs = 8, per_class = 2000, stride = spot::kWindow;
    uint64_t seed = 0;
    std::string out = "spot_model.safetensors", file, model = "spot_model.safetensors", format, column;
    bool json = false;
    CLI::App *train_cmd = app.add_subcommand("train", "Train on generated data and save the model");
    train_cmd->add_option("--epochs", epochs, "Training epochs")->check(CLI::PositiveNumber);
    train_cmd->add_option("--examples", per_class, "Generated training windows per class")->check(CLI::PositiveNumber);
    train_cmd->add_option("--seed", seed, "Seed of the data and the weights");
    train_cmd->add_option("--out", out, "Where to save the model");
    CLI::App *classify_cmd = app.add_subcommand("classify", "Classify every window of a recorded series");
    classify_cmd->add_option("file", file, "MiniSEED, text (one value per line) or CSV file")->required();
    classify_cmd->add_option("--model", model, "A model saved by `train`");
    classify_cmd->add_option("--format", format, "mseed, text or csv (default: from the extension)")
        ->check(CLI::IsMember({"mseed", "text", "csv"}));
    classify_cmd->add_option("--column", column, "CSV column, by header name or 0-based index");
    classify_cmd->add_option("--stride", stride, "Samples between window starts");
    classify_cmd->add_flag("--json", json, "Print JSON instead of a table");
    CLI11_PARSE(app, argc, argv);
    try {
        if (train_cmd->parsed()) return train(epochs, per_class, seed, out);
        return classify(file, model, format, column, stride, json);
    } catch (const strata::Error &e) {
        fmt::print(stderr, "error: {}\n", e.what());
        return 1;
    }
}
