#include "codegen/compiler.h"

#include "codegen/lower/lower.h"
#include "codegen/target.h"
#include "ir/passes/pipeline.h"
#include "ir/printer.h"

#include <strata/error.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <unordered_map>

namespace strata::codegen {

struct Executable::Impl {
    ir::Program program;
    std::string target_string;
    Halide::Target target;
    LoweredProgram lowered;
    std::vector<std::string> output_names;
    double compile_seconds = 0;
    // Halide 14's JIT realize is not documented as re-entrant; runs of one
    // pipeline are serialised, different pipelines run concurrently.
    mutable std::mutex run_mutex;
};

namespace {

Halide::Buffer<> wrap(Tensor &t) {
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

Executable compile(const ir::Program &program, const CompileOptions &options) {
    const std::string target_string = resolve_target(options.target.empty() ? default_target() : options.target);
    const Halide::Target target(target_string);
    if (target.has_gpu_feature())
        fail("target '{}': GPU targets cannot be JIT-compiled yet; use a CPU target", target_string);
    if (!can_run_in_process(target_string))
        fail("target '{}' cannot run on this machine (host is '{}'); use `strata emit` to cross-compile",
             target_string, Halide::get_host_target().to_string());

    if (options.schedule != "default" && options.schedule != "simple")
        fail("unknown schedule '{}': expected \"default\" or \"simple\"", options.schedule);
    const std::string key =
        fmt::format("{}\n{}\n{}\n{}", target_string, options.optimize, options.schedule, ir::print(program));
    CompiledCache &cache = compiled_cache();
    std::lock_guard<std::mutex> lock(cache.mutex);
    if (auto hit = cache.find(key)) return Executable(hit);

    const auto start = std::chrono::steady_clock::now();
    auto impl = std::make_shared<Executable::Impl>();
    impl->program = options.optimize ? ir::run_passes(program) : ir::clone(program);
    impl->target_string = target_string;
    impl->target = target;
    try {
        LowerOptions lower_options;
        lower_options.simple_schedules = options.schedule == "simple";
        impl->lowered = lower_program(impl->program, target, lower_options);
        impl->lowered.pipeline.compile_jit(target);
    } catch (const Halide::CompileError &e) {
        fail("Halide rejected the pipeline for target {}: {}", target_string, e.what());
    }
    for (const ir::Output &out : impl->program.outputs()) impl->output_names.push_back(out.name);
    impl->compile_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    cache.insert(key, impl);
    return Executable(impl);
}

std::vector<Tensor> Executable::run(const std::map<std::string, Tensor> &sources) const {
    STRATA_ASSERT(impl_, "run on an empty Executable");
    std::vector<Tensor> outputs;
    for (const ir::Output &out : impl_->program.outputs())
        outputs.push_back(Tensor::empty(out.node->shape(), out.node->dtype()));
    run_into(sources, outputs);
    return outputs;
}

void Executable::run_into(const std::map<std::string, Tensor> &sources, std::vector<Tensor> &outputs) const {
    if (!impl_) fail("Executable::run: the executable is empty (compile a program first)");
    const auto &lowered = impl_->lowered;
    Halide::ParamMap params;
    std::vector<Tensor> keep_alive;
    size_t matched = 0;
    for (size_t i = 0; i < lowered.sources.size(); ++i) {
        const ir::Node *node = lowered.sources[i];
        const std::string &name = node->attrs.get_str("name");
        const char *kind = node->op == ir::Op::input ? "input" : "parameter";
        auto it = sources.find(name);
        if (it == sources.end()) fail("run: {} '{}' ({}) was not given", kind, name, ir::type_str(node->type));
        ++matched;
        const Tensor &t = it->second;
        if (!t.defined()) fail("run: {} '{}' is an undefined tensor", kind, name);
        if (t.dtype() != node->dtype() || t.shape() != node->shape())
            fail("run: {} '{}' must be {}, got {}", kind, name, ir::type_str(node->type), describe(t));
        keep_alive.push_back(t.contiguous());
        params.set(lowered.source_params[i], wrap(keep_alive.back()));
    }
    if (matched != sources.size()) {
        for (const auto &[name, t] : sources)
            if (!impl_->program.find_source(name))
                fail("run: '{}' is not an input or parameter of the program", name);
    }
    const auto &outs = impl_->program.outputs();
    if (outputs.size() != outs.size())
        fail("run_into: {} output tensors given, the program has {}", outputs.size(), outs.size());
    std::vector<Halide::Buffer<>> buffers;
    for (size_t i = 0; i < outs.size(); ++i) {
        Tensor &t = outputs[i];
        if (!t.defined() || t.dtype() != outs[i].node->dtype() || t.shape() != outs[i].node->shape() ||
            !t.is_contiguous())
            fail("run_into: output '{}' must be a contiguous {}, got {}", outs[i].name,
                 ir::type_str(outs[i].node->type), t.defined() ? describe(t) : "an undefined tensor");
        buffers.push_back(wrap(t));
    }
    Halide::Realization realization(buffers);
    try {
        std::lock_guard<std::mutex> lock(impl_->run_mutex);
        Halide::Pipeline pipeline = lowered.pipeline;  // a handle; realize is non-const
        pipeline.realize(realization, impl_->target, params);
    } catch (const Halide::Error &e) {
        fail("run failed: {}", e.what());
    }
}

const std::vector<std::string> &Executable::output_names() const { return impl_->output_names; }
const ir::Program &Executable::program() const { return impl_->program; }
const std::string &Executable::target() const { return impl_->target_string; }
double Executable::compile_seconds() const { return impl_->compile_seconds; }

}  // namespace strata::codegen
