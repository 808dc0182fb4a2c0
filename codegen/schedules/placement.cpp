// Where each node not stored by its own schedule is computed: stored whole
// (then scheduled elementwise) or inlined into its consumers.

#include "codegen/plan/partition.h"
#include "codegen/schedules/schedule.h"

#include <cstdint>
#include <vector>

namespace strata::codegen {

using namespace Halide;

void place_remaining_nodes(LowerContext &ctx) {
    if (ctx.autoscheduled()) return;
    // By default stored when it is an output, is read by several consumers,
    // or feeds an op that rereads its input; otherwise inlined into its consumer.
    // Halide inlines one Func at a time and simplifies the grown expression each
    // time, so an inlined chain costs time quadratic in its length (2,000
    // pointwise ops took minutes): past kMaxInlinedFuncs Funcs in one
    // expression, the node is stored.
    std::vector<int64_t> inlined_funcs(ctx.program.nodes().size(), 0);  // Funcs inlined into each node's expression
    for (const auto &node : ctx.program.nodes()) {
        const size_t id = static_cast<size_t>(node->id);
        Func &f = ctx.funcs[id];
        if (ctx.stored_funcs.count(f.name())) continue;
        if (node->info().op_class == ir::OpClass::source) continue;
        ctx.current = node.get();
        bool store = ctx.is_output[id] || ctx.consumers[id] >= 2 || ctx.feeds_heavy_op[id];
        bool inline_requested = false;
        if (!ctx.is_output[id] && !ctx.simple()) {
            // Outputs are always stored; for the others the rule decides.
            const NodeSchedule want = requested_schedule(ctx, f, {"compute"});
            if (want.inline_into_consumers) store = !*want.inline_into_consumers;
            inline_requested = want.inline_into_consumers.value_or(false);
        }
        int64_t expression_funcs = 1;
        for (const ir::Node *in : node->inputs) expression_funcs += inlined_funcs[static_cast<size_t>(in->id)];
        if (!store && !inline_requested && expression_funcs > kMaxInlinedFuncs) store = true;
        inlined_funcs[id] = store ? 0 : expression_funcs;
        if (!store && !ctx.is_output[id] && !ctx.simple()) record_schedule(ctx, f, NodeSchedule().compute_inline());
        if (store) {
            if (!ctx.is_output[id]) record_schedule(ctx, f, NodeSchedule().compute_root());
            schedule_elementwise(f, node->shape(), node->dtype(), ctx);
        }
    }
    ctx.current = nullptr;
}

}  // namespace strata::codegen
