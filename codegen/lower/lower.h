#pragma once
// Internal to codegen: lowers a whole Program to one Halide pipeline with the
// default schedules applied.

#include "codegen/lower/context.h"

#include "runtime/tensor.h"

#include <map>
#include <string>
#include <vector>

namespace strata::codegen {

struct LoweredProgram {
    Halide::Pipeline pipeline;
    /// Input and parameter nodes, with the buffer parameter of each.
    std::vector<const ir::Node *> sources;
    std::vector<Halide::ImageParam> source_params;
    /// One Func per program output, in order.
    std::vector<Halide::Func> outputs;
    /// The schedule in effect for each scheduled node, by node id.
    std::map<int, NodeSchedule> schedule;
    /// The cross-node fusions the default schedules decided (see Fusion).
    std::vector<Fusion> fusions;
    /// The schedule an autoscheduler wrote (Halide C++), when one scheduled the pipeline.
    std::string autoscheduler_source;
};

struct LowerOptions {
    /// Store every op whole with no vectors or threads (the "simple" schedule).
    bool simple_schedules = false;
    /// Parameters baked into the pipeline as constant data (ahead-of-time
    /// libraries with embedded weights); the others stay buffer arguments.
    const std::map<std::string, Tensor> *constants = nullptr;
    /// The user's schedule rules on top of the defaults (not with simple_schedules).
    const Schedule *rules = nullptr;
    /// No schedule at all: the pipeline is for one of Halide's autoschedulers.
    bool autoschedule = false;
    /// The GPU schedules on a CPU target (GPU targets always get them).
    bool gpu_schedules_on_cpu = false;
};

LoweredProgram lower_program(const ir::Program &program, const Halide::Target &target,
                             const LowerOptions &options = {});

}  // namespace strata::codegen
