#include "codegen/aot.h"

#include "codegen/aot_c_api.h"
#include "codegen/aot_c_names.h"
#include "codegen/lower/lower.h"
#include "codegen/resolved_schedule.h"
#include "codegen/target.h"
#include "ir/passes/pipeline.h"
#include "runtime/safetensors.h"

#include <strata/error.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace strata::codegen {

namespace fs = std::filesystem;

namespace {

bool is_c_identifier(const std::string &s) {
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    return true;
}

CTensor c_tensor(const std::string &name, const ir::Node &node) { return {name, node.dtype(), node.shape()}; }

/// The weight / state tensors of the C API: the model's parameters, then the training state.
struct StateTensors {
    std::vector<CTensor> tensors;
    std::map<std::string, size_t> index;
    size_t parameter_count = 0;

    void add(const std::string &name, const ir::Node &node, const char *why) {
        if (node.dtype() != DType::f32)
            fail("emit {}: parameter '{}' is {}; only f32 tensors can be loaded or trained", why, name,
                 ir::type_str(node.type));
        // Names go into C string literals and safetensors JSON as they are.
        for (char c : name)
            if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20)
                fail("emit {}: parameter name '{}' has a quote, backslash or control character", why, name);
        index[name] = tensors.size();
        tensors.push_back(c_tensor(name, node));
    }
    size_t at(const std::string &name) const {
        auto it = index.find(name);
        if (it == index.end()) fail("emit: '{}' is not a parameter of the model or its training state", name);
        return it->second;
    }
};

/// A pipeline to put into the library, with the C buffer of each of its arguments.
struct PipelineObject {
    Halide::Pipeline pipeline;
    std::vector<Halide::Argument> args;
    std::string function;
};

/// The C buffers of a lowered program: sources in argument order, then outputs.
/// `source` and `output` give the data expression and shape expression of each.
template <typename SourceFn, typename OutputFn>
std::vector<CBuffer> c_buffers(const LoweredProgram &lowered, const ir::Program &program, SourceFn source,
                               OutputFn output) {
    std::vector<CBuffer> buffers;
    for (const ir::Node *node : lowered.sources) {
        CBuffer b = source(node->attrs.get_str("name"), *node);
        b.tensor.dtype = node->dtype();
        b.tensor.shape = node->shape();
        b.input = true;
        buffers.push_back(b);
    }
    for (const ir::Output &out : program.outputs()) {
        CBuffer b = output(out.name, *out.node);
        b.tensor.dtype = out.node->dtype();
        b.tensor.shape = out.node->shape();
        b.input = false;
        buffers.push_back(b);
    }
    return buffers;
}

std::vector<Halide::Argument> arguments(const LoweredProgram &lowered) {
    std::vector<Halide::Argument> args;
    for (const Halide::ImageParam &p : lowered.source_params) args.push_back(p);
    return args;
}

/// A pipeline with one output per state tensor, copying its start value out of constant data.
Halide::Pipeline initial_state_pipeline(const std::vector<CTensor> &tensors,
                                        const std::map<std::string, Tensor> &values) {
    std::vector<Halide::Func> outputs;
    for (size_t i = 0; i < tensors.size(); ++i) {
        const Tensor value = values.at(tensors[i].name).contiguous();
        std::vector<int> extents;
        for (size_t d = value.shape().size(); d-- > 0;) extents.push_back(static_cast<int>(value.shape()[d]));
        Halide::Buffer<float> data(extents, "initial_" + std::to_string(i) + "_data");
        std::memcpy(data.data(), value.raw_data(), value.nbytes());
        std::vector<Halide::Var> vars(extents.size());
        std::vector<Halide::Expr> at(vars.begin(), vars.end());
        Halide::Func f("initial_" + std::to_string(i));
        if (vars.empty()) f() = data();
        else f(vars) = data(at);
        if (!vars.empty()) f.vectorize(vars[0], 8, Halide::TailStrategy::GuardWithIf);
        outputs.push_back(f);
    }
    return Halide::Pipeline(outputs);
}

/// Lowers one pipeline of the library under its schedule. A schedule that does not
/// fit the program, or that Halide rejects, is a strata::Error naming the pipeline
/// and the schedule as well as the node or stage and directive.
LoweredProgram lower_for_emit(const std::string &pipeline, const ir::Program &program, const Halide::Target &target,
                              const ResolvedSchedule &schedule, const std::string &schedule_name,
                              const std::string &hint, const std::map<std::string, Tensor> *constants = nullptr) {
    try {
        return lower_scheduled(program, target, schedule, constants);
    } catch (const Halide::Error &e) {
        fail("emit: Halide rejected {} under schedule '{}': {}{}", pipeline, schedule_name, e.what(), hint);
    } catch (const Error &e) {
        fail("emit: {} under schedule '{}': {}{}", pipeline, schedule_name, e.what(), hint);
    }
}

/// How the header names a schedule: its name, or a schedule file's name and kind.
std::string schedule_description(const std::string &name, const ResolvedSchedule &schedule) {
    if (name == schedule.mode) return name;
    std::string file = fs::path(name).filename().string();
    // It goes into a C comment.
    for (size_t at = file.find("*/"); at != std::string::npos; at = file.find("*/")) file.replace(at, 2, "*_/");
    return fmt::format("file {} ({})", file, schedule.mode == "stages" ? "stage lines" : "rules on the default");
}

/// DIR/README.txt: the files and how to use and link them.
std::string readme_text(const std::string &name, const std::string &target, bool external, bool train) {
    std::string text = fmt::format("{0}: a Strata model compiled for {1}.\n\nFiles: {0}.a (code{2}), {0}.h (plain C API), "
                                   "HalideRuntime.h (types used by {0}.h){3}.\n\nUse:\n    #include \"{0}.h\"\n",
                                   name, target, external ? "" : " and weights",
                                   external ? ", " + name + ".safetensors (the weights)" : "");
    if (external)
        text += fmt::format("    char message[512];\n    {0}_weights *w;\n"
                            "    if ({0}_load_weights(\"{0}.safetensors\", &w, message, sizeof message) != 0) ... (message says why)\n"
                            "    {0}_predict(w, input, output); /* 0 on success */\n    {0}_weights_free(w);\n",
                            name);
    else
        text += fmt::format("    {0}_predict(input, output); /* 0 on success */\n", name);
    if (train) {
        text += fmt::format("\nFine-tuning (SGD):\n    {0}_state *s", name);
        text += external ? fmt::format(";\n    {0}_state_load(\"{0}.safetensors\", &s, message, sizeof message);\n", name)
                         : fmt::format(" = {0}_state_new();\n", name);
        text += fmt::format("    {0}_train_step(s, batch, labels, &loss); /* 0 on success */\n"
                            "    {0}_state_predict(s, input, output);\n"
                            "    {0}_state_save(s, \"tuned.safetensors\");\n    {0}_state_free(s);\n",
                            name);
    }
    text += fmt::format("\nLink with the C runtime only:\n    cc main.c -I DIR DIR/{0}.a -lpthread -ldl -lm\n", name);
    return text;
}

}  // namespace

EmittedLibrary emit_library(const ir::Program &program, const std::map<std::string, Tensor> &weights,
                            const EmitOptions &options, const EmitTrainStep *train) {
    if (!is_c_identifier(options.name))
        fail("emit: name '{}' must be a C identifier (letters, digits and _, not starting with a digit)", options.name);
    if (options.out_dir.empty()) fail("emit: no output folder given");
    const std::string target_string = resolve_target(options.target.empty() ? "host" : options.target);
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

    const ir::Program optimized = ir::run_passes(program);
    const Halide::Target target(target_string);
    CApi api;
    api.name = options.name;
    api.target = target_string;
    api.external_weights = options.external_weights;
    for (const ir::Node *in : program.inputs()) api.inputs.push_back(c_tensor(c_identifier(in->attrs.get_str("name"), options.name), *in));
    for (const ir::Output &out : program.outputs()) api.outputs.push_back(c_tensor(c_identifier(out.name, options.name), *out.node));
    auto io_buffer = [&](const std::string &name, const ir::Node &) {
        CBuffer b;
        b.data = c_identifier(name, options.name);
        b.shape = options.name + "_" + c_identifier(name, options.name) + "_shape";
        return b;
    };

    StateTensors state;
    const char *why = train ? "--train" : "--weights external";
    if (train || options.external_weights) {
        for (const ir::Node *p : program.parameters()) state.add(p->attrs.get_str("name"), *p, why);
        state.parameter_count = state.tensors.size();
    }
    auto tensor_buffer = [&](const std::string &prefix, size_t i) {
        CBuffer b;
        b.data = fmt::format("{}[{}]", prefix, i);
        b.shape = fmt::format("{}_tensor_shapes[{}]", options.name, i);
        return b;
    };

    // The model's and the training step's schedules (checked here, before anything is written).
    auto resolved = [](const std::string &name, const char *option) {
        CompileOptions schedule_options;
        schedule_options.schedule = name;
        try {
            return resolve_schedule(schedule_options);
        } catch (const Error &e) {
            fail("emit {}: {}", option, e.what());
        }
    };
    const ResolvedSchedule schedule = resolved(options.schedule, "--schedule");
    const ResolvedSchedule train_schedule =
        train ? resolved(options.train_schedule, "--train-schedule") : ResolvedSchedule{};
    api.schedule = schedule_description(options.schedule, schedule);
    if (train) api.train_schedule = schedule_description(options.train_schedule, train_schedule);

    std::vector<PipelineObject> objects;
    if (!options.external_weights) {
        LoweredProgram lowered = lower_for_emit("the model", optimized, target, schedule, options.schedule, "", &weights);
        api.embedded_predict = c_buffers(lowered, optimized, io_buffer, io_buffer);
        objects.push_back({lowered.pipeline, arguments(lowered), options.name + "_pipeline"});
    }
    if (train || options.external_weights) {
        LoweredProgram lowered = lower_for_emit("the model", optimized, target, schedule, options.schedule, "");
        api.params_predict = c_buffers(
            lowered, optimized,
            [&](const std::string &name, const ir::Node &node) {
                return node.op == ir::Op::parameter ? tensor_buffer("tensor", state.at(name)) : io_buffer(name, node);
            },
            io_buffer);
        objects.push_back({lowered.pipeline, arguments(lowered), options.name + "_params_pipeline"});
    }
    std::map<std::string, Tensor> start = weights;
    if (train) {
        const ir::Program &step_program = *train->program;
        for (const ir::Node *p : step_program.parameters()) {
            const std::string &name = p->attrs.get_str("name");
            if (state.index.count(name)) continue;
            auto it = train->state.find(name);
            if (it == train->state.end()) fail("emit --train: no start value for the training state '{}'", name);
            state.add(name, *p, why);
            start[name] = it->second;
        }
        const ir::Program optimized_step = ir::run_passes(step_program);
        // A file's node ids and stage names are the training program's, not the model's.
        const std::string hint = train_schedule.rules.empty()
                                     ? ""
                                     : " (the training step's nodes and stages are those `strata schedule dump "
                                       "CHECKPOINT --train [--stages]` lists, for the same --batch and --momentum)";
        LoweredProgram lowered =
            lower_for_emit("the training step", optimized_step, target, train_schedule, options.train_schedule, hint);
        const std::string model_input = program.inputs().front()->attrs.get_str("name");
        api.updated.assign(state.tensors.size(), false);
        api.train = c_buffers(
            lowered, optimized_step,
            [&](const std::string &name, const ir::Node &node) {
                if (node.op == ir::Op::parameter) return tensor_buffer("s->tensor", state.at(name));
                CBuffer b;
                if (name == model_input) return io_buffer(name, node);
                if (name == "labels") b.data = "labels", b.shape = options.name + "_labels_shape";
                else if (name == "optim.lr") b.data = "&lr", b.shape = "NULL";
                else if (name == "optim.first") b.data = "&first", b.shape = "NULL";
                else fail("emit --train: the training step has an input '{}' the C API cannot fill", name);
                return b;
            },
            [&](const std::string &name, const ir::Node &) {
                CBuffer b;
                if (name == "loss") {
                    b.data = "&loss_value";
                    b.shape = "NULL";
                } else if (name.rfind("update:", 0) == 0) {
                    const size_t i = state.at(name.substr(7));
                    api.updated[i] = true;
                    b = tensor_buffer("s->next", i);
                } else {
                    fail("emit --train: the training step has an output '{}' (expected loss and update:NAME)", name);
                }
                return b;
            });
        objects.push_back({lowered.pipeline, arguments(lowered), options.name + "_train_pipeline"});
        api.classes = train->classes;
        api.ignore_index = train->ignore_index;
        api.learning_rate = train->learning_rate;
        api.momentum_ready = train->momentum_ready;
    }
    api.tensors = state.tensors;
    api.parameter_count = state.parameter_count;
    if (train && !options.external_weights) {
        for (size_t i = 0; i < state.tensors.size(); ++i) {
            CBuffer b = tensor_buffer("s->tensor", i);
            b.tensor = state.tensors[i];
            b.input = false;
            api.initial.push_back(b);
        }
        objects.push_back({initial_state_pipeline(state.tensors, start), {}, options.name + "_initial_state"});
    }

    // Everything is built in a private folder next to the destination and
    // moved in only when complete.
    const fs::path out(options.out_dir);
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) fail("emit: cannot create the folder {}: {}", out.string(), ec.message());
    const fs::path work = out / fmt::format(".strata-emit-{}-{}", options.name, getpid());
    fs::remove_all(work, ec);
    fs::create_directories(work);
    struct Cleanup {
        fs::path p;
        ~Cleanup() {
            std::error_code e;
            fs::remove_all(p, e);
        }
    } cleanup{work};

    // One object per pipeline without the runtime, plus one copy of the runtime.
    std::vector<std::string> object_files;
    std::string compiling = "the runtime";
    try {
        const Halide::Target object_target = target.with_feature(Halide::Target::NoRuntime);
        for (PipelineObject &o : objects) {
            compiling = o.function;
            const std::string file = (work / (o.function + ".o")).string();
            o.pipeline.compile_to_object(file, o.args, o.function, object_target);
            object_files.push_back(file);
        }
        compiling = "the runtime";
        const std::string runtime = (work / (options.name + "_runtime.o")).string();
        Halide::compile_standalone_runtime(runtime, target);
        object_files.push_back(runtime);
        Halide::create_static_library(object_files, target, (work / (options.name + ".a")).string());
    } catch (const Halide::Error &e) {
        fail("emit: Halide could not compile {} for target {}: {}", compiling, target_string, e.what());
    }
    {
        std::ofstream h(work / (options.name + ".h"));
        h << c_header(api);
        std::ofstream readme(work / "README.txt");
        readme << readme_text(options.name, target_string, options.external_weights, train != nullptr);
        if (!h || !readme) fail("emit: could not write into {}", work.string());
    }
    if (options.external_weights) {
        NamedTensors tensors;
        const size_t count = train && !train->momentum_ready ? state.parameter_count : state.tensors.size();
        for (size_t i = 0; i < count; ++i) tensors.push_back({state.tensors[i].name, start.at(state.tensors[i].name)});
        save_safetensors((work / (options.name + ".safetensors")).string(), tensors, {{"format", "pt"}});
    }
    const fs::path runtime_header(STRATA_HALIDE_RUNTIME_HEADER);
    fs::copy_file(runtime_header, work / "HalideRuntime.h", fs::copy_options::overwrite_existing, ec);
    if (ec) fail("emit: cannot copy {}: {}", runtime_header.string(), ec.message());

    EmittedLibrary result;
    result.target = target_string;
    std::vector<std::string> files = {options.name + ".a", options.name + ".h", "HalideRuntime.h", "README.txt"};
    if (options.external_weights) files.push_back(options.name + ".safetensors");
    for (const std::string &file : files) {
        fs::rename(work / file, out / file, ec);
        if (ec) fail("emit: cannot move {} into {}: {}", file, out.string(), ec.message());
    }
    result.library = (out / (options.name + ".a")).string();
    result.header = (out / (options.name + ".h")).string();
    result.readme = (out / "README.txt").string();
    if (options.external_weights) result.weights = (out / (options.name + ".safetensors")).string();
    return result;
}

}  // namespace strata::codegen
