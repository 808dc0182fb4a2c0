#include "frontend/graph.h"

#include "ir/autodiff/gradients.h"
#include "ir/passes/rebatch.h"
#include "ir/printer.h"

#include <strata/error.h>

#include <algorithm>

namespace strata {

const Shape &SymTensor::shape() const { return node_->shape(); }
DType SymTensor::dtype() const { return node_->dtype(); }
int64_t SymTensor::dim() const { return static_cast<int64_t>(node_->shape().size()); }
int64_t SymTensor::numel() const { return node_->type.numel(); }
int64_t SymTensor::size(int64_t d) const {
    const int64_t r = dim();
    if (d < -r || d >= r) fail("size: dimension {} is out of range for shape {}", d, shape_str(shape()));
    return shape()[static_cast<size_t>(d < 0 ? d + r : d)];
}
Graph &SymTensor::graph() const {
    if (!graph_) fail("the symbolic tensor is undefined (it belongs to no graph)");
    return *graph_;
}

SymTensor Graph::input(const std::string &name, const Shape &shape, DType dtype) {
    return {this, program_.input(name, ir::Type{dtype, shape})};
}

SymTensor Graph::parameter(const std::string &name, const Tensor &value) {
    if (!value.defined()) fail("parameter '{}': the tensor is undefined", name);
    if (const ir::Node *existing = program_.find_source(name)) {
        auto it = parameters_.find(name);
        if (it != parameters_.end() && it->second.raw_data() == value.raw_data() &&
            existing->type == ir::Type{value.dtype(), value.shape()})
            return {this, existing};
        fail("parameter '{}': a different source of that name is already in the graph", name);
    }
    parameters_[name] = value;
    return {this, program_.parameter(name, ir::Type{value.dtype(), value.shape()})};
}

SymTensor Graph::constant(double value, const Shape &shape, DType dtype) {
    return {this, program_.full(value, ir::Type{dtype, shape})};
}

SymTensor Graph::run_counter() {
    if (const ir::Node *existing = program_.find_source("rng.step")) return {this, existing};
    return input("rng.step", {}, DType::i32);
}

SymTensor Graph::iota(int64_t dim, const Shape &shape, DType dtype) {
    const ir::Type type{dtype, shape};
    return {this, program_.make(ir::Op::iota, {}, ir::Attrs{{"dim", dim}}, &type)};
}

void Graph::output(const std::string &name, const SymTensor &value) {
    if (&value.graph() != this) fail("output '{}': the tensor belongs to another graph", name);
    program_.add_output(name, value.node());
}

void Graph::update(const std::string &name, const SymTensor &new_value) {
    auto it = parameters_.find(name);
    if (it == parameters_.end()) fail("update: '{}' is not a parameter of the graph", name);
    if (new_value.dtype() != it->second.dtype() || new_value.shape() != it->second.shape())
        fail("update: '{}' is {}{} but the new value is {}{}", name, dtype_name(it->second.dtype()),
             shape_str(it->second.shape()), dtype_name(new_value.dtype()), shape_str(new_value.shape()));
    for (auto &[n, v] : updates_)
        if (n == name) fail("update: '{}' is already updated by this graph", name);
    updates_.push_back({name, new_value});
}

SymTensor Graph::make(ir::Op op, const std::vector<SymTensor> &inputs, ir::Attrs attrs) {
    std::vector<const ir::Node *> nodes;
    for (const SymTensor &t : inputs) {
        if (&t.graph() != this) fail("{}: an input belongs to another graph", ir::op_name(op));
        nodes.push_back(t.node());
    }
    return {this, program_.make(op, nodes, std::move(attrs))};
}

std::vector<SymTensor> Graph::gradients(const SymTensor &loss, const std::vector<SymTensor> &wrt) {
    if (&loss.graph() != this) fail("gradients: the loss belongs to another graph");
    std::vector<const ir::Node *> nodes;
    for (const SymTensor &w : wrt) {
        if (&w.graph() != this) fail("gradients: a tensor to differentiate by belongs to another graph");
        nodes.push_back(w.node());
    }
    std::vector<SymTensor> result;
    for (const ir::Node *g : ir::gradients(program_, loss.node(), nodes)) result.push_back({this, g});
    return result;
}

std::string Graph::to_string() const { return ir::print(program_); }

ir::Program Graph::program_with_updates() const {
    ir::Program with_updates = ir::clone(program_);
    for (const auto &[name, value] : updates_)
        with_updates.add_output("update:" + name, with_updates.nodes()[static_cast<size_t>(value.node()->id)].get());
    return with_updates;
}

CompiledGraph Graph::compile(const codegen::CompileOptions &options) const {
    // The compiled program carries the state updates as extra outputs.
    CompiledGraph compiled;
    compiled.program_ = program_with_updates();
    compiled.options_ = options;
    compiled.executable_ = codegen::compile(compiled.program_, options);
    compiled.parameters_ = parameters_;
    for (const ir::Node *in : program_.inputs()) {
        const std::string &name = in->attrs.get_str("name");
        if (name == "rng.step") compiled.has_run_counter_ = true;
        else compiled.input_names_.push_back(name);
    }
    for (const std::string &name : compiled.executable_.output_names())
        compiled.updates_.push_back(name.rfind("update:", 0) == 0 ? name.substr(7) : "");
    return compiled;
}

const codegen::Executable &CompiledGraph::executable_for(const std::map<std::string, Tensor> &sources) const {
    // The common leading extent of the given batched inputs, when that is all that differs.
    int64_t batch = -1, compiled_batch = -1;
    for (const ir::Node *in : program_.inputs()) {
        const Shape &want = in->shape();
        const auto given = sources.find(in->attrs.get_str("name"));
        if (want.empty() || given == sources.end()) continue;  // scalars carry no batch; missing: run() says so
        const Shape &got = given->second.shape();
        if (got.size() != want.size() || !std::equal(want.begin() + 1, want.end(), got.begin() + 1)) return executable_;
        if (batch >= 0 && got[0] != batch) return executable_;  // inputs disagree: run() names the one
        batch = got[0];
        compiled_batch = want[0];
    }
    if (batch < 1 || batch == compiled_batch) return executable_;
    const std::lock_guard<std::mutex> lock(rebatched_->mutex);
    auto it = rebatched_->by_batch.find(batch);
    if (it == rebatched_->by_batch.end()) {
        ir::Program program;
        try {
            program = ir::rebatch(program_, batch);
        } catch (const Error &e) {
            fail("run: the graph was compiled for batch {}; batch {} needs it rebatched, which failed: {}", compiled_batch,
                 batch, e.what());
        }
        it = rebatched_->by_batch.emplace(batch, codegen::compile(program, options_)).first;
    }
    return it->second;
}

std::map<std::string, Tensor> CompiledGraph::run(const std::map<std::string, Tensor> &inputs) const {
    std::map<std::string, Tensor> sources = parameters_;
    for (const auto &[name, t] : inputs) {
        if (parameters_.count(name)) fail("run: '{}' is a parameter, not an input", name);
        sources[name] = t;
    }
    if (has_run_counter_ && !inputs.count("rng.step"))
        sources["rng.step"] = Tensor::full({}, static_cast<double>((*run_count_)++ & 0x7fffffff), DType::i32);
    std::vector<Tensor> outs = executable_for(sources).run(sources);
    std::map<std::string, Tensor> result;
    const auto &names = executable_.output_names();
    for (size_t i = 0; i < outs.size(); ++i) {
        if (updates_[i].empty()) result[names[i]] = outs[i];
        else const_cast<Tensor &>(parameters_.at(updates_[i])).copy_from(outs[i]);
    }
    return result;
}

Tensor CompiledGraph::run(const Tensor &input) const {
    if (input_names_.size() != 1)
        fail("run(tensor): the graph has {} inputs; pass them by name", input_names_.size());
    auto outs = run({{input_names_[0], input}});
    if (outs.size() != 1) fail("run(tensor): the graph has {} outputs; read them by name", outs.size());
    return outs.begin()->second;
}

}  // namespace strata
