#pragma once
/// \file
/// Checkpoints: a model's parameters and buffers, the optimizer's state, the
/// RNG and the step, in one safetensors file (it opens with Python's
/// `safetensors` package too).
///
///     save_checkpoint("run/step-300.safetensors", *net, &adam,
///                     {.step = 300, .run_count = step.run_count(), .ir = step.ir()});
///     ...
///     CheckpointInfo info = load_checkpoint("run/step-300.safetensors", *net, &adam);
///     step.set_run_count(info.run_count);   // dropout masks continue where they stopped
///
/// The file holds every parameter and buffer under its module path
/// ("conv1.weight", "bn1.running_mean", as PyTorch names them), the optimizer
/// state under "optim.<parameter>.<slot>" ("optim.conv1.weight.exp_avg"), and
/// string metadata:
///
///     format               "pt", as PyTorch's safetensors files
///     strata.checkpoint    the layout version ("1")
///     strata.step          CheckpointInfo::step
///     strata.run_count     CheckpointInfo::run_count
///     strata.rng           the default generator's state (runtime/random.h)
///     strata.checksum      "crc32:" and 8 hex digits: zlib's CRC-32 of the tensor data
///     strata.optim.step, strata.optim.lr, strata.optim.initial_lr
///                          the optimizer's step count and learning rates (with an optimizer)
///     strata.ir, strata.schedule
///                          the model's IR text and schedule, when given
///
/// plus the caller's own entries (`CheckpointInfo::metadata`).
///
/// Resuming — building the model (with the same seed, which fixes dropout's
/// per-layer seeds) and the optimizer, loading, and restoring the run count —
/// continues training bit for bit as if it had never stopped.

#include "frontend/nn/module.h"
#include "frontend/optim/optimizer.h"
#include "runtime/generator.h"
#include "runtime/safetensors.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace strata {

/// What a checkpoint records besides the tensors.
struct CheckpointInfo {
    /// The training step, or any counter the caller keeps.
    int64_t step = 0;
    /// The training step's run counter (`TrainStep::run_count`), dropout's per-step seed.
    int64_t run_count = 0;
    /// The model's IR text and its schedule; stored when non-empty.
    // Every member has an initializer, so {.step = 3} leaves the rest out without
    // GCC's -Wmissing-field-initializers (-Wextra).
    std::string ir{};
    std::string schedule{};
    /// The caller's own metadata; keys may not be "format" or start with "strata.".
    std::map<std::string, std::string> metadata{};
};

/// A checkpoint file read and checked (format, checksum, metadata), not yet applied to a model.
struct Checkpoint {
    SafetensorsFile file;
    CheckpointInfo info;
    Generator::State rng{};
    /// Present when the checkpoint was saved with an optimizer.
    struct OptimizerInfo {
        int64_t step_count = 0;
        double lr = 0;
        std::optional<double> initial_lr;
    };
    std::optional<OptimizerInfo> optimizer;
};

/// Writes `model`'s parameters and buffers, `optimizer`'s state (when not null), the default
/// generator's state and `info` to `path`, atomically.
void save_checkpoint(const std::string &path, const nn::Module &model, const optim::Optimizer *optimizer,
                     const CheckpointInfo &info = {});

/// Reads `path` and checks it is a complete Strata checkpoint whose data matches its checksum.
Checkpoint read_checkpoint(const std::string &path);

/// Loads a checkpoint into `model` and (when not null) `optimizer`, and restores the default
/// generator. Everything is checked before anything changes: a missing or unexpected tensor,
/// a shape or dtype that differs from the model's, or optimizer state that does not fit throws
/// `strata::Error` naming the tensor and both shapes, and leaves model, optimizer and RNG as
/// they were. Tensors are copied in place, so a compiled training step sees them. With a null
/// `optimizer`, saved optimizer state is ignored (loading weights for inference). An optimizer
/// not yet built into a training step keeps the saved slots for `build`; one already built must
/// have exactly the saved slots (an SGD checkpoint does not load into Adam).
CheckpointInfo load_checkpoint(const std::string &path, nn::Module &model, optim::Optimizer *optimizer);

}  // namespace strata
