#include "ir/passes/dead_code_elimination.h"

#include "ir/passes/rebuild.h"

#include <vector>

namespace strata::ir {

Program dead_code_elimination(const Program &program) {
    const auto &nodes = program.nodes();
    std::vector<bool> live(nodes.size(), false);
    for (const Output &out : program.outputs()) live[static_cast<size_t>(out.node->id)] = true;
    // Inputs come before their users, so one backward sweep marks everything live.
    for (size_t i = nodes.size(); i-- > 0;) {
        const Node &node = *nodes[i];
        if (node.op == Op::input || node.op == Op::parameter) live[i] = true;
        if (!live[i]) continue;
        for (const Node *in : node.inputs) live[static_cast<size_t>(in->id)] = true;
    }
    return rebuild(program, [&live](Rebuilder &b, const Node &old) -> const Node * {
        return live[static_cast<size_t>(old.id)] ? b.copy(old) : nullptr;
    });
}

}  // namespace strata::ir
