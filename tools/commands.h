#pragma once
// The `strata` subcommands, one function each.

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace strata::tools {

/// `strata export CHECKPOINT --out MODEL.onnx` (tools/export.cpp): added to `app`, runs when parsed.
void add_export_command(CLI::App &app);

struct InspectOptions {
    std::string path;
    bool run_passes = false;
    bool compile = false;
    std::string target;
    std::string schedule = "default";
};

struct EmitCommand {
    std::string checkpoint;
    std::string out_dir;
    std::string target = "host";
    std::string name = "model";
    int64_t batch = 0;  ///< 0 keeps the batch size of the saved IR
    bool train = false;
    std::string schedule;
    /// --train: the training step's schedule (default, simple, an autoscheduler or a file
    /// from `strata schedule dump CHECKPOINT --train`); "" is the default.
    std::string train_schedule;
    /// "embedded" (inside NAME.a) or "external" (DIR/NAME.safetensors, loaded at run time).
    std::string weights = "embedded";
    /// --train: SGD's learning rate (0: the checkpoint's initial one) and momentum.
    double lr = 0;
    double momentum = 0.9;
};

/// `strata emit CHECKPOINT --out DIR`: a static library + C header of the model.
int emit(const EmitCommand &options);

struct BenchCommand {
    std::vector<std::string> workloads;  ///< empty: all
    std::string schedule = "default";    ///< passed unchanged to codegen::CompileOptions::schedule
    int threads = 2;
    int reps = 0;  ///< 0: about a second per workload and engine
    bool check = false;
    bool profile = false;  ///< time each kernel of Strata's timed calls
    bool list = false;
    std::string json_path;
    /// Cold compile time, peak RSS and recompile time of each model's training step.
    bool compile_report = false;
    std::string compile_one;  ///< internal: the child process of --compile-report
    /// Peak resident memory of each model's training step, Strata beside LibTorch.
    bool memory_report = false;
    std::string memory_one, memory_engine;  ///< internal: the child process of --memory-report
};

/// `strata bench [WORKLOAD...]`: times workloads (and LibTorch when built with it); a table and JSON.
int bench(const BenchCommand &options);

struct ScheduleCommand {
    std::string model;  ///< an IR text file or a .safetensors checkpoint with its IR
    std::string schedule = "default";
    std::string target;
    int64_t batch = 0;  ///< 0 keeps the batch size of the saved IR
    std::string out;    ///< dump: write here instead of stdout
    bool stages = false;  ///< dump: as stage lines (Halide primitives per stage)
    /// The training step `strata emit --train` compiles for the checkpoint (with this
    /// SGD momentum) instead of the model.
    bool train = false;
    double momentum = 0.9;
};

/// `strata schedule dump MODEL`: the schedule in effect for every node, as a schedule file;
/// with `train`, for the training step of `strata emit --train` (its --train-schedule).
int schedule_dump(const ScheduleCommand &options);
/// `strata schedule check MODEL --schedule S`: S against the default schedule on the same inputs.
int schedule_check(const ScheduleCommand &options);

/// `strata inspect FILE`: what a saved IR program contains.
int inspect(const InspectOptions &options);

/// `strata ops`: the op table.
int list_ops();

}  // namespace strata::tools
