#include "ir/printer.h"

#include <fmt/format.h>

namespace strata::ir {

std::string print_node(const Node &node) {
    std::string line = fmt::format("%{} = {}(", node.id, node.name());
    for (size_t i = 0; i < node.inputs.size(); ++i)
        line += fmt::format("{}%{}", i ? ", " : "", node.inputs[i]->id);
    line += ')';
    if (!node.attrs.map().empty()) {
        line += " {";
        bool first = true;
        for (const auto &[name, value] : node.attrs.map()) {
            line += fmt::format("{}{}={}", first ? "" : ", ", name, attr_value_str(value));
            first = false;
        }
        line += '}';
    }
    line += " : " + type_str(node.type);
    return line;
}

std::string print(const Program &program) {
    std::string text;
    for (const auto &node : program.nodes()) text += print_node(*node) + '\n';
    for (const Output &out : program.outputs())
        text += fmt::format("output {} = %{}\n", attr_value_str(out.name), out.node->id);
    return text;
}

}  // namespace strata::ir
