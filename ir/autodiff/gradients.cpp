#include "ir/autodiff/gradients.h"

#include "ir/autodiff/vjp.h"

#include <strata/error.h>

namespace strata::ir {

std::vector<const Node *> gradients(Program &program, const Node *loss, const std::vector<const Node *> &wrt) {
    if (!program.owns(loss)) fail("gradients: the loss node belongs to another program");
    if (!is_float(loss->dtype()) || loss->type.numel() != 1)
        fail("gradients: the loss {} must be a single f32/f64 value, got {}", loss->label(), type_str(loss->type));
    for (const Node *w : wrt) {
        if (!program.owns(w)) fail("gradients: a node to differentiate by belongs to another program");
        if (!is_float(w->dtype()))
            fail("gradients: cannot differentiate with respect to {} of type {} (only f32/f64)", w->label(),
                 type_str(w->type));
    }
    const size_t n = static_cast<size_t>(loss->id) + 1;
    // Which nodes carry a differentiable dependence on some wrt node, and
    // which depend on one at all (to name the op that cut the path).
    std::vector<bool> wanted(n, false), depends(n, false);
    for (const Node *w : wrt)
        if (static_cast<size_t>(w->id) < n) wanted[static_cast<size_t>(w->id)] = depends[static_cast<size_t>(w->id)] = true;
    const auto &nodes = program.nodes();
    for (size_t id = 0; id < n; ++id) {
        const Node &node = *nodes[id];
        bool any_wanted = false, any_depends = false;
        for (const Node *in : node.inputs) {
            any_wanted = any_wanted || wanted[static_cast<size_t>(in->id)];
            any_depends = any_depends || depends[static_cast<size_t>(in->id)];
        }
        if (!node.inputs.empty()) {
            depends[id] = any_depends;
            wanted[id] = any_wanted && is_differentiable(node);
        }
    }
    if (depends[static_cast<size_t>(loss->id)] && !wanted[static_cast<size_t>(loss->id)]) {
        // Only ops the loss reads: another loss built in the same program may
        // cut its own path elsewhere (e.g. through a comparison).
        std::vector<bool> feeds_loss(n, false);
        feeds_loss[static_cast<size_t>(loss->id)] = true;
        for (size_t id = n; id-- > 0;)
            if (feeds_loss[id])
                for (const Node *in : nodes[id]->inputs) feeds_loss[static_cast<size_t>(in->id)] = true;
        for (size_t id = 0; id < n; ++id) {
            const Node &node = *nodes[id];
            bool fed = false;
            for (const Node *in : node.inputs) fed = fed || wanted[static_cast<size_t>(in->id)];
            if (fed && !wanted[id] && depends[id] && feeds_loss[id])
                fail("gradients: the loss {} depends on the requested inputs only through {}, which is not "
                     "differentiable",
                     loss->label(), node.label());
        }
    }

    // Reverse sweep in id order (ids are a topological order).
    std::vector<const Node *> grad(n, nullptr);
    Builder b(program);
    grad[static_cast<size_t>(loss->id)] = program.full(1.0, loss->type);
    for (size_t id = n; id-- > 0;) {
        const Node &node = *nodes[id];
        const Node *g = grad[id];
        if (!g || !wanted[id] || node.inputs.empty()) continue;
        const std::vector<const Node *> input_grads = vjp(b, node, g);
        STRATA_ASSERT(input_grads.size() == node.inputs.size(), "{}: vjp returned {} gradients for {} inputs",
                      node.label(), input_grads.size(), node.inputs.size());
        for (size_t i = 0; i < node.inputs.size(); ++i) {
            const size_t in = static_cast<size_t>(node.inputs[i]->id);
            if (!input_grads[i] || !wanted[in]) continue;
            STRATA_ASSERT(input_grads[i]->type == node.inputs[i]->type, "{}: gradient of input {} has type {}, not {}",
                          node.label(), i, type_str(input_grads[i]->type), type_str(node.inputs[i]->type));
            grad[in] = grad[in] ? b.add(grad[in], input_grads[i]) : input_grads[i];
        }
    }
    std::vector<const Node *> result;
    for (const Node *w : wrt) {
        const size_t id = static_cast<size_t>(w->id);
        result.push_back(id < n && grad[id] ? grad[id] : program.full(0.0, w->type));
    }
    return result;
}

Program differentiate(const Program &program, const std::string &loss, const std::vector<std::string> &wrt) {
    Program out = clone(program);
    const Node *loss_node = out.find_output(loss);
    if (!loss_node) fail("differentiate: the program has no output named '{}'", loss);
    std::vector<const Node *> sources;
    for (const std::string &name : wrt) {
        const Node *s = out.find_source(name);
        if (!s) fail("differentiate: the program has no input or parameter named '{}'", name);
        sources.push_back(s);
    }
    const std::vector<const Node *> grads = gradients(out, loss_node, sources);
    for (size_t i = 0; i < wrt.size(); ++i) out.add_output("grad:" + wrt[i], grads[i]);
    return out;
}

}  // namespace strata::ir
