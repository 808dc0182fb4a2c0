#pragma once
/// \file
/// One workload made ready to run by one engine (Strata under a schedule, or
/// LibTorch): compiled, its data bound.

#include "runtime/tensor.h"

#include <functional>
#include <vector>

namespace strata::bench {

struct EngineCase {
    /// Seconds spent compiling (Strata: building the graph, IR passes and JIT).
    double compile_seconds = 0;
    /// Runs once from the initial state and returns what the engines compare,
    /// in a fixed order per family: LeNet training: the loss, then the gradient
    /// of each parameter (in module order); inference: the logits; conv: y, then
    /// grad_x and grad_w; max_pool: y, then grad_x. Call it before `run`.
    std::function<std::vector<Tensor>()> first_results;
    /// The same results computed in double precision, where the engine can (the model
    /// workloads, training and inference, in both engines): what engines and schedules are
    /// judged on, since an f32 step's ReLU masks flip wherever a value lies within rounding
    /// of zero, in any engine.
    std::function<std::vector<Tensor>()> precise_results;
    /// One timed call (a training step keeps training).
    std::function<void()> run;
};

}  // namespace strata::bench
