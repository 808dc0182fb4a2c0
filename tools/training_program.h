#pragma once
// `strata emit --train`: the training step of a saved classifier, rebuilt
// from the inference IR a checkpoint holds.

#include "frontend/graph.h"
#include "frontend/train/checkpoint.h"

#include <cstdint>
#include <map>
#include <string>

namespace strata::tools {

struct TrainingProgramOptions {
    /// SGD momentum (PyTorch's: buf = momentum * buf + grad; 0 = plain SGD).
    double momentum = 0.9;
    /// The SGD's learning rate (the program reads it as an input; this is its first value).
    double learning_rate = 0.01;
};

/// One program for one step of optim::SGD on `inference` under cross-entropy, as
/// Graph::program_with_updates gives it (codegen::train_step_names):
///   inputs      the model's input (same name), "labels" (i32 [N]), "optim.lr" and,
///               with momentum, "optim.first" (f32 scalars; first = 1 applies PyTorch's
///               first-step rule: the momentum buffer starts as the gradient)
///   parameters  the model's, and "optim.<name>.momentum_buffer" for each trained one
///   outputs     "loss" (the mean cross-entropy) and "update:<name>", the new value of
///               every trained parameter and momentum buffer
struct TrainingProgram {
    ir::Program program;
    /// The start value of every parameter of `program`.
    std::map<std::string, Tensor> parameters;
    int64_t classes = 0;  ///< labels lie in [0, classes)
    /// True when the momentum buffers came from the checkpoint (resuming: no first-step rule).
    bool momentum_from_checkpoint = false;
};

/// `inference` must have one input and one output: 2-d f32 logits [N, classes] (what `strata
/// import` of a PyTorch classifier gives), or softmax(logits, 1) or log_softmax(logits, 1) of
/// them. The parameters with optimizer state in the checkpoint are trained (when it has none, all
/// float parameters but batch-norm running statistics and the names its "buffers" metadata
/// lists, one a line); the others stay fixed. Dropout and batch norm keep their inference form (frozen statistics).
TrainingProgram build_training_program(const ir::Program &inference, const Checkpoint &checkpoint,
                                       const TrainingProgramOptions &options);

}  // namespace strata::tools
