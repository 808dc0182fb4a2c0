// Binding an emitted library's pipelines to its C API: which C expression feeds
// each input, parameter and output of each lowered program.

#include "codegen/aot_library.h"

#include "codegen/aot_c_names.h"
#include "ir/passes/pipeline.h"

#include <strata/error.h>

#include <cstring>

namespace strata::codegen::aot {

namespace {

CTensor c_tensor(const std::string &name, const ir::Node &node) { return {name, node.dtype(), node.shape()}; }

/// A model input or output: the argument of the same name, with its shape constant.
CBuffer io_buffer(const EmitOptions &options, const std::string &name) {
    CBuffer b;
    b.data = c_identifier(name, options.name);
    b.shape = options.name + "_" + b.data + "_shape";
    return b;
}

/// State tensor `i`, held in the C array `array` ("tensor", "s->tensor", "s->next").
CBuffer tensor_buffer(const EmitOptions &options, const std::string &array, size_t i) {
    CBuffer b;
    b.data = fmt::format("{}[{}]", array, i);
    b.shape = fmt::format("{}_tensor_shapes[{}]", options.name, i);
    return b;
}

/// A scalar argument of the generated function ("&lr").
CBuffer scalar_buffer(const std::string &data) { return {data, "NULL", {}, true}; }

/// The C buffers of a lowered program: sources in argument order, then outputs.
/// `source` and `output` give the data and shape expressions of each by name.
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
        CBuffer b = output(out.name);
        b.tensor.dtype = out.node->dtype();
        b.tensor.shape = out.node->shape();
        b.input = false;
        buffers.push_back(b);
    }
    return buffers;
}

PipelineObject pipeline_object(const LoweredProgram &lowered, const std::string &function) {
    std::vector<Halide::Argument> args;
    for (const Halide::ImageParam &p : lowered.source_params) args.push_back(p);
    return {lowered.pipeline, args, function};
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

}  // namespace

void StateTensors::add(const std::string &name, const ir::Node &node, const char *why) {
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

size_t StateTensors::at(const std::string &name) const {
    auto it = index.find(name);
    if (it == index.end()) fail("emit: '{}' is not a parameter of the model or its training state", name);
    return it->second;
}

void bind_model(LibraryPlan &plan, const ir::Program &model, const ir::Program &optimized,
                const std::map<std::string, Tensor> &weights, const Halide::Target &target,
                const EmitOptions &options, const EmitSchedules &schedules, bool train) {
    CApi &api = plan.api;
    for (const ir::Node *in : model.inputs())
        api.inputs.push_back(c_tensor(c_identifier(in->attrs.get_str("name"), options.name), *in));
    for (const ir::Output &out : model.outputs())
        api.outputs.push_back(c_tensor(c_identifier(out.name, options.name), *out.node));
    auto io = [&](const std::string &name, const auto &...) { return io_buffer(options, name); };

    plan.start = weights;
    if (train || options.external_weights) {
        for (const ir::Node *p : model.parameters())
            plan.state.add(p->attrs.get_str("name"), *p, train ? "--train" : "--weights external");
        plan.state.parameter_count = plan.state.tensors.size();
    }
    if (!options.external_weights) {
        const LoweredProgram lowered =
            lower_for_emit("the model", optimized, target, schedules.model, options.schedule, "", &weights);
        api.embedded_predict = c_buffers(lowered, optimized, io, io);
        plan.objects.push_back(pipeline_object(lowered, options.name + "_pipeline"));
    }
    if (train || options.external_weights) {
        const LoweredProgram lowered =
            lower_for_emit("the model", optimized, target, schedules.model, options.schedule, "");
        auto source = [&](const std::string &name, const ir::Node &node) {
            return node.op == ir::Op::parameter ? tensor_buffer(options, "tensor", plan.state.at(name))
                                                : io_buffer(options, name);
        };
        api.params_predict = c_buffers(lowered, optimized, source, io);
        plan.objects.push_back(pipeline_object(lowered, options.name + "_params_pipeline"));
    }
}

void bind_training_step(LibraryPlan &plan, const ir::Program &model, const EmitTrainStep &train,
                        const Halide::Target &target, const EmitOptions &options, const EmitSchedules &schedules) {
    namespace names = train_step_names;
    CApi &api = plan.api;
    StateTensors &state = plan.state;
    const ir::Program &step = *train.program;
    for (const ir::Node *p : step.parameters()) {
        const std::string &name = p->attrs.get_str("name");
        if (state.index.count(name)) continue;
        auto it = train.state.find(name);
        if (it == train.state.end()) fail("emit --train: no start value for the training state '{}'", name);
        state.add(name, *p, "--train");
        plan.start[name] = it->second;
    }

    const ir::Program optimized = ir::run_passes(step);
    // A file's node ids and stage names are the training program's, not the model's.
    const std::string hint = schedules.train.rules.empty()
                                 ? ""
                                 : " (the training step's nodes and stages are those `strata schedule dump "
                                   "CHECKPOINT --train [--stages]` lists, for the same --batch and --momentum)";
    const LoweredProgram lowered =
        lower_for_emit("the training step", optimized, target, schedules.train, options.train_schedule, hint);
    // The arguments of NAME_train_step(state, batch, labels, &loss) and its state's fields.
    const std::string model_input = model.inputs().front()->attrs.get_str("name");
    auto source = [&](const std::string &name, const ir::Node &node) {
        if (node.op == ir::Op::parameter) return tensor_buffer(options, "s->tensor", state.at(name));
        if (name == model_input) return io_buffer(options, name);
        if (name == names::labels) return CBuffer{"labels", options.name + "_labels_shape", {}, true};
        if (name == names::learning_rate) return scalar_buffer("&lr");
        if (name == names::first_step) return scalar_buffer("&first");
        fail("emit --train: the training step has an input '{}' the C API cannot fill (expected the model's "
             "input '{}', '{}', '{}' or '{}')",
             name, model_input, names::labels, names::learning_rate, names::first_step);
    };
    api.updated.assign(state.tensors.size(), false);
    const std::string update_prefix = names::update;
    auto output = [&](const std::string &name) {
        if (name == names::loss) return scalar_buffer("&loss_value");
        if (name.rfind(update_prefix, 0) != 0)
            fail("emit --train: the training step has an output '{}' (expected {} and {}NAME)", name, names::loss,
                 update_prefix);
        const size_t i = state.at(name.substr(update_prefix.size()));
        api.updated[i] = true;
        return tensor_buffer(options, "s->next", i);
    };
    api.train = c_buffers(lowered, optimized, source, output);
    plan.objects.push_back(pipeline_object(lowered, options.name + "_train_pipeline"));
    api.classes = train.classes;
    api.ignore_index = train.ignore_index;
    api.learning_rate = train.learning_rate;
    api.momentum_ready = train.momentum_ready;

    if (!options.external_weights) {
        for (size_t i = 0; i < state.tensors.size(); ++i) {
            CBuffer b = tensor_buffer(options, "s->tensor", i);
            b.tensor = state.tensors[i];
            b.input = false;
            api.initial.push_back(b);
        }
        plan.objects.push_back({initial_state_pipeline(state.tensors, plan.start), {}, options.name + "_initial_state"});
    }
}

}  // namespace strata::codegen::aot
