#include "codegen/plan/plan.h"

#include "codegen/executable_impl.h"
#include "codegen/plan/kernel_profile.h"
#include "codegen/plan/kernel_workers.h"
#include "codegen/plan/partition.h"
#include "codegen/resolved_schedule.h"
#include "ir/printer.h"
#include "runtime/buffer_pool.h"
#include "runtime/progress.h"

#include <strata/error.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <set>

namespace strata::codegen {

namespace {

/// Programs up to this many nodes (after the passes) stay one pipeline under
/// Partition::automatic: Halide compiles them in a few seconds, and fusing
/// across every op (LeNet-5's whole step, batch-innermost) is what makes them
/// fast. Above it Halide's compile time grows much faster than the program.
constexpr size_t kWholeProgramMaxNodes = 160;

bool poison_enabled() {
    const char *env = std::getenv("STRATA_PLAN_POISON");
    return env && *env && std::string(env) != "0";
}

/// Shows a bar once compiling has taken more than two seconds.
class CompileProgress {
public:
    explicit CompileProgress(size_t total) : total_(static_cast<int64_t>(total)) {}
    void update(size_t done) {
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        if (!bar_ && elapsed > 2.0 && total_ > 0) bar_.emplace("compiling kernels", total_);
        if (bar_) bar_->update(static_cast<int64_t>(done));
    }
    void finish() {
        if (bar_) bar_->finish();
    }

private:
    int64_t total_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
    std::optional<ProgressBar> bar_;
};

/// A value of `type` with its dense layout worked out once.
PlanValue value_of_type(PlanValue::Kind kind, size_t index, const ir::Type &type) {
    PlanValue v{kind, index, 0, type, {}, static_cast<size_t>(type.numel()) * dtype_size(type.dtype)};
    int64_t stride = 1;
    for (size_t i = type.shape.size(); i-- > 0;) {  // innermost first
        v.dims.emplace_back(0, static_cast<int32_t>(type.shape[i]), static_cast<int32_t>(stride));
        stride *= type.shape[i];
    }
    return v;
}

}  // namespace

Partition effective_partition(Partition partition) {
    const char *env = std::getenv("STRATA_PARTITION");
    if (partition != Partition::automatic || !env || !*env) return partition;
    const std::string asked = env;
    if (asked == "whole") return Partition::whole_program;
    if (asked == "kernels") return Partition::kernels;
    if (asked != "auto") fail("STRATA_PARTITION='{}': expected whole, kernels or auto", asked);
    return partition;
}

bool compiles_as_plan(const ir::Program &program, const Halide::Target &target, const ResolvedSchedule &schedule,
                      Partition partition) {
    if (partition == Partition::whole_program) return false;
    // Node rules and stage lines name the nodes and Funcs of the whole
    // program; autoschedulers and GPU schedules see one whole pipeline.
    if (target.has_gpu_feature()) return false;
    if (schedule.mode != "default" && schedule.mode != "simple") return false;
    if (!schedule.rules.node_rules().empty()) return false;
    if (partition == Partition::kernels) return true;
    return program.nodes().size() > kWholeProgramMaxNodes;
}

/// The group's ops in order ("conv2d+batch_norm_train+relu") and its last node's type.
static std::string kernel_label(const KernelGroup &group) {
    std::string ops;
    for (const ir::Node *n : group.nodes) ops += (ops.empty() ? "" : "+") + std::string(ir::op_name(n->op));
    return fmt::format("{} -> {}", ops, ir::type_str(group.nodes.back()->type));
}

std::shared_ptr<const Plan> build_plan(const ir::Program &program, const CompileOptions &kernel_options) {
    auto plan = std::make_shared<Plan>();
    const std::vector<KernelGroup> groups = partition_into_kernels(program);

    // Values: the sources first (in the order run_into checks them), then one per kernel.
    std::map<const ir::Node *, size_t> value_of;
    for (const auto &node : program.nodes())
        if (node->op == ir::Op::input || node->op == ir::Op::parameter) {
            value_of[node.get()] = plan->values.size();
            plan->values.push_back(value_of_type(PlanValue::Kind::source, plan->sources.size(), node->type));
            plan->sources.push_back(node.get());
        }
    std::map<const ir::Node *, size_t> first_output_of;
    for (size_t i = 0; i < program.outputs().size(); ++i) first_output_of.emplace(program.outputs()[i].node, i);

    std::vector<ir::Program> kernels;
    for (const KernelGroup &group : groups) {
        PlanStep step;
        for (const ir::Node *in : group.inputs) step.inputs.push_back(value_of.at(in));
        for (const ir::Node *value : group.outputs) {
            auto out = first_output_of.find(value);
            step.outputs.push_back(plan->values.size());
            if (out != first_output_of.end())
                plan->values.push_back(value_of_type(PlanValue::Kind::output, out->second, value->type));
            else
                plan->values.push_back(value_of_type(PlanValue::Kind::arena, 0, value->type));
            value_of[value] = step.outputs.back();
        }
        step.label = kernel_label(group);
        plan->steps.push_back(std::move(step));
        kernels.push_back(kernel_program(group));
    }
    for (size_t i = 0; i < program.outputs().size(); ++i) {
        const size_t value = value_of.at(program.outputs()[i].node);
        const PlanValue &v = plan->values[value];
        if (v.kind != PlanValue::Kind::output || v.index != i) plan->copied_outputs.emplace_back(i, value);
    }

    // The arena: every kernel result that is not a program output, by lifetime.
    std::vector<BufferLifetime> lifetimes;
    std::vector<size_t> arena_values;
    std::map<size_t, size_t> lifetime_of;  // value -> index in lifetimes
    for (size_t s = 0; s < plan->steps.size(); ++s)
        for (size_t v : plan->steps[s].outputs) {
            if (plan->values[v].kind != PlanValue::Kind::arena) continue;
            lifetime_of[v] = lifetimes.size();
            lifetimes.push_back({plan->values[v].bytes, static_cast<int>(s), static_cast<int>(s)});
            arena_values.push_back(v);
        }
    for (size_t s = 0; s < plan->steps.size(); ++s)
        for (size_t v : plan->steps[s].inputs)
            if (auto it = lifetime_of.find(v); it != lifetime_of.end())
                lifetimes[it->second].last_step = std::max(lifetimes[it->second].last_step, static_cast<int>(s));
    for (const auto &[output, value] : plan->copied_outputs)
        if (auto it = lifetime_of.find(value); it != lifetime_of.end())
            lifetimes[it->second].last_step = static_cast<int>(plan->steps.size());
    plan->memory = plan_memory(lifetimes);
    STRATA_ASSERT(memory_plan_is_sound(lifetimes, plan->memory), "the plan's arena lets live buffers overlap");
    plan->dead_after_step.resize(plan->steps.size());
    for (size_t i = 0; i < arena_values.size(); ++i) {
        plan->values[arena_values[i]].offset = plan->memory.offsets[i];
        const size_t last = static_cast<size_t>(lifetimes[i].last_step);
        if (last < plan->steps.size()) plan->dead_after_step[last].push_back(arena_values[i]);
    }

    // Compile: identical kernels once; the missing ones in worker processes first.
    std::map<std::string, size_t> first_with_text;
    std::vector<size_t> unique, missing;
    for (size_t i = 0; i < kernels.size(); ++i)
        if (first_with_text.emplace(ir::print(kernels[i]), i).second) unique.push_back(i);
    for (size_t i : unique)
        if (!kernel_is_cached(kernels[i], kernel_options)) missing.push_back(i);
    CompileProgress progress(missing.size());
    if (missing.size() >= 2) {
        std::vector<const ir::Program *> jobs;
        for (size_t i : missing) jobs.push_back(&kernels[i]);
        compile_in_workers(jobs, kernel_options, [&](size_t done) { progress.update(done); });
    }
    size_t done = 0;
    const std::set<size_t> compiled_here(missing.begin(), missing.end());
    for (size_t i = 0; i < kernels.size(); ++i) {
        PlanStep &step = plan->steps[i];
        step.kernel = compile(kernels[i], kernel_options);
        // The kernel takes its inputs in the order Halide lists its sources (named in0, in1, ...).
        for (const ir::Node *source : step.kernel.impl().lowered.sources)
            step.arguments.push_back(step.inputs.at(std::stoul(source->attrs.get_str("name").substr(2))));
        if (compiled_here.count(i)) progress.update(++done);
    }
    plan->compiled = missing.size();
    progress.finish();
    return plan;
}

void run_plan(const Plan &plan, std::vector<Tensor> &sources, std::vector<Tensor> &outputs) {
    STRATA_ASSERT(sources.size() == plan.sources.size(), "run_plan: sources do not match");
    std::unique_ptr<void, void (*)(void *)> arena(plan.memory.arena_bytes ? pool_allocate(plan.memory.arena_bytes)
                                                                           : nullptr,
                                                  pool_release);
    if (plan.memory.arena_bytes && !arena) fail("run: out of memory for the plan's {} intermediate bytes", plan.memory.arena_bytes);
    const bool poison = poison_enabled(), profile = kernel_profiling();
    if (poison && arena) std::memset(arena.get(), 0xff, plan.memory.arena_bytes);

    auto data_of = [&](const PlanValue &v) -> void * {
        switch (v.kind) {
        case PlanValue::Kind::source: return sources[v.index].raw_data();
        case PlanValue::Kind::output: return outputs[v.index].raw_data();
        case PlanValue::Kind::arena: break;
        }
        return static_cast<uint8_t *>(arena.get()) + v.offset;
    };
    auto view = [&](size_t value) {
        const PlanValue &v = plan.values[value];
        return Halide::Buffer<>(halide_type(v.type.dtype), data_of(v), static_cast<int>(v.dims.size()),
                                v.dims.empty() ? nullptr : v.dims.data());
    };
    for (size_t s = 0; s < plan.steps.size(); ++s) {
        const PlanStep &step = plan.steps[s];
        std::vector<Halide::Buffer<>> inputs, outputs_of_step;
        for (size_t value : step.arguments) inputs.push_back(view(value));
        for (size_t value : step.outputs) outputs_of_step.push_back(view(value));
        if (profile) {
            const auto start = std::chrono::steady_clock::now();
            step.kernel.impl().run_pipeline(inputs, outputs_of_step);
            record_kernel_time(step.label, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        } else {
            step.kernel.impl().run_pipeline(inputs, outputs_of_step);
        }
        if (poison)
            for (size_t dead : plan.dead_after_step[s]) std::memset(data_of(plan.values[dead]), 0xff, plan.values[dead].bytes);
    }
    for (const auto &[output, value] : plan.copied_outputs)
        std::memcpy(outputs[output].raw_data(), data_of(plan.values[value]), outputs[output].nbytes());
}

std::string describe_partition(const ir::Program &program) {
    const std::vector<KernelGroup> groups = partition_into_kernels(program);
    std::string text = fmt::format("# partition: a plan of {} kernels, each compiled and cached on its own\n", groups.size());
    for (size_t k = 0; k < groups.size(); ++k) {
        std::string nodes;
        for (const ir::Node *n : groups[k].nodes) nodes += fmt::format(" %{}", n->id);
        std::string outputs;
        for (const ir::Node *o : groups[k].outputs) outputs += fmt::format(" %{}", o->id);
        text += fmt::format("#   kernel {}:{}  -> {}  ({} {})\n", k, nodes, outputs, groups[k].nodes.back()->name(),
                            ir::type_str(groups[k].nodes.back()->type));
    }
    return text;
}

std::string plan_cache_status(const Plan &plan) { return plan.compiled == 0 ? "hit" : "miss"; }
size_t plan_kernel_count(const Plan &plan) { return plan.steps.size(); }

}  // namespace strata::codegen
