#include "frontend/onnx/onnx_import.h"

#include "frontend/onnx/onnx_converter.h"
#include "frontend/train/checkpoint.h"

#include <strata/error.h>

#include <set>

namespace strata::onnx {

struct OnnxModelImpl::State {
    ::onnx::ModelProto model;
    std::string path;
    int64_t opset = 0;
    std::vector<ModelInput> inputs;
    std::vector<std::string> outputs;
    /// Each float initializer: the module that holds it and its name there.
    std::map<std::string, std::pair<nn::Module *, std::string>> owners;
    /// Constants computed at import and kept as buffers of the root: ONNX value name -> buffer name.
    std::map<std::string, std::string> constants;
    std::map<std::string, HostTensor> fixed_inputs;
};

namespace {

std::string sanitized(const std::string &name) {
    std::string out = name;
    for (char &c : out)
        if (c == '.') c = '_';
    return out;
}

std::vector<std::string> split_path(const std::string &name) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        const size_t dot = name.find('.', start);
        parts.push_back(name.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return parts;
}

/// The module (root or a descendant made for the path) that holds initializer `name` as its tensor
/// `leaf`, so that the tensor's full name is `name` ("layer1.0.conv1.weight").
nn::Module *owner_for(nn::Module &root, const std::string &name, std::string &leaf) {
    const std::vector<std::string> parts = split_path(name);
    for (const std::string &p : parts)
        if (p.empty()) {
            leaf = sanitized(name);  // "a..b" cannot be a path: one flat name
            return &root;
        }
    nn::Module *scope = &root;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        std::shared_ptr<nn::Module> child;
        for (const auto &[child_name, module] : scope->named_children())
            if (child_name == parts[i]) child = module;
        if (!child) child = scope->register_module(parts[i], std::make_shared<nn::Module>("OnnxScope"));
        scope = child.get();
    }
    leaf = parts.back();
    return scope;
}

Shape declared_shape(const ::onnx::ValueInfoProto &info, const ImportOptions &options) {
    auto given = options.input_shapes.find(info.name());
    if (given != options.input_shapes.end()) return given->second;
    const auto &type = info.type();
    if (!type.has_tensor_type()) throw Unsupported(fmt::format("input '{}' is not a tensor", info.name()));
    Shape shape;
    const auto &dims = type.tensor_type().shape().dim();
    for (int d = 0; d < dims.size(); ++d) {
        if (dims[d].has_dim_value()) {
            if (dims[d].dim_value() < 0) fail("input '{}': dim {} is {}", info.name(), d, dims[d].dim_value());
            shape.push_back(dims[d].dim_value());
        } else if (d == 0) {
            shape.push_back(options.batch);
        } else {
            fail("input '{}': dim {} is symbolic ('{}'); give the input's shape (ImportOptions::input_shapes, "
                 "strata import --shape {}=...)",
                 info.name(), d, dims[d].dim_param(), info.name());
        }
    }
    return shape;
}

}  // namespace

OnnxModelImpl::OnnxModelImpl(const std::string &path, const ImportOptions &options)
    : nn::Module("OnnxModel"), state_(std::make_shared<State>()) {
    if (options.batch < 1) fail("ONNX import of {}: batch must be >= 1, got {}", path, options.batch);
    State &s = *state_;
    s.path = path;
    s.model = read_model(path);
    s.opset = default_opset(s.model);
    const ::onnx::GraphProto &g = s.model.graph();
    std::set<std::string> initializers;
    for (const auto &init : g.initializer()) initializers.insert(init.name());
    for (const auto &in : g.input()) {
        if (initializers.count(in.name())) continue;
        auto fixed = options.fixed_inputs.find(in.name());
        if (fixed != options.fixed_inputs.end()) {
            if (shape_numel(fixed->second.shape) != static_cast<int64_t>(fixed->second.values.size()))
                fail("{}: fixed input '{}' has {} values for shape {}", path, in.name(), fixed->second.values.size(),
                     shape_str(fixed->second.shape));
            s.fixed_inputs[in.name()] = HostTensor::of_ints(fixed->second.values, fixed->second.shape);
            continue;
        }
        const int32_t type = in.type().tensor_type().elem_type();
        s.inputs.push_back({in.name(), declared_shape(in, options),
                            strata_dtype(type, fmt::format("{}: input '{}'", path, in.name()))});
    }
    for (const auto &out : g.output()) s.outputs.push_back(out.name());
    const std::set<std::string> statistics = statistics_initializers(g);
    for (const auto &init : g.initializer()) {
        if (!HostTensor::is_float_type(init.data_type())) continue;  // integers: constants used at import
        const Tensor value = to_tensor(host_tensor(init, fmt::format("{}: initializer '{}'", path, init.name())),
                                       "initializer '" + init.name() + "'");
        std::string leaf;
        nn::Module *owner = owner_for(*this, init.name(), leaf);
        if (statistics.count(init.name())) owner->register_buffer(leaf, value);
        else owner->register_parameter(leaf, value);
        s.owners[init.name()] = {owner, leaf};
    }
    // Convert once now: an unsupported op fails at import, and the constants it needs are registered.
    try {
        (void)ir();
    } catch (const Unsupported &e) {
        throw Unsupported(fmt::format("{}: {}", path, e.what()));
    } catch (const Error &e) {
        fail("{}: {}", path, e.what());
    }
}

const std::vector<ModelInput> &OnnxModelImpl::inputs() const { return state_->inputs; }
const std::vector<std::string> &OnnxModelImpl::outputs() const { return state_->outputs; }
int64_t OnnxModelImpl::opset() const { return state_->opset; }

SymTensor OnnxModelImpl::constant_buffer(const SymTensor &like, const std::string &name, const Tensor &value) {
    auto it = state_->constants.find(name);
    if (it == state_->constants.end()) {
        std::string buffer = "onnx_constant_" + sanitized(name);
        while (registered_tensor(buffer).defined()) buffer += "_";
        register_buffer(buffer, value);
        it = state_->constants.emplace(name, buffer).first;
    }
    const Tensor held = registered_tensor(it->second);
    bool same = held.shape() == value.shape() && held.dtype() == value.dtype();
    for (int64_t i = 0; same && i < value.numel(); ++i) same = held.get_flat(i) == value.get_flat(i);
    if (!same)
        fail("ONNX value '{}' is a constant that depends on the input shapes ({} at import, {} now); Strata keeps "
             "such constants fixed: import the model with the shapes it will run at",
             name, shape_str(held.shape()), shape_str(value.shape()));
    return param(like, it->second);
}

std::map<std::string, SymTensor> OnnxModelImpl::forward(const std::map<std::string, SymTensor> &inputs) {
    if (inputs.empty()) fail("OnnxModel({}): no inputs given", state_->path);
    for (const ModelInput &in : state_->inputs)
        if (!inputs.count(in.name)) fail("OnnxModel({}): input '{}' was not given", state_->path, in.name);
    const SymTensor like = inputs.begin()->second;
    TensorSources sources;
    sources.initializer = [&](const std::string &name) {
        const auto &[owner, leaf] = state_->owners.at(name);
        return owner->param(like, leaf);
    };
    sources.constant = [&](const std::string &name, const HostTensor &value) {
        return constant_buffer(like, name, to_tensor(value, "constant '" + name + "'"));
    };
    Converter converter(state_->model, like.graph(), sources, state_->fixed_inputs);
    return converter.run(inputs);
}

SymTensor OnnxModelImpl::forward(const SymTensor &input) {
    if (state_->inputs.size() != 1 || state_->outputs.size() != 1)
        fail("OnnxModel({}): forward(x) needs a model of one input and one output; this one has {} and {} (use "
             "forward with inputs by name)",
             state_->path, state_->inputs.size(), state_->outputs.size());
    return forward(std::map<std::string, SymTensor>{{state_->inputs[0].name, input}}).at(state_->outputs[0]);
}

std::string OnnxModelImpl::ir() const {
    // forward registers constants on first use; ir() is logically const.
    auto *self = const_cast<OnnxModelImpl *>(this);
    Graph g;
    std::map<std::string, SymTensor> inputs;
    for (const ModelInput &in : state_->inputs) inputs[in.name] = g.input(in.name, in.shape, in.dtype);
    if (inputs.empty())
        throw Unsupported(fmt::format("{}: the ONNX graph has no inputs left to feed (Strata runs models of at least "
                                      "one input; INT64 inputs are fixed at import)",
                                      state_->path));
    const auto outputs = self->forward(inputs);
    for (const std::string &name : state_->outputs) g.output(name, outputs.at(name));
    return g.to_string();
}

void import_to_checkpoint(const std::string &onnx_path, const std::string &out, const ImportOptions &options) {
    OnnxModel model(onnx_path, options);
    CheckpointInfo info;
    info.ir = model->ir();
    info.metadata["onnx.source"] = onnx_path;
    info.metadata["onnx.opset"] = std::to_string(model->opset());
    // What `strata emit --train` must not train (tools/training_program.h): statistics and constants.
    std::string buffers;
    const auto named_buffers = model->named_buffers();  // items() refers into it
    for (const auto &[name, tensor] : named_buffers.items()) buffers += (buffers.empty() ? "" : "\n") + name;
    if (!buffers.empty()) info.metadata["buffers"] = buffers;
    save_checkpoint(out, *model, nullptr, info);
}

}  // namespace strata::onnx
