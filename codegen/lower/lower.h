#pragma once
// Internal to codegen: lowers a whole Program to one Halide pipeline with the
// default schedules applied.

#include "codegen/lower/context.h"

#include <vector>

namespace strata::codegen {

struct LoweredProgram {
    Halide::Pipeline pipeline;
    /// Input and parameter nodes, with the buffer parameter of each.
    std::vector<const ir::Node *> sources;
    std::vector<Halide::ImageParam> source_params;
    /// One Func per program output, in order.
    std::vector<Halide::Func> outputs;
};

/// `simple_schedules` stores every op whole with no vectors or threads.
LoweredProgram lower_program(const ir::Program &program, const Halide::Target &target, bool simple_schedules = false);

}  // namespace strata::codegen
