// Where each node not stored by its own schedule is computed: stored whole
// (then scheduled elementwise) or inlined into its consumers.

#include "codegen/schedules/schedule.h"

namespace strata::codegen {

using namespace Halide;

void place_remaining_nodes(LowerContext &ctx) {
    if (ctx.autoscheduled()) return;
    // By default stored when it is an output, is read by several consumers,
    // or feeds an op that rereads its input; otherwise inlined into its consumer.
    for (const auto &node : ctx.program.nodes()) {
        const size_t id = static_cast<size_t>(node->id);
        Func &f = ctx.funcs[id];
        if (ctx.stored_funcs.count(f.name())) continue;
        if (node->info().op_class == ir::OpClass::source) continue;
        ctx.current = node.get();
        bool store = ctx.is_output[id] || ctx.consumers[id] >= 2 || ctx.feeds_heavy_op[id];
        if (!ctx.is_output[id] && !ctx.simple()) {
            // Outputs are always stored; for the others the rule decides.
            const NodeSchedule want = requested_schedule(ctx, f, {"compute"});
            if (want.inline_into_consumers) store = !*want.inline_into_consumers;
            if (!store) record_schedule(ctx, f, NodeSchedule().compute_inline());
        }
        if (store) {
            if (!ctx.is_output[id]) record_schedule(ctx, f, NodeSchedule().compute_root());
            schedule_elementwise(f, node->shape(), node->dtype(), ctx);
        }
    }
    ctx.current = nullptr;
}

}  // namespace strata::codegen
