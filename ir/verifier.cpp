#include "ir/verifier.h"

#include <strata/error.h>

#include <fmt/format.h>

#include <set>
#include <string>

namespace strata::ir {

namespace {

void verify_inputs(const Program &program, const Node &node, size_t position) {
    if (node.id != static_cast<int>(position))
        fail("verify: {}: stored id {} but the node is at position {}", node.label(), node.id, position);
    const OpInfo &info = node.info();
    const int n = static_cast<int>(node.inputs.size());
    if (n < info.min_inputs || n > info.max_inputs) {
        const std::string expected = info.min_inputs == info.max_inputs
                                         ? fmt::format("{}", info.min_inputs)
                                         : fmt::format("{} to {}", info.min_inputs, info.max_inputs);
        fail("verify: {}: has {} input(s), the op takes {}", node.label(), n, expected);
    }
    for (size_t i = 0; i < node.inputs.size(); ++i) {
        const Node *in = node.inputs[i];
        if (!program.owns(in)) fail("verify: {}: input {} does not belong to this program", node.label(), i);
        if (in->id >= node.id)
            fail("verify: {}: input {} is {}, which does not come before it (nodes must be in "
                 "topological order)",
                 node.label(), i, in->label());
    }
}

void verify_attrs(const Node &node) {
    const OpInfo &info = node.info();
    for (const AttrSpec &spec : info.attrs) {
        auto it = node.attrs.map().find(spec.name);
        if (it == node.attrs.map().end())
            fail("verify: {}: missing attribute '{}' of kind {}", node.label(), spec.name,
                 attr_kind_name(spec.kind));
        if (attr_kind(it->second) != spec.kind)
            fail("verify: {}: attribute '{}' is {} but must be of kind {}", node.label(), spec.name,
                 attr_value_str(it->second), attr_kind_name(spec.kind));
    }
    for (const auto &entry : node.attrs.map()) {
        bool known = false;
        for (const AttrSpec &spec : info.attrs) known = known || spec.name == entry.first;
        if (!known) fail("verify: {}: unknown attribute '{}'", node.label(), entry.first);
    }
}

void verify_type(const Node &node) {
    if (node.info().op_class == OpClass::source) {
        for (int64_t extent : node.shape())
            if (extent < 0)
                fail("verify: {}: type {} has a negative extent", node.label(), type_str(node.type));
        if (node.op == Op::iota) {
            const int64_t dim = node.attrs.get_int("dim");
            if (dim < 0 || dim >= node.type.rank())
                fail("verify: {}: dim {} is out of range for type {}", node.label(), dim,
                     type_str(node.type));
        }
        return;
    }
    Type inferred;
    try {
        inferred = infer_type(node.op, node.inputs, node.attrs);
    } catch (const Error &e) {
        fail("verify: {}: {}", node.label(), e.what());
    }
    if (inferred != node.type)
        fail("verify: {}: stored type {} but its inputs give {}", node.label(), type_str(node.type),
             type_str(inferred));
}

}  // namespace

void verify(const Program &program) {
    std::set<std::string> source_names;
    const auto &nodes = program.nodes();
    for (size_t i = 0; i < nodes.size(); ++i) {
        const Node &node = *nodes[i];
        verify_inputs(program, node, i);
        verify_attrs(node);
        verify_type(node);
        if (node.op == Op::input || node.op == Op::parameter) {
            const std::string &name = node.attrs.get_str("name");
            if (!source_names.insert(name).second)
                fail("verify: {}: another input or parameter is named \"{}\" already", node.label(), name);
        }
    }
    std::set<std::string> output_names;
    for (const Output &out : program.outputs()) {
        if (out.name.empty()) fail("verify: an output has an empty name");
        if (!output_names.insert(out.name).second) fail("verify: two outputs are named \"{}\"", out.name);
        if (!program.owns(out.node))
            fail("verify: output \"{}\" refers to a node of another program", out.name);
    }
}

}  // namespace strata::ir
