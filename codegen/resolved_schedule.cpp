#include "codegen/resolved_schedule.h"

#include "codegen/autoschedule.h"
#include "codegen/stage_schedule.h"
#include "ir/op.h"

#include <strata/error.h>

#include <filesystem>

namespace strata::codegen {

ResolvedSchedule resolve_schedule(const CompileOptions &options) {
    ResolvedSchedule r;
    const std::string &s = options.schedule;
    if (s == "default" || s == "simple" || s == "gpu" || is_autoscheduler(s)) {
        r.mode = s;
    } else if (std::filesystem::is_regular_file(s)) {
        r.mode = "default";
        r.rules = load_schedule(s);
    } else {
        fail("unknown schedule '{}': expected default, simple, gpu, mullapudi2016, li2018, adams2019 or a schedule file "
             "(no such file)", s);
    }
    r.rules.merge(options.rules);
    if (r.mode != "default" && !r.rules.empty())
        fail("schedule rules apply on top of the default schedule, not of '{}'", r.mode);
    if (r.rules.has_stages()) {
        if (r.rules.has_rules())
            fail("schedule '{}': stage lines (stage ...) schedule the Halide stages themselves and cannot be mixed "
                 "with op, class or node rules; keep one kind per schedule", s);
        r.mode = "stages";
    }
    r.key = r.mode + "\n" + r.rules.to_text();
    return r;
}

LowerOptions lower_options_for(const ResolvedSchedule &schedule) {
    LowerOptions o;
    // Stage lines start from a pipeline with no schedule, lowered as for an
    // autoscheduler ("plain") or with the default or simple schedule's algorithm.
    const std::string &algorithm = schedule.rules.stage_algorithm();
    const bool stages = schedule.mode == "stages";
    o.simple_schedules = schedule.mode == "simple" || (stages && algorithm == "simple");
    o.autoschedule = is_autoscheduler(schedule.mode) || (stages && (algorithm.empty() || algorithm == "plain"));
    o.gpu_schedules_on_cpu = schedule.mode == "gpu";
    o.rules = schedule.rules.has_rules() ? &schedule.rules : nullptr;
    return o;
}

namespace {

/// gpu_threads in a class or op rule needs a GPU target, as in a node rule
/// (which lowering checks against its node).
void check_gpu_rules(const Schedule &rules, const Halide::Target &target) {
    if (target.has_gpu_feature()) return;
    auto check = [&](const char *kind, const std::string &name, const NodeSchedule &rule) {
        if (rule.gpu_threads)
            fail("schedule for {} {}: gpu_threads needs a GPU target (this is {})", kind, name, target.to_string());
    };
    for (ir::OpClass cls : ir::all_op_classes()) check("class", ir::op_class_name(cls), rules.resolve(ir::op_class_name(cls), "", ""));
    for (const ir::OpInfo &op : ir::all_ops()) check("op", op.name, rules.resolve("", op.name, ""));
}

}  // namespace

LoweredProgram lower_scheduled(const ir::Program &program, const Halide::Target &target,
                               const ResolvedSchedule &schedule, const std::map<std::string, Tensor> *constants,
                               PipelineNames *names) {
    check_gpu_rules(schedule.rules, target);
    LowerOptions options = lower_options_for(schedule);
    options.constants = constants;
    LoweredProgram lowered = lower_program(program, target, options);
    if (names) *names = pipeline_names(lowered);
    if (schedule.mode == "stages") {
        if (!options.autoschedule) reset_schedules(lowered);
        apply_stage_rules(lowered, schedule.rules, target);
    }
    if (is_autoscheduler(schedule.mode))
        lowered.autoscheduler_source = autoschedule(schedule.mode, lowered, program, target, thread_count());
    return lowered;
}

}  // namespace strata::codegen
