#include "ir/passes/rebatch.h"

#include "ir/passes/rebuild.h"

#include <strata/error.h>

namespace strata::ir {

Program rebatch(const Program &program, int64_t batch) {
    if (batch <= 0) fail("rebatch: the batch size must be positive, got {}", batch);
    int64_t old = -1;
    for (const Node *in : program.inputs()) {
        if (in->shape().empty()) continue;  // scalars (e.g. a step counter) carry no batch
        if (old < 0) old = in->shape()[0];
        else if (in->shape()[0] != old)
            fail("rebatch: inputs disagree on the batch size ({} vs {} for '{}')", old, in->shape()[0],
                 in->attrs.get_str("name"));
    }
    if (old < 0) fail("rebatch: the program has no batched input");
    return rebuild(program, [&](Rebuilder &r, const Node &node) -> const Node * {
        if (node.op == Op::input && !node.shape().empty()) {
            Type type = node.type;
            type.shape[0] = batch;
            return r.target().make(Op::input, {}, node.attrs, &type);
        }
        if ((node.op == Op::reshape || node.op == Op::expand) && !node.shape().empty()) {
            const Ints &shape = node.attrs.get_ints("shape");
            const bool batched_in = !node.input(0)->shape().empty() && node.input(0)->shape()[0] == old;
            if (batched_in && shape[0] != old)
                fail("rebatch: {} reshapes the batch dim ({} -> {}); cannot change the batch size", node.label(),
                     old, shape[0]);
            if (batched_in) {
                Attrs attrs = node.attrs;
                Ints new_shape = shape;
                new_shape[0] = batch;
                attrs.set("shape", new_shape);
                return r.make(node.op, r.mapped_inputs(node), attrs);
            }
        }
        return r.copy(node);
    });
}

}  // namespace strata::ir
