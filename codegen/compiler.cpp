#include "codegen/compiler.h"

#include "codegen/executable_impl.h"
#include "codegen/plan/plan.h"
#include "codegen/resolved_schedule.h"
#include "codegen/shared_object.h"
#include "codegen/stage_schedule.h"
#include "codegen/autoschedule.h"
#include "codegen/target.h"
#include "ir/passes/pipeline.h"
#include "ir/printer.h"
#include "runtime/buffer_pool.h"

#include <strata/error.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace strata::codegen {


namespace {

constexpr const char *kEntryName = "strata_pipeline";

/// The last error a cached pipeline reported on this thread (its Halide
/// runtime calls this instead of printing).
thread_local std::string last_pipeline_error;
extern "C" void record_pipeline_error(void *, const char *message) { last_pipeline_error = message; }

/// Halide's runtime for a target, compiled once into the cache: pipelines are
/// compiled without it (LLVM would otherwise compile it again for each) and
/// linked with this object.
std::filesystem::path cached_runtime_object(const std::filesystem::path &dir, const Halide::Target &target,
                                            const std::string &versions) {
    const std::string key = fmt::format("{}\nhalide runtime for {}", versions, target.to_string());
    return find_or_build_cached(dir, key, ".o", [&](const std::filesystem::path &out) {
               Halide::compile_standalone_runtime(out.string(), target);
           }).path;
}

/// Compiles the lowered pipeline to an object and links it with the runtime into `out`.
void build_shared_object(const LoweredProgram &lowered, const Halide::Target &target,
                         const std::filesystem::path &runtime, const std::filesystem::path &out) {
    const std::filesystem::path object = out.string() + ".o";
    std::vector<Halide::Argument> args(lowered.source_params.begin(), lowered.source_params.end());
    try {
        Halide::Pipeline pipeline = lowered.pipeline;
        pipeline.compile_to_object(object.string(), args, kEntryName, target.with_feature(Halide::Target::NoRuntime));
        link_shared_object({object, runtime}, out);
    } catch (...) {
        std::remove(object.c_str());
        throw;
    }
    std::remove(object.c_str());
}

/// Loads a cached pipeline and routes its runtime errors to `record_pipeline_error`.
void load_shared_object(Executable::Impl &impl, const CachedObject &cached) {
    impl.object = std::make_shared<SharedObject>(cached.path.string(), cached.bytes);
    impl.entry = reinterpret_cast<int (*)(void **)>(impl.object->symbol(std::string(kEntryName) + "_argv"));
    using Handler = void (*)(void *, const char *);
    auto set_handler = reinterpret_cast<Handler (*)(Handler)>(impl.object->symbol("halide_set_error_handler"));
    set_handler(&record_pipeline_error);
    if (impl.target.has_gpu_feature()) {
        Executable::Impl::DeviceCalls calls;
        calls.copy_to_host = reinterpret_cast<decltype(calls.copy_to_host)>(impl.object->symbol("halide_copy_to_host"));
        calls.device_free = reinterpret_cast<decltype(calls.device_free)>(impl.object->symbol("halide_device_free"));
        impl.device = calls;
    }
}

}  // namespace

Halide::Buffer<> halide_view(Tensor &t) {
    const Shape &shape = t.shape();
    const Shape &strides = t.strides();
    std::vector<halide_dimension_t> dims(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) {
        const size_t hd = shape.size() - 1 - i;
        dims[hd] = halide_dimension_t(0, static_cast<int32_t>(shape[i]), static_cast<int32_t>(strides[i]));
    }
    return Halide::Buffer<>(halide_type(t.dtype()), t.raw_data(), static_cast<int>(dims.size()),
                            dims.empty() ? nullptr : dims.data());
}

namespace {

std::string describe(const Tensor &t) {
    return fmt::format("{}{}", dtype_name(t.dtype()), shape_str(t.shape()));
}

/// Recently compiled pipelines by (target, options, IR text). Strong
/// references, so rebuilding the same graph later (e.g. an evaluation graph
/// each epoch) does not compile again; the oldest entries go past the limit.
struct CompiledCache {
    static constexpr size_t kLimit = 64;
    std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<const Executable::Impl>> entries;
    std::deque<std::string> order;

    std::shared_ptr<const Executable::Impl> find(const std::string &key) {
        auto it = entries.find(key);
        return it == entries.end() ? nullptr : it->second;
    }
    void insert(const std::string &key, std::shared_ptr<const Executable::Impl> impl) {
        if (entries.emplace(key, std::move(impl)).second) order.push_back(key);
        while (order.size() > kLimit) {
            entries.erase(order.front());
            order.pop_front();
        }
    }
};

CompiledCache &compiled_cache() {
    static CompiledCache cache;
    return cache;
}

}  // namespace

namespace {

/// "Halide rejected ...": what Halide said, and which stage lines it was given.
[[noreturn]] void halide_rejected(const std::string &target, const ResolvedSchedule &schedule, const CompileOptions &options,
                                  const Halide::Error &e) {
    fail("Halide rejected the pipeline for target {}: {}{}", target, e.what(),
         schedule.mode == "stages" ? fmt::format(" (under the stage lines of schedule '{}')", options.schedule) : "");
}

struct LoweredForDump {
    ir::Program program;
    std::string target;
    ResolvedSchedule schedule;
    LoweredProgram lowered;
    PipelineNames names;
};

LoweredForDump lower_for_dump(const ir::Program &input, const CompileOptions &options) {
    LoweredForDump d;
    d.target = resolve_target_or_default(options.target);
    d.schedule = resolve_schedule(options);
    d.program = options.optimize ? ir::run_passes(input) : ir::clone(input);
    try {
        d.lowered = lower_scheduled(d.program, Halide::Target(d.target), d.schedule, nullptr, &d.names);
    } catch (const Halide::Error &e) {
        halide_rejected(d.target, d.schedule, options, e);
    }
    return d;
}

/// The "algorithm" line of a stage schedule: which lowering its Funcs come from.
std::string stage_algorithm(const ResolvedSchedule &schedule) {
    if (schedule.mode == "default") return "default";
    if (schedule.mode == "simple") return "simple";
    if (schedule.mode == "stages")
        return schedule.rules.stage_algorithm().empty() ? "plain" : schedule.rules.stage_algorithm();
    if (is_autoscheduler(schedule.mode)) return "plain";
    fail("the '{}' schedule cannot be written as stage lines (its algorithm is the GPU one; use default, simple, an "
         "autoscheduler or a stage schedule)", schedule.mode);
}

std::string stage_lines(const LoweredForDump &d) {
    return "algorithm " + stage_algorithm(d.schedule) + "\n" + read_stage_schedule(d.lowered, &d.names);
}

std::string as_comments(const std::string &text) {
    std::string out, line;
    for (char c : text) {
        if (c != '\n') { line += c; continue; }
        out += "# " + line + "\n";
        line.clear();
    }
    if (!line.empty()) out += "# " + line + "\n";
    return out;
}

}  // namespace

std::string schedule_in_effect(const ir::Program &input, const CompileOptions &options) {
    const LoweredForDump d = lower_for_dump(input, options);
    const LoweredProgram &lowered = d.lowered;
    std::string text = fmt::format("# strata schedule in effect: schedule '{}', target {}\n", options.schedule, d.target);
    const bool as_plan =
        compiles_as_plan(d.program, Halide::Target(d.target), d.schedule, effective_partition(options.partition));
    if (as_plan)
        text += describe_partition(d.program);
    else
        text += "# partition: one pipeline\n";
    if (!lowered.autoscheduler_source.empty()) {
        text += "# Halide's autoscheduler wrote this schedule; as stage lines (loads back with --schedule FILE, and\n"
                "# can be edited by hand):\n";
        try {
            text += stage_lines(d);
        } catch (const Error &e) {
            text += fmt::format("# (not as stage lines: {})\n", e.what());
        }
        text += "# The Halide C++ it wrote:\n" + as_comments(lowered.autoscheduler_source);
        return text;
    }
    if (d.schedule.mode == "stages") {
        text += "# Stage lines (Halide primitives per stage); loads back with --schedule FILE.\n";
        return text + stage_lines(d);
    }
    text += "# One line per scheduled node; unlisted nodes are sources. Loads back with --schedule FILE.\n";
    for (const auto &node : d.program.nodes()) {
        auto it = lowered.schedule.find(node->id);
        if (it == lowered.schedule.end()) continue;
        text += fmt::format("node %{} {}  # {} {}\n", node->id, it->second.to_string(), node->name(),
                            ir::type_str(node->type));
    }
    // A fusion joins Funcs of one pipeline; a pool and its gradient land in different kernels of a plan.
    for (const Fusion &fusion : lowered.fusions)
        text += (as_plan ? "# not in this plan (its kernels are apart), only as one pipeline: " : "# ") +
                describe_fusion(fusion, d.program) + "\n";
    return text;
}

std::string stage_schedule_in_effect(const ir::Program &input, const CompileOptions &options) {
    const LoweredForDump d = lower_for_dump(input, options);
    std::string text = fmt::format("# strata stage schedule: schedule '{}', target {}\n"
                                   "# Halide primitives per stage of the lowered pipeline; loads back with --schedule FILE.\n",
                                   options.schedule, d.target);
    return text + stage_lines(d);
}

namespace {

/// The compile-cache key of a program as it is lowered (after the IR passes).
/// The default schedules plan tasks for the thread count (thread_count()), so it is part of the key.
std::string pipeline_key(const std::string &target_string, const ResolvedSchedule &schedule, const ir::Program &program) {
    return fmt::format("target {}\nthreads {}\nschedule {}\n{}", target_string, thread_count(), schedule.key,
                       ir::print(program));
}

/// The in-process key: the program as given. The passes are the same code for
/// the whole process, so a program compiled before is found without running them.
std::string memory_key(const std::string &target_string, const ResolvedSchedule &schedule, const ir::Program &program,
                       bool optimize, Partition partition) {
    return fmt::format("optimize {}\npartition {}\n{}", optimize, static_cast<int>(partition),
                       pipeline_key(target_string, schedule, program));
}

std::string disk_cache_versions() {
    return fmt::format("strata codegen {}\nhalide {}", codegen_fingerprint(), STRATA_HALIDE_VERSION);
}

/// Compiles `program` (already through the IR passes) as one Halide pipeline.
std::shared_ptr<Executable::Impl> compile_pipeline(ir::Program program, const std::string &target_string,
                                                   const ResolvedSchedule &schedule, const CompileOptions &options,
                                                   const std::string &key) {
    // One Halide compile at a time in this process: Halide 14 does not document
    // concurrent lowering as safe. Plans compile their kernels in parallel in
    // worker processes instead (codegen/plan/kernel_workers.h).
    static std::mutex halide_mutex;
    std::lock_guard<std::mutex> lock(halide_mutex);
    const Halide::Target target(target_string);
    auto impl = std::make_shared<Executable::Impl>();
    impl->program = std::move(program);
    impl->target_string = target_string;
    impl->target = target;
    try {
        impl->lowered = lower_scheduled(impl->program, target, schedule);
        if (const auto dir = compile_cache_dir()) {
            const std::string versions = disk_cache_versions();
            const CachedObject cached =
                find_or_build_cached(*dir, versions + "\n" + key, ".so", [&](const std::filesystem::path &out) {
                    build_shared_object(impl->lowered, target, cached_runtime_object(*dir, target, versions), out);
                });
            impl->cache_outcome = cached.outcome;
            load_shared_object(*impl, cached);
        } else {
            // Intermediate buffers come from the pool of reused blocks (runtime/buffer_pool.h).
            Halide::JITHandlers &handlers = impl->lowered.pipeline.jit_handlers();
            handlers.custom_malloc = [](Halide::JITUserContext *, size_t bytes) { return pool_allocate(bytes); };
            handlers.custom_free = [](Halide::JITUserContext *, void *block) { pool_release(block); };
            impl->lowered.pipeline.compile_jit(target);
        }
    } catch (const Halide::Error &e) {
        halide_rejected(target_string, schedule, options, e);
    }
    return impl;
}

}  // namespace

bool kernel_is_cached(const ir::Program &kernel, const CompileOptions &options) {
    const std::string target_string = resolve_target_or_default(options.target);
    const ResolvedSchedule schedule = resolve_schedule(options);
    {
        CompiledCache &cache = compiled_cache();
        std::lock_guard<std::mutex> lock(cache.mutex);
        if (cache.find(memory_key(target_string, schedule, kernel, options.optimize, options.partition))) return true;
    }
    const auto dir = compile_cache_dir();
    return dir && has_cached_entry(*dir, disk_cache_versions() + "\npipeline\n" +
                                             pipeline_key(target_string, schedule, kernel));
}

Executable compile(const ir::Program &program, const CompileOptions &options) {
    const std::string target_string = resolve_target_or_default(options.target);
    const Halide::Target target(target_string);
    // GPU pipelines go through the shared-object path only (their device
    // buffers are copied back and freed in run_into), not Halide's JIT.
    if (target.has_gpu_feature() && !compile_cache_dir())
        fail("target '{}': GPU targets are compiled ahead of time through the compile cache, which "
             "STRATA_NO_CACHE=1 turns off; unset it", target_string);
    if (!can_run_in_process(target_string))
        fail("target '{}' cannot run on this machine (host is '{}'); use `strata emit` to cross-compile",
             target_string, Halide::get_host_target().to_string());

    const ResolvedSchedule schedule = resolve_schedule(options);
    const Partition partition = effective_partition(options.partition);
    const std::string key = memory_key(target_string, schedule, program, options.optimize, partition);
    CompiledCache &cache = compiled_cache();
    {
        std::lock_guard<std::mutex> lock(cache.mutex);
        if (auto hit = cache.find(key)) return Executable(hit);
    }

    const auto start = std::chrono::steady_clock::now();
    ir::Program optimized = options.optimize ? ir::run_passes(program) : ir::clone(program);
    std::shared_ptr<Executable::Impl> impl;
    if (compiles_as_plan(optimized, target, schedule, partition)) {
        impl = std::make_shared<Executable::Impl>();
        impl->program = std::move(optimized);
        impl->target_string = target_string;
        impl->target = target;
        // Each kernel is one pipeline under the schedule resolved here (a schedule
        // file is read once, and its rules travel to the workers as text).
        CompileOptions kernel_options;
        kernel_options.target = target_string;
        kernel_options.schedule = schedule.mode;
        kernel_options.rules = schedule.rules;
        kernel_options.optimize = false;
        kernel_options.partition = Partition::whole_program;
        impl->plan = build_plan(impl->program, kernel_options);
    } else {
        // On disk, keyed by what is compiled: the program after the passes.
        const std::string disk_key = "pipeline\n" + pipeline_key(target_string, schedule, optimized);
        impl = compile_pipeline(std::move(optimized), target_string, schedule, options, disk_key);
    }
    for (const ir::Output &out : impl->program.outputs()) impl->output_names.push_back(out.name);
    impl->compile_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::lock_guard<std::mutex> lock(cache.mutex);
    if (auto raced = cache.find(key)) return Executable(raced);  // another thread compiled it meanwhile
    cache.insert(key, impl);
    return Executable(impl);
}

std::vector<Tensor> Executable::run(const std::map<std::string, Tensor> &sources) const {
    STRATA_ASSERT(impl_, "run on an empty Executable");
    std::vector<Tensor> outputs;
    for (const ir::Output &out : impl_->program.outputs())
        outputs.push_back(Tensor::uninitialized(out.node->shape(), out.node->dtype()));  // written whole by the run
    run_into(sources, outputs);
    return outputs;
}

namespace {

std::vector<Tensor> checked_sources(const ir::Program &program, const std::vector<const ir::Node *> &wanted,
                                    const std::map<std::string, Tensor> &sources) {
    std::vector<Tensor> tensors;
    size_t matched = 0;
    for (const ir::Node *node : wanted) {
        const std::string &name = node->attrs.get_str("name");
        const char *kind = node->op == ir::Op::input ? "input" : "parameter";
        auto it = sources.find(name);
        if (it == sources.end()) fail("run: {} '{}' ({}) was not given", kind, name, ir::type_str(node->type));
        ++matched;
        const Tensor &t = it->second;
        if (!t.defined()) fail("run: {} '{}' is an undefined tensor", kind, name);
        if (t.dtype() != node->dtype() || t.shape() != node->shape())
            fail("run: {} '{}' must be {}, got {}", kind, name, ir::type_str(node->type), describe(t));
        tensors.push_back(t.contiguous());  // contiguous and aligned: a view into a tensor is copied
    }
    if (matched != sources.size()) {
        for (const auto &[name, t] : sources)
            if (!program.find_source(name)) fail("run: '{}' is not an input or parameter of the program", name);
    }
    return tensors;
}

void check_outputs(const ir::Program &program, const std::vector<Tensor> &outputs) {
    const auto &outs = program.outputs();
    if (outputs.size() != outs.size())
        fail("run_into: {} output tensors given, the program has {}", outputs.size(), outs.size());
    for (size_t i = 0; i < outs.size(); ++i) {
        const Tensor &t = outputs[i];
        // Compiled kernels take whole, aligned buffers: a view into the middle of a tensor is no output.
        if (!t.defined() || t.dtype() != outs[i].node->dtype() || t.shape() != outs[i].node->shape() ||
            !t.is_contiguous() || !t.is_aligned())
            fail("run_into: output '{}' must be a contiguous {} starting at a {}-byte boundary (a tensor of its own, "
                 "not a view such as a slice), got {}{}",
                 outs[i].name, ir::type_str(outs[i].node->type), kTensorAlignment,
                 t.defined() ? describe(t) : "an undefined tensor",
                 t.defined() && !t.is_aligned() ? " (a view that does not start at such a boundary)" : "");
    }
}

}  // namespace

void Executable::run_into(const std::map<std::string, Tensor> &sources, std::vector<Tensor> &outputs) const {
    if (!impl_) fail("Executable::run: the executable is empty (compile a program first)");
    check_outputs(impl_->program, outputs);
    if (impl_->plan) {
        std::vector<Tensor> tensors = checked_sources(impl_->program, impl_->plan->sources, sources);
        run_plan(*impl_->plan, tensors, outputs);
        return;
    }
    std::vector<Tensor> keep_alive = checked_sources(impl_->program, impl_->lowered.sources, sources);
    std::vector<Halide::Buffer<>> inputs, buffers;
    for (Tensor &t : keep_alive) inputs.push_back(halide_view(t));
    for (Tensor &t : outputs) buffers.push_back(halide_view(t));
    impl_->run_pipeline(inputs, buffers);
}

void Executable::Impl::run_pipeline(std::vector<Halide::Buffer<>> &inputs, std::vector<Halide::Buffer<>> &buffers) const {
    if (entry) {
        // A cached shared object: arguments are the sources, then the outputs.
        std::vector<void *> args;
        for (auto &b : inputs) args.push_back(b.raw_buffer());
        for (auto &b : buffers) args.push_back(b.raw_buffer());
        last_pipeline_error.clear();
        const int status = entry(args.data());
        // On a GPU target the outputs are still on the device: copy them into
        // the caller's tensors, then free every device allocation (inputs
        // were copied up, outputs allocated there) so nothing leaks per run.
        std::string device_error;
        if (device) {
            if (status == 0)
                for (auto &b : buffers)
                    if (device->copy_to_host(nullptr, b.raw_buffer()) != 0 && device_error.empty())
                        device_error = "copying an output back from the GPU failed: " + last_pipeline_error;
            for (auto *list : {&inputs, &buffers})
                for (auto &b : *list) device->device_free(nullptr, b.raw_buffer());
        }
        if (status != 0)
            fail("run failed: {}{}",
                 last_pipeline_error.empty() ? "the compiled pipeline reported an error" : last_pipeline_error,
                 device ? fmt::format(" (target {} needs an NVIDIA GPU and its driver, libcuda.so)", target_string)
                        : "");
        if (!device_error.empty()) fail("run failed: {}", device_error);
        return;
    }
    Halide::ParamMap params;
    for (size_t i = 0; i < inputs.size(); ++i) params.set(lowered.source_params[i], inputs[i]);
    Halide::Realization realization(buffers);
    try {
        std::lock_guard<std::mutex> lock(run_mutex);
        Halide::Pipeline pipeline = lowered.pipeline;  // a handle; realize is non-const
        pipeline.realize(realization, target, params);
    } catch (const Halide::Error &e) {
        fail("run failed: {}", e.what());
    }
}

const std::vector<std::string> &Executable::output_names() const { return impl_->output_names; }
const ir::Program &Executable::program() const { return impl_->program; }
const std::string &Executable::target() const { return impl_->target_string; }
double Executable::compile_seconds() const { return impl_->compile_seconds; }

std::string Executable::cache_status() const {
    if (impl_->plan) return plan_cache_status(*impl_->plan);
    if (!impl_->object) return "off";
    switch (impl_->cache_outcome) {
    case CacheOutcome::hit: return "hit";
    case CacheOutcome::miss: return "miss";
    case CacheOutcome::rebuilt_corrupt: return "rebuilt";
    }
    return "miss";
}

size_t Executable::kernel_count() const { return impl_->plan ? plan_kernel_count(*impl_->plan) : 1; }

void forget_compiled_pipelines() {
    CompiledCache &cache = compiled_cache();
    std::lock_guard<std::mutex> lock(cache.mutex);
    cache.entries.clear();
    cache.order.clear();
}

}  // namespace strata::codegen
