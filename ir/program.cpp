#include "ir/program.h"

#include "ir/printer.h"

#include <strata/error.h>

#include <fmt/format.h>

namespace strata::ir {

std::string type_str(const Type &type) {
    return fmt::format("{}[{}]", dtype_name(type.dtype), fmt::join(type.shape, ","));
}

std::string Node::label() const { return fmt::format("%{} ({})", id, op_name(op)); }

namespace {
size_t node_hash(Op op, const std::vector<const Node *> &inputs, const Attrs &attrs, const Type *type) {
    size_t h = std::hash<int>()(static_cast<int>(op)) * 31 + attrs.hash();
    for (const Node *in : inputs) h = h * 1000003u ^ std::hash<const void *>()(in);
    if (type) {
        h = h * 31 + static_cast<size_t>(type->dtype);
        for (int64_t e : type->shape) h = h * 1000003u ^ std::hash<int64_t>()(e);
    }
    return h;
}

void check_attrs(Op op, const Attrs &attrs) {
    const OpInfo &info = op_info(op);
    for (const AttrSpec &spec : info.attrs) {
        auto it = attrs.map().find(spec.name);
        if (it == attrs.map().end())
            fail("{}: missing attribute '{}' (expected a value of kind {})", info.name, spec.name,
                 attr_kind_name(spec.kind));
        if (attr_kind(it->second) != spec.kind)
            fail("{}: attribute '{}' is {} but must be of kind {}", info.name, spec.name,
                 attr_value_str(it->second), attr_kind_name(spec.kind));
    }
    for (const auto &[name, value] : attrs.map()) {
        bool known = false;
        for (const AttrSpec &spec : info.attrs) known = known || spec.name == name;
        if (!known) {
            std::string names;
            for (const AttrSpec &spec : info.attrs) names += (names.empty() ? "" : ", ") + spec.name;
            fail("{}: unknown attribute '{}' (the op takes: {})", info.name, name,
                 names.empty() ? "no attributes" : names);
        }
    }
}
}  // namespace

const Node *Program::make(Op op, const std::vector<const Node *> &inputs, Attrs attrs,
                          const Type *type) {
    const OpInfo &info = op_info(op);
    const int n = static_cast<int>(inputs.size());
    if (n < info.min_inputs || n > info.max_inputs) {
        if (info.min_inputs == info.max_inputs)
            fail("{}: takes {} input(s), got {}", info.name, info.min_inputs, n);
        fail("{}: takes {} to {} inputs, got {}", info.name, info.min_inputs, info.max_inputs, n);
    }
    for (const Node *in : inputs) {
        STRATA_ASSERT(in != nullptr, "{}: null input", info.name);
        if (!owns(in)) fail("{}: an input node belongs to a different program", info.name);
    }
    check_attrs(op, attrs);

    const bool is_source = info.op_class == OpClass::source;
    if (is_source && !type) fail("{}: a source op needs an explicit type", info.name);
    if (!is_source && type) fail("{}: only source ops take an explicit type", info.name);
    Type result = is_source ? *type : infer_type(op, inputs, attrs);
    if (is_source) {
        shape_numel(result.shape);  // rejects negative extents
        if (op == Op::iota) {
            const int64_t dim = attrs.get_int("dim");
            if (dim < 0 || dim >= result.rank())
                fail("iota: dim {} is out of range for shape {}", dim, shape_str(result.shape));
        }
    }

    const size_t h = node_hash(op, inputs, attrs, is_source ? &result : nullptr);
    auto range = interned_.equal_range(h);
    for (auto it = range.first; it != range.second; ++it) {
        const Node *cand = it->second;
        if (cand->op == op && cand->inputs == inputs && cand->attrs == attrs && cand->type == result)
            return cand;
    }
    auto node = std::make_unique<Node>();
    node->op = op;
    node->inputs = inputs;
    node->attrs = std::move(attrs);
    node->type = std::move(result);
    node->id = static_cast<int>(nodes_.size());
    const Node *raw = node.get();
    nodes_.push_back(std::move(node));
    interned_.emplace(h, raw);
    return raw;
}

const Node *Program::input(const std::string &name, const Type &type) {
    if (find_source(name)) fail("Program: a source named '{}' exists already", name);
    return make(Op::input, {}, Attrs{{"name", name}}, &type);
}

const Node *Program::parameter(const std::string &name, const Type &type) {
    if (find_source(name)) fail("Program: a source named '{}' exists already", name);
    return make(Op::parameter, {}, Attrs{{"name", name}}, &type);
}

const Node *Program::full(double value, const Type &type) {
    return make(Op::full, {}, Attrs{{"value", value}}, &type);
}

void Program::add_output(const std::string &name, const Node *node) {
    if (!owns(node)) fail("Program: output '{}' refers to a node of another program", name);
    if (find_output(name)) fail("Program: an output named '{}' exists already", name);
    outputs_.push_back({name, node});
}

const Node *Program::find_output(const std::string &name) const {
    for (const Output &o : outputs_)
        if (o.name == name) return o.node;
    return nullptr;
}

const Node *Program::find_source(const std::string &name) const {
    for (const auto &n : nodes_)
        if ((n->op == Op::input || n->op == Op::parameter) && n->attrs.get_str("name") == name)
            return n.get();
    return nullptr;
}

bool Program::owns(const Node *node) const {
    return node && node->id >= 0 && node->id < static_cast<int>(nodes_.size()) &&
           nodes_[static_cast<size_t>(node->id)].get() == node;
}

std::vector<const Node *> Program::sources(Op op) const {
    std::vector<const Node *> out;
    for (const auto &n : nodes_)
        if (n->op == op) out.push_back(n.get());
    return out;
}

Program clone(const Program &program) {
    Program copy;
    std::vector<const Node *> mapped;
    for (const auto &node : program.nodes()) {
        std::vector<const Node *> inputs;
        for (const Node *in : node->inputs) inputs.push_back(mapped[static_cast<size_t>(in->id)]);
        const bool is_source = node->info().op_class == OpClass::source;
        mapped.push_back(copy.make(node->op, inputs, node->attrs, is_source ? &node->type : nullptr));
    }
    for (const Output &out : program.outputs()) copy.add_output(out.name, mapped[static_cast<size_t>(out.node->id)]);
    return copy;
}

uint64_t Program::fingerprint() const {
    // FNV-1a over the canonical text: equal programs print equally.
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : print(*this)) h = (h ^ c) * 1099511628211ull;
    return h;
}

}  // namespace strata::ir
