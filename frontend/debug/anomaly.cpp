#include "frontend/debug/anomaly.h"

#include <cmath>
#include <vector>

namespace strata {

namespace {

/// The row-major index of the first non-finite element of `t`, or -1.
int64_t first_non_finite(const Tensor &t) {
    if (!is_float(t.dtype())) return -1;
    const Tensor c = t.contiguous();
    const int64_t n = c.numel();
    for (int64_t i = 0; i < n; ++i)
        if (!std::isfinite(c.get_flat(i))) return i;
    return -1;
}

NonFiniteValue describe(const ir::Node &node, const Tensor &value, int64_t element, bool is_source) {
    NonFiniteValue v;
    v.op = ir::op_name(node.op);
    v.type = ir::type_str(node.type);
    v.element = element;
    v.value = value.contiguous().get_flat(element);
    if (is_source) {
        v.label = fmt::format("{} '{}'", v.op, node.attrs.get_str("name"));
        v.message = fmt::format("{} ({}) holds {} at element {}", v.label, v.type, v.value, element);
    } else {
        v.label = node.label();
        v.message = fmt::format("{} produced {} at element {} of its {} output from finite inputs (the first "
                                "op to make a non-finite value)",
                                v.label, v.value, element, v.type);
    }
    return v;
}

}  // namespace

std::optional<NonFiniteValue> find_first_non_finite(const ir::Program &program,
                                                    const std::map<std::string, Tensor> &sources,
                                                    codegen::CompileOptions options) {
    // Inputs and parameters are checked where they are; every other float node becomes an output.
    for (const ir::Node *source : program.inputs())
        if (auto it = sources.find(source->attrs.get_str("name")); it != sources.end())
            if (const int64_t at = first_non_finite(it->second); at >= 0)
                return describe(*source, it->second, at, true);
    for (const ir::Node *source : program.parameters())
        if (auto it = sources.find(source->attrs.get_str("name")); it != sources.end())
            if (const int64_t at = first_non_finite(it->second); at >= 0)
                return describe(*source, it->second, at, true);

    ir::Program everything = ir::clone(program);
    std::vector<const ir::Node *> watched;
    for (const auto &node : everything.nodes()) {
        if (node->op == ir::Op::input || node->op == ir::Op::parameter || !is_float(node->dtype())) continue;
        everything.add_output(fmt::format("anomaly:{}", node->id), node.get());
        watched.push_back(node.get());
    }
    if (watched.empty()) return std::nullopt;
    options.optimize = false;  // keep every node as it is, so ids and ops match the user's program
    const codegen::Executable executable = codegen::compile(everything, options);
    const std::vector<Tensor> values = executable.run(sources);
    const std::vector<std::string> &names = executable.output_names();

    std::map<int64_t, const Tensor *> by_id;  // node id -> its value
    for (size_t i = 0; i < names.size(); ++i)
        if (names[i].rfind("anomaly:", 0) == 0) by_id[std::stoll(names[i].substr(8))] = &values[i];
    std::map<int64_t, bool> finite;  // node id -> all elements finite (sources and non-float: true)
    for (const ir::Node *node : watched) {
        const auto it = by_id.find(node->id);
        STRATA_ASSERT(it != by_id.end(), "anomaly: node {} has no value", node->label());
        const int64_t at = first_non_finite(*it->second);
        finite[node->id] = at < 0;
        if (at < 0) continue;
        bool inputs_finite = true;
        for (const ir::Node *in : node->inputs)
            if (auto f = finite.find(in->id); f != finite.end()) inputs_finite = inputs_finite && f->second;
        if (inputs_finite) return describe(*node, *it->second, at, false);
    }
    return std::nullopt;
}

std::optional<NonFiniteValue> find_first_non_finite(const Graph &graph, const std::map<std::string, Tensor> &inputs,
                                                    codegen::CompileOptions options) {
    std::map<std::string, Tensor> sources = graph.parameter_values();
    for (const auto &[name, t] : inputs) sources[name] = t;
    return find_first_non_finite(graph.program(), sources, options);
}

}  // namespace strata
