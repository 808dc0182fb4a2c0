// emit_library: check the request, bind the model (and the training step) to the
// C API, then compile and write the library (codegen/aot_library.h).

#include "codegen/aot.h"

#include "codegen/aot_c_names.h"
#include "codegen/aot_library.h"
#include "codegen/target.h"
#include "ir/passes/pipeline.h"

#include <strata/error.h>

#include <cctype>
#include <cmath>
#include <filesystem>

namespace strata::codegen {

namespace {

bool is_c_identifier(const std::string &s) {
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    return true;
}

/// Everything that can be checked before lowering: names, folder, weights, the step's shape.
void check_request(const ir::Program &program, const std::map<std::string, Tensor> &weights,
                   const EmitOptions &options, const EmitTrainStep *train) {
    if (!is_c_identifier(options.name))
        fail("emit: name '{}' must be a C identifier (letters, digits and _, not starting with a digit)", options.name);
    if (options.out_dir.empty()) fail("emit: no output folder given");
    for (const ir::Node *p : program.parameters()) {
        auto it = weights.find(p->attrs.get_str("name"));
        if (it == weights.end())
            fail("emit: no value for parameter '{}' ({})", p->attrs.get_str("name"), ir::type_str(p->type));
        if (it->second.dtype() != p->dtype() || it->second.shape() != p->shape())
            fail("emit: the value of parameter '{}' is {}{}, the model's parameter is {}", it->first,
                 dtype_name(it->second.dtype()), shape_str(it->second.shape()), ir::type_str(p->type));
    }
    if (program.outputs().empty()) fail("emit: the program has no outputs");
    std::vector<std::string> io_names;
    for (const ir::Node *in : program.inputs()) io_names.push_back(in->attrs.get_str("name"));
    for (const ir::Output &out : program.outputs()) io_names.push_back(out.name);
    require_distinct_c_identifiers(io_names, options.name);
    if (train && (!std::isfinite(train->learning_rate) || train->learning_rate < 0))
        fail("emit --train: the learning rate is {}; expected a finite number >= 0", train->learning_rate);
    if (train && (!train->program || program.inputs().size() != 1))
        fail("emit --train: the training step needs its program and a model with exactly one input");
}

ResolvedSchedule resolve_for_emit(const std::string &name, const char *option) {
    CompileOptions schedule_options;
    schedule_options.schedule = name;
    try {
        return resolve_schedule(schedule_options);
    } catch (const Error &e) {
        fail("emit {}: {}", option, e.what());
    }
}

/// How the header names a schedule: its name, or a schedule file's name and kind.
std::string schedule_description(const std::string &name, const ResolvedSchedule &schedule) {
    if (name == schedule.mode) return name;
    std::string file = std::filesystem::path(name).filename().string();
    // It goes into a C comment.
    for (size_t at = file.find("*/"); at != std::string::npos; at = file.find("*/")) file.replace(at, 2, "*_/");
    return fmt::format("file {} ({})", file, schedule.mode == "stages" ? "stage lines" : "rules on the default");
}

}  // namespace

EmittedLibrary emit_library(const ir::Program &program, const std::map<std::string, Tensor> &weights,
                            const EmitOptions &options, const EmitTrainStep *train) {
    check_request(program, weights, options, train);
    const std::string target_string = resolve_target(options.target.empty() ? "host" : options.target);
    const Halide::Target target(target_string);
    // Both schedules are checked here, before anything is lowered or written.
    aot::EmitSchedules schedules;
    schedules.model = resolve_for_emit(options.schedule, "--schedule");
    if (train) schedules.train = resolve_for_emit(options.train_schedule, "--train-schedule");

    aot::LibraryPlan plan;
    CApi &api = plan.api;
    api.name = options.name;
    api.target = target_string;
    api.external_weights = options.external_weights;
    api.schedule = schedule_description(options.schedule, schedules.model);
    if (train) api.train_schedule = schedule_description(options.train_schedule, schedules.train);

    const ir::Program optimized = ir::run_passes(program);
    aot::bind_model(plan, program, optimized, weights, target, options, schedules, train != nullptr);
    if (train) aot::bind_training_step(plan, program, *train, target, options, schedules);
    api.tensors = plan.state.tensors;
    api.parameter_count = plan.state.parameter_count;
    return aot::write_library(plan, target, options, train);
}

}  // namespace strata::codegen
