#pragma once
/// \file
/// Ahead-of-time compilation: a program becomes a static library and a plain
/// C header that need neither Strata, Halide nor LLVM to link or run.

#include "ir/program.h"
#include "runtime/tensor.h"

#include <map>
#include <string>

namespace strata::codegen {

struct EmitOptions {
    /// A Halide target: "host", "x86-64-linux-avx2", "arm-64-linux", "host-cuda", ...
    std::string target = "host";
    /// The C name prefix: NAME.a, NAME.h, NAME_predict(...). A C identifier.
    std::string name = "model";
    /// The folder to write into (created when missing).
    std::string out_dir;
    /// Write the parameters to DIR/NAME.safetensors, which the library loads at run
    /// time (`NAME_load_weights`), instead of compiling them into NAME.a.
    bool external_weights = false;
    /// The schedule of the model's pipelines, as CompileOptions::schedule: "default",
    /// "simple", an autoscheduler or a schedule file (`strata schedule dump` of the
    /// same model and batch). The training step has its own, `train_schedule`.
    std::string schedule = "default";
    /// The schedule of the training step's pipeline (with `train`), taken as `schedule`
    /// is; a file names the training program's nodes and stages, as
    /// `strata schedule dump CHECKPOINT --train [--stages]` writes them for the same
    /// batch and momentum (the model's own schedule file does not fit it).
    std::string train_schedule = "default";
};

/// The names that bind a training step's program to the library's C API,
/// `NAME_train_step(state, batch, labels, &loss)`.
namespace train_step_names {
inline constexpr const char *labels = "labels";           ///< input: the class labels, i32 [N]
inline constexpr const char *learning_rate = "optim.lr";  ///< input: f32 scalar, the optimizer's "lr"
inline constexpr const char *first_step = "optim.first";  ///< input: f32 scalar, 1 on the state's first step
inline constexpr const char *loss = "loss";               ///< output: f32 scalar
inline constexpr const char *update = "update:";          ///< output "update:NAME": parameter NAME's new value
}  // namespace train_step_names

/// A training step to emit beside the model (`strata emit --train`; see
/// tools/training_program.h for how one is built). One program with
///   inputs      the model's input, labels, the learning rate and optionally the
///               first-step flag (train_step_names)
///   parameters  the model's and the optimizer's state (any other name)
///   outputs     the loss and "update:NAME" for each parameter NAME it trains
/// as `Graph::program_with_updates` gives it for a graph built with an optimizer.
struct EmitTrainStep {
    const ir::Program *program = nullptr;
    /// The start value of every parameter of `program` that is not a model parameter.
    std::map<std::string, Tensor> state;
    double learning_rate = 0.01;
    /// Labels lie in [0, classes) or equal ignore_index.
    int64_t classes = 0;
    int64_t ignore_index = -100;
    /// The state's momentum buffers are saved values, not zeros: no first-step rule.
    bool momentum_ready = false;
};

struct EmittedLibrary {
    std::string library;  ///< DIR/NAME.a
    std::string header;   ///< DIR/NAME.h
    std::string readme;   ///< DIR/README.txt
    std::string weights;  ///< DIR/NAME.safetensors with external weights, else ""
    std::string target;   ///< the resolved target
};

/// Compiles `program` into DIR/NAME.a + DIR/NAME.h (+ HalideRuntime.h, which
/// NAME.h includes, and README.txt). Parameter values come from `weights`;
/// the program's inputs and outputs become the arguments of
/// `int NAME_predict(const T *input..., T *output...)`, in program order.
/// With `train`, the library also holds a training state (NAME_state_new,
/// NAME_train_step, NAME_state_predict, ...). On any error nothing is left in DIR.
EmittedLibrary emit_library(const ir::Program &program, const std::map<std::string, Tensor> &weights,
                            const EmitOptions &options, const EmitTrainStep *train = nullptr);

}  // namespace strata::codegen
