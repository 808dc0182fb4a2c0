#pragma once
// Internal to codegen: the steps of `emit_library` (codegen/aot.h) after its
// options are checked. Binding turns lowered pipelines into a LibraryPlan, the C
// API and the pipelines behind it (aot_bind.cpp); writing compiles the plan and
// writes the folder (aot_write.cpp).

#include "codegen/aot.h"
#include "codegen/aot_c_api.h"
#include "codegen/resolved_schedule.h"

#include <map>
#include <string>
#include <vector>

namespace strata::codegen::aot {

/// A pipeline to put into the library, with its arguments and the C function it becomes.
struct PipelineObject {
    Halide::Pipeline pipeline;
    std::vector<Halide::Argument> args;
    std::string function;
};

/// The weight / state tensors of the C API: the model's parameters, then the training state.
struct StateTensors {
    std::vector<CTensor> tensors;
    std::map<std::string, size_t> index;
    size_t parameter_count = 0;

    /// Adds parameter `name`; `why` names the option that needs it ("--train").
    void add(const std::string &name, const ir::Node &node, const char *why);
    /// The index of `name`; throws when it is not a state tensor.
    size_t at(const std::string &name) const;
};

/// What a library holds: the C API, the state tensors with their start values,
/// and the pipelines that implement the API.
struct LibraryPlan {
    CApi api;
    StateTensors state;
    std::map<std::string, Tensor> start;  ///< the start value of every state tensor
    std::vector<PipelineObject> objects;
};

/// The schedules of the model's and the training step's pipelines, resolved.
struct EmitSchedules {
    ResolvedSchedule model, train;
};

/// The API's model part: inputs, outputs, the parameters as state tensors (with
/// external weights or training), and the predict pipelines of `optimized` (the
/// model after the IR passes).
void bind_model(LibraryPlan &plan, const ir::Program &model, const ir::Program &optimized,
                const std::map<std::string, Tensor> &weights, const Halide::Target &target,
                const EmitOptions &options, const EmitSchedules &schedules, bool train);

/// The API's training part: the step's extra state tensors and its pipeline, whose
/// inputs and outputs are bound by their names (EmitTrainStep), and, with embedded
/// weights, the pipeline that writes the initial state.
void bind_training_step(LibraryPlan &plan, const ir::Program &model, const EmitTrainStep &train,
                        const Halide::Target &target, const EmitOptions &options, const EmitSchedules &schedules);

/// Compiles the plan's pipelines into DIR/NAME.a and writes NAME.h, HalideRuntime.h,
/// README.txt (and NAME.safetensors with external weights) into DIR: all or nothing.
EmittedLibrary write_library(LibraryPlan &plan, const Halide::Target &target, const EmitOptions &options,
                             const EmitTrainStep *train);

}  // namespace strata::codegen::aot
