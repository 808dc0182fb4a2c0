#include "tools/commands.h"

#include "codegen/aot.h"
#include "frontend/train/checkpoint.h"
#include "tools/model_files.h"
#include "tools/training_program.h"

#include <strata/error.h>

#include <fmt/core.h>

namespace strata::tools {

namespace {

/// The learning rate of `--train`: --lr, else the checkpoint's initial one (before any
/// schedule decayed it), else its current one, else 0.01.
double learning_rate(const EmitCommand &options, const Checkpoint &checkpoint, std::string &source) {
    if (options.lr > 0) return source = "--lr", options.lr;
    if (checkpoint.optimizer && checkpoint.optimizer->initial_lr)
        return source = "the checkpoint's initial learning rate", *checkpoint.optimizer->initial_lr;
    if (checkpoint.optimizer && checkpoint.optimizer->lr > 0)
        return source = "the checkpoint's learning rate", checkpoint.optimizer->lr;
    return source = "the default", 0.01;
}

}  // namespace

int emit(const EmitCommand &options) {
    // Options first: a bad one writes nothing and reads nothing.
    if (options.weights != "embedded" && options.weights != "external")
        fail("emit --weights: '{}' is not 'embedded' or 'external'", options.weights);
    if (options.batch < 0) fail("emit --batch: {} is not a batch size (>= 1)", options.batch);
    if (options.lr < 0) fail("emit --lr: the learning rate must be > 0, got {}", options.lr);
    if (options.momentum < 0) fail("emit --momentum: must be >= 0, got {}", options.momentum);
    if (!options.train && (options.lr != 0 || options.momentum != 0.9 || !options.train_schedule.empty()))
        fail("emit: --lr, --momentum and --train-schedule set the training step; add --train");

    const Checkpoint checkpoint = read_checkpoint(options.checkpoint);
    const ir::Program program = checkpoint_program(checkpoint, options.checkpoint, options.batch);

    std::map<std::string, Tensor> weights;
    for (const auto &[name, tensor] : checkpoint.file.tensors) weights[name] = tensor;
    codegen::EmitOptions emit_options;
    emit_options.target = options.target;
    emit_options.name = options.name;
    emit_options.out_dir = options.out_dir;
    emit_options.external_weights = options.weights == "external";
    if (!options.schedule.empty()) emit_options.schedule = options.schedule;
    if (!options.train_schedule.empty()) emit_options.train_schedule = options.train_schedule;

    TrainingProgram training;
    codegen::EmitTrainStep step;
    if (options.train) {
        std::string lr_source;
        step.learning_rate = learning_rate(options, checkpoint, lr_source);
        // The same program `strata schedule dump CHECKPOINT --train` schedules (tools/schedule.cpp).
        training = build_training_program(program, checkpoint,
                                          {.momentum = options.momentum, .learning_rate = step.learning_rate});
        step.program = &training.program;
        step.state = training.parameters;
        step.classes = training.classes;
        step.momentum_ready = training.momentum_from_checkpoint;
        fmt::print("training step: SGD, learning rate {} ({}), momentum {}{}, schedule '{}'\n", step.learning_rate,
                   lr_source, options.momentum,
                   options.momentum == 0 ? ""
                   : step.momentum_ready ? " (buffers resumed from the checkpoint)"
                                         : " (buffers start at the first step)",
                   emit_options.train_schedule);
    }
    const codegen::EmittedLibrary lib =
        codegen::emit_library(program, weights, emit_options, options.train ? &step : nullptr);
    fmt::print("wrote {} and {}{} for {}\n", lib.library, lib.header,
               lib.weights.empty() ? "" : " and " + lib.weights, lib.target);
    return 0;
}

}  // namespace strata::tools
