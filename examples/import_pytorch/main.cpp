// A PyTorch model, fine-tuned in C++ and emitted as a C library: the 1-D CNN event detector
// that make_detector.py trained and exported (torch.onnx.export, opset 13, dynamic batch) is
// imported with its parameters under their ONNX names, evaluated as exported on local windows,
// fine-tuned on them through Trainer, saved as a Strata checkpoint (weights + IR, so
// `strata emit`, `strata run` and `strata export` take it too) and emitted as DIR/detector.a + .h.
//
//   import_pytorch [--model detector.onnx] [--data WINDOWS.safetensors] [--workdir DIR]
//                  [--epochs 8] [--examples 512] [--batch 32] [--lr 3e-3]
//                  [--metrics FILE.json] [--emit DIR|""] [--save-windows FILE.safetensors]
//
// Local data: --data names a safetensors file with "waveform" (N, 3, 256; F32 or F64) and
// "label" (N; 1 = earthquake, 0 = noise; any integer dtype, PyTorch's int64 included). Without
// it the example makes windows of a "local station": the same kind of earthquakes the model
// was trained on, in noise it has not seen (a microseism swell and glitches).

#include "local_windows.h"

#include "frontend/onnx/onnx_import.h"

#include <strata/cli_flags.h>
#include <strata/cli_version.h>
#include <strata/main_guard.h>
#include <strata/stopwatch.h>
#include <strata/strata.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <chrono>
#include <filesystem>
#include <memory>

namespace {

namespace fs = std::filesystem;

struct Settings {
    std::string model = DETECTOR_DEFAULT_MODEL, data, workdir = "import_pytorch_run", metrics_path,
                emit_dir = "<workdir>/detector", save_windows;
    int64_t epochs = 8, examples = 512, batch = 32, threads = 0;
    double lr = 3e-3;
    uint64_t seed = 0;
};

using strata::seconds_since;

/// The inference program at batch 1: class probabilities (softmax of the logits, the form a
/// training step emitted by `strata emit --train` needs).
std::unique_ptr<strata::Graph> probability_graph(strata::onnx::OnnxModel &model, const strata::Shape &window) {
    model->eval();
    auto g = std::make_unique<strata::Graph>();
    g->output("probability", strata::softmax(model(g->input("waveform", {1, window[1], window[2]})), 1));
    return g;
}

/// Runs `g` in process on the probe window (predict.c feeds the emitted library the same one),
/// then emits it as DIR/detector.a and DIR/detector.h.
void emit_detector(strata::Graph &g, const strata::Shape &window, const std::string &dir) {
    const strata::Tensor p = g.compile().run(detector::probe_window(window[1], window[2]));
    fmt::print("probe window: noise {:.6f} earthquake {:.6f}\n", p.get_flat(0), p.get_flat(1));
    strata::codegen::EmitOptions options;
    options.name = "detector";
    options.out_dir = dir;
    const auto start = std::chrono::steady_clock::now();
    const auto library = strata::codegen::emit_library(g.program(), g.parameter_values(), options);
    fmt::print("emitted {} and {} in {:.1f} s: detector_predict(waveform[{}*{}], probability[2])\n", library.library,
               library.header, seconds_since(start), window[1], window[2]);
}

int run(const Settings &s) {
    if (s.threads > 0) setenv("HL_NUM_THREADS", std::to_string(s.threads).c_str(), 1);
    const auto start = std::chrono::steady_clock::now();
    fs::create_directories(s.workdir);

    strata::onnx::OnnxModel model(s.model);  // checked by onnx::checker, converted to Strata ops
    const strata::onnx::ModelInput &input = model->inputs().at(0);
    if (model->inputs().size() != 1 || model->outputs().size() != 1 || input.shape.size() != 3)
        strata::fail("{}: expected one input (batch, channels, samples) and one output (the class logits)", s.model);
    fmt::print("imported {} (opset {}): input '{}' (batch, {}, {}), {} parameters:", s.model, model->opset(),
               input.name, input.shape[1], input.shape[2], model->parameter_count());
    for (const auto &[name, value] : model->named_parameters()) fmt::print(" {}", name);
    fmt::print("\n");

    strata::Dataset train, validation;
    if (s.data.empty()) {
        train = detector::local_windows(s.examples, input.shape[1], input.shape[2], s.seed + 1);
        validation = detector::local_windows(std::max<int64_t>(s.examples / 4, s.batch), input.shape[1],
                                             input.shape[2], s.seed + 2);
        fmt::print("local windows (synthetic station, unseen noise): {} for fine-tuning, {} held out\n",
                   train.size(), validation.size());
        if (!s.save_windows.empty()) detector::save_windows(s.save_windows, train, validation);
    } else {
        const strata::Dataset all = detector::read_windows(s.data, input.shape[1], input.shape[2]);
        const int64_t held_out = std::max<int64_t>(all.size() / 5, 1);
        if (all.size() - held_out < s.batch)
            strata::fail("{}: {} windows; need at least --batch {} for fine-tuning plus {} held out", s.data,
                         all.size(), s.batch, held_out);
        train = all.slice(0, all.size() - held_out);
        validation = all.slice(all.size() - held_out, all.size());
        fmt::print("{}: {} windows for fine-tuning, the last {} held out\n", s.data, train.size(), validation.size());
    }

    strata::manual_seed(s.seed);
    strata::optim::Adam adam(strata::optim::AdamOptions(s.lr));
    auto loss = [](const strata::SymTensor &logits, const strata::SymTensor &labels) {
        return strata::cross_entropy(logits, labels);
    };
    strata::TrainerOptions options;
    options.epochs = s.epochs;
    options.batch_size = s.batch;
    options.seed = s.seed;
    strata::Trainer trainer(*model, adam, loss, options);
    trainer.add_metric(strata::metrics::Accuracy());
    const strata::EvalStats before = trainer.evaluate(validation);
    fmt::print("as exported from PyTorch: held-out loss {:.4f}, accuracy {:.3f}\n", before.loss,
               before.metrics.at("accuracy"));
    const auto history = trainer.fit(train, &validation);
    fmt::print("\n epoch | train loss | val loss | val accuracy | s\n");
    for (const auto &e : history)
        fmt::print(" {:>5} | {:>10.4f} | {:>8.4f} | {:>12.3f} | {:.2f}\n", e.epoch + 1, e.train_loss,
                   e.validation_loss, e.metrics.at("val_accuracy"), e.seconds);
    if (!s.metrics_path.empty()) strata::write_history_json(s.metrics_path, history);

    // Weights + optimizer + the program: `strata emit|run|export` and load_checkpoint read it
    // (`strata emit CHECKPOINT --train` adds the on-board training step).
    const std::unique_ptr<strata::Graph> g = probability_graph(model, input.shape);
    const std::string checkpoint = (fs::path(s.workdir) / "detector.safetensors").string();
    strata::CheckpointInfo info;
    info.ir = g->to_string();
    info.metadata["onnx.source"] = s.model;
    strata::save_checkpoint(checkpoint, *model, &adam, info);
    fmt::print("saved the fine-tuned model to {}\n", checkpoint);
    if (!s.emit_dir.empty()) emit_detector(*g, input.shape, s.emit_dir);
    fmt::print("done in {:.1f} s\n", seconds_since(start));
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    return strata::guarded_main("import_pytorch", [&] {
        CLI::App app{"Fine-tune a PyTorch-exported ONNX 1-D CNN on local windows and emit it as a C library"};
        strata::cli::add_version_flag(app, "import_pytorch");
        Settings s;
        app.add_option("--model", s.model, "The ONNX model (default: the example's detector.onnx)");
        app.add_option("--data", s.data, "safetensors with 'waveform' (N,3,256) and 'label' (N) (default: synthetic)");
        app.add_option("--workdir", s.workdir, "Where the checkpoint and the library go");
        app.add_option("--epochs", s.epochs)->check(strata::cli::whole_number(1, "a number of epochs"));
        app.add_option("--examples", s.examples, "Synthetic windows for fine-tuning")
            ->check(strata::cli::whole_number(1, "a number of windows"));
        app.add_option("--batch", s.batch)->check(strata::cli::whole_number(1, "a batch size"));
        app.add_option("--lr", s.lr)->check(CLI::Range(1e-7, 1.0));
        app.add_option("--seed", s.seed);
        app.add_option("--threads", s.threads, "Halide threads")->check(CLI::Range(int64_t{1}, int64_t{1024}));
        app.add_option("--metrics", s.metrics_path, "Write every epoch's values as JSON");
        app.add_option("--save-windows", s.save_windows, "Write the synthetic windows in --data's format");
        app.add_option("--emit", s.emit_dir, "Emit the fine-tuned detector as a C library here (\"\" to skip)");
        CLI11_PARSE(app, argc, argv);
        if (s.emit_dir == "<workdir>/detector") s.emit_dir = (fs::path(s.workdir) / "detector").string();
        return run(s);
    });
}
