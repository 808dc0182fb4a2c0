#include "ir/passes/rebuild.h"

#include <strata/error.h>

namespace strata::ir {

Rebuilder::Rebuilder(const Program &source) : source_(source), mapping_(source.nodes().size(), nullptr) {}

const Node *Rebuilder::mapped(const Node *old) const {
    STRATA_ASSERT(source_.owns(old), "rebuild: {} is not a node of the source program", old->label());
    const Node *node = mapping_[static_cast<size_t>(old->id)];
    STRATA_ASSERT(node != nullptr, "rebuild: {} was dropped or not visited yet but is still used",
                  old->label());
    return node;
}

std::vector<const Node *> Rebuilder::mapped_inputs(const Node &old) const {
    std::vector<const Node *> inputs;
    inputs.reserve(old.inputs.size());
    for (const Node *in : old.inputs) inputs.push_back(mapped(in));
    return inputs;
}

const Node *Rebuilder::copy(const Node &old) {
    const bool is_source = old.info().op_class == OpClass::source;
    return target_.make(old.op, mapped_inputs(old), old.attrs, is_source ? &old.type : nullptr);
}

const Node *Rebuilder::make(Op op, const std::vector<const Node *> &inputs, Attrs attrs) {
    return target_.make(op, inputs, std::move(attrs));
}

void Rebuilder::set_mapping(const Node &old, const Node *replacement) {
    STRATA_ASSERT(replacement == nullptr || target_.owns(replacement),
                  "rebuild: the replacement of {} is not a node of the new program", old.label());
    mapping_[static_cast<size_t>(old.id)] = replacement;
}

Program Rebuilder::finish() {
    for (const Output &out : source_.outputs()) target_.add_output(out.name, mapped(out.node));
    return std::move(target_);
}

Program rebuild(const Program &source, const NodeRewrite &rewrite) {
    Rebuilder rebuilder(source);
    for (const auto &node : source.nodes()) rebuilder.set_mapping(*node, rewrite(rebuilder, *node));
    return rebuilder.finish();
}

}  // namespace strata::ir
