#include "frontend/onnx/onnx_converter.h"

#include <algorithm>

namespace strata::onnx {

namespace {

using AP = ::onnx::AttributeProto;

const char *attr_type_name(int type) {
    switch (type) {
    case AP::FLOAT: return "FLOAT";
    case AP::INT: return "INT";
    case AP::STRING: return "STRING";
    case AP::TENSOR: return "TENSOR";
    case AP::GRAPH: return "GRAPH";
    case AP::FLOATS: return "FLOATS";
    case AP::INTS: return "INTS";
    case AP::STRINGS: return "STRINGS";
    default: return "another type";
    }
}

bool all_equal(const HostTensor &t) {
    for (int64_t i = 1; i < t.numel(); ++i)
        if (t.value(i) != t.value(0)) return false;
    return true;
}

bool is_default_domain(const std::string &domain) { return domain.empty() || domain == "ai.onnx"; }

}  // namespace

// ---- NodeContext ----

Graph &NodeContext::graph() const { return converter_.graph(); }

std::string NodeContext::where() const {
    return fmt::format("node '{}' ({})", node_.name().empty() ? node_.output_size() ? node_.output(0) : "" : node_.name(),
                       node_.op_type());
}

const Value &NodeContext::input(int i) const {
    if (!has_input(i)) error("input {} is missing", i);
    return converter_.value(node_.input(i), where());
}

SymTensor NodeContext::tensor(int i) const {
    if (!has_input(i)) error("input {} is missing", i);
    return converter_.materialize(node_.input(i), where());
}

const HostTensor &NodeContext::constant(int i, const std::string &what) const {
    // An initializer's values are known at import too (a float one also stays a parameter).
    const Value &v = input(i);
    if (!v.host)
        unsupported("input {} ('{}', the {}) is computed at run time; Strata needs it known at import (a constant "
                    "or an initializer)",
                    i, node_.input(i), what);
    return *v.host;
}

const AP *NodeContext::attr(const std::string &name) const {
    for (const AP &a : node_.attribute())
        if (a.name() == name) return &a;
    return nullptr;
}

int64_t NodeContext::attr_int(const std::string &name, int64_t fallback) const {
    const AP *a = attr(name);
    if (!a) return fallback;
    if (a->type() != AP::INT) error("attribute '{}' should be an INT, is {}", name, attr_type_name(a->type()));
    return a->i();
}

double NodeContext::attr_float(const std::string &name, double fallback) const {
    const AP *a = attr(name);
    if (!a) return fallback;
    if (a->type() != AP::FLOAT) error("attribute '{}' should be a FLOAT, is {}", name, attr_type_name(a->type()));
    return a->f();
}

std::string NodeContext::attr_string(const std::string &name, const std::string &fallback) const {
    const AP *a = attr(name);
    if (!a) return fallback;
    if (a->type() != AP::STRING) error("attribute '{}' should be a STRING, is {}", name, attr_type_name(a->type()));
    return a->s();
}

std::vector<int64_t> NodeContext::attr_ints(const std::string &name, const std::vector<int64_t> &fallback) const {
    const AP *a = attr(name);
    if (!a) return fallback;
    if (a->type() != AP::INTS) error("attribute '{}' should be INTS, is {}", name, attr_type_name(a->type()));
    return {a->ints().begin(), a->ints().end()};
}

std::vector<double> NodeContext::attr_floats(const std::string &name) const {
    const AP *a = attr(name);
    if (!a) return {};
    if (a->type() != AP::FLOATS) error("attribute '{}' should be FLOATS, is {}", name, attr_type_name(a->type()));
    return {a->floats().begin(), a->floats().end()};
}

void NodeContext::check_attrs(std::initializer_list<const char *> known) const {
    for (const AP &a : node_.attribute()) {
        if (std::none_of(known.begin(), known.end(), [&](const char *k) { return a.name() == k; }))
            unsupported("attribute '{}' is not supported (Strata imports {} with: {})", a.name(), node_.op_type(),
                        known.size() ? fmt::format("{}", fmt::join(known, ", ")) : std::string("no attributes"));
    }
}

void NodeContext::refuse_output(int i, const std::string &what) const {
    if (i < node_.output_size() && !node_.output(i).empty() && converter_.is_used(node_.output(i)))
        unsupported("output {} ('{}', the {}) is used, which Strata does not support", i, node_.output(i), what);
}

void NodeContext::set_output(int i, const SymTensor &value) const {
    if (i >= node_.output_size() || node_.output(i).empty()) return;
    converter_.set_value(node_.output(i), Value{value, nullptr, false});
}

void NodeContext::set_output(int i, HostTensor value) const {
    if (i >= node_.output_size() || node_.output(i).empty()) return;
    converter_.set_value(node_.output(i), Value{{}, std::make_shared<const HostTensor>(std::move(value)), false});
}

int64_t normalize_axis(const NodeContext &ctx, int64_t axis, int64_t rank, const char *what) {
    if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
        ctx.error("{} {} is out of range for a tensor of rank {} (expected [{}, {}])", what, axis, rank, -rank,
                  rank - 1);
    return axis < 0 ? axis + rank : axis;
}

// ---- the op table ----

const OpTable &op_table() {
    static const OpTable table = [] {
        OpTable t;
        register_math_ops(t);
        register_nn_ops(t);
        register_shape_ops(t);
        register_resize_ops(t);
        return t;
    }();
    return table;
}

std::set<std::string> statistics_initializers(const ::onnx::GraphProto &graph) {
    std::set<std::string> out;
    for (const auto &node : graph.node())
        if (node.op_type() == "BatchNormalization")
            for (int i = 3; i < std::min(node.input_size(), 5); ++i) out.insert(node.input(i));
    return out;
}

// ---- Converter ----

Converter::Converter(const ::onnx::ModelProto &model, Graph &graph, TensorSources sources,
                     std::map<std::string, HostTensor> fixed_inputs)
    : model_(model), graph_(graph), sources_(std::move(sources)), opset_(default_opset(model)),
      fixed_inputs_(std::move(fixed_inputs)) {}

const Value &Converter::value(const std::string &name, const std::string &where) const {
    auto it = values_.find(name);
    if (it == values_.end())
        fail("{}: reads '{}', which no earlier node, input or initializer defines (the graph must be sorted)", where,
             name);
    return it->second;
}

SymTensor Converter::materialize(const std::string &name, const std::string &where) {
    auto it = values_.find(name);
    if (it == values_.end()) value(name, where);  // throws
    Value &v = it->second;
    if (v.sym.defined()) return v.sym;
    STRATA_ASSERT(v.host, "value '{}' has neither a graph node nor elements", name);
    if (v.trainable) return v.sym = sources_.initializer(name);
    HostTensor h = *v.host;
    if (h.elem_type == ::onnx::TensorProto::INT64) {
        // Strata computes integers in i32: a constant whose values fit is one.
        for (int64_t x : h.ints)
            if (x < INT32_MIN || x > INT32_MAX)
                throw Unsupported(fmt::format("{}: the INT64 constant '{}' holds {}, beyond Strata's i32", where, name, x));
        h.elem_type = ::onnx::TensorProto::INT32;
    }
    const DType dtype = strata_dtype(h.elem_type, where + ": constant '" + name + "'");
    if (h.numel() > 0 && all_equal(h)) return v.sym = graph_.constant(h.value(0), h.shape, dtype);
    return v.sym = sources_.constant(name, h);
}

std::map<std::string, SymTensor> Converter::run(const std::map<std::string, SymTensor> &inputs) {
    const ::onnx::GraphProto &g = model_.graph();
    values_.clear();
    used_.clear();
    for (const auto &node : g.node())
        for (const auto &in : node.input()) used_.insert(in);
    for (const auto &out : g.output()) used_.insert(out.name());

    for (const auto &init : g.initializer()) {
        auto host = std::make_shared<const HostTensor>(host_tensor(init, "initializer '" + init.name() + "'"));
        const bool is_float = host->is_float();
        values_[init.name()] = Value{{}, std::move(host), is_float};
    }
    for (const auto &in : g.input()) {
        auto given = inputs.find(in.name());
        auto fixed = fixed_inputs_.find(in.name());
        if (fixed != fixed_inputs_.end()) {
            values_[in.name()] = Value{{}, std::make_shared<const HostTensor>(fixed->second), false};
        } else if (given != inputs.end()) {
            values_[in.name()] = Value{given->second, nullptr, false};
        } else if (!values_.count(in.name())) {
            fail("ONNX graph input '{}' was not given", in.name());
        }
    }
    const OpTable &table = op_table();
    for (const auto &node : g.node()) {
        NodeContext ctx(*this, node, opset_);
        if (!is_default_domain(node.domain()))
            ctx.unsupported("operator domain '{}' is not supported (only the default ONNX domain)", node.domain());
        bool all_constant = true;
        for (int i = 0; i < node.input_size(); ++i)
            if (ctx.has_input(i) && !ctx.is_constant(i)) all_constant = false;
        auto host_op = table.host.find(node.op_type());
        auto graph_op = table.graph.find(node.op_type());
        if (host_op != table.host.end() && (all_constant || graph_op == table.graph.end())) {
            host_op->second(ctx);
        } else if (graph_op != table.graph.end()) {
            graph_op->second(ctx);
        } else {
            ctx.unsupported("operator {} is not supported by Strata's ONNX import", node.op_type());
        }
        for (int i = 0; i < node.output_size(); ++i)
            if (!node.output(i).empty() && used_.count(node.output(i)) && !values_.count(node.output(i)))
                ctx.unsupported("output {} ('{}') is not produced by Strata's import of {}", i, node.output(i),
                                node.op_type());
    }
    std::map<std::string, SymTensor> outputs;
    for (const auto &out : g.output()) outputs[out.name()] = materialize(out.name(), "graph output");
    return outputs;
}

}  // namespace strata::onnx
