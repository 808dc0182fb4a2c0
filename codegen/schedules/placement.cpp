// Where each node not stored by its own schedule is computed: stored whole
// (then scheduled elementwise) or inlined into its consumers.

#include "codegen/plan/partition.h"
#include "codegen/schedules/schedule.h"

#include <cstdint>
#include <vector>

namespace strata::codegen {

using namespace Halide;

namespace {

/// Schedules the stored node `node` as the epilogue of the convs fused into
/// it, if every node between each conv and it was inlined as planned (a long
/// expression may have been cut by a stored node); false if none is fused.
bool schedule_as_epilogue(LowerContext &ctx, const ir::Node &node, const std::vector<bool> &stored) {
    auto it = ctx.nested_tiles.find(node.id);
    if (it == ctx.nested_tiles.end()) return false;
    for (const auto &conv : it->second) {
        const auto chain = epilogue_chain(ctx, *ctx.program.nodes()[static_cast<size_t>(conv.conv)]);
        if (chain.empty() || chain.back() != &node) return false;
        for (size_t i = 0; i + 1 < chain.size(); ++i)
            if (stored[static_cast<size_t>(chain[i]->id)]) return false;
    }
    schedule_conv_epilogue(ctx.funcs[static_cast<size_t>(node.id)], node.shape(), node.dtype(), it->second, ctx);
    ctx.nested_tiles.erase(it);
    return true;
}

}  // namespace

void place_remaining_nodes(LowerContext &ctx) {
    if (ctx.autoscheduled()) return;
    // By default stored when it is an output, is read by several consumers,
    // or feeds an op that rereads its input; otherwise inlined into its consumer.
    // Halide inlines one Func at a time and simplifies the grown expression each
    // time, so an inlined chain costs time quadratic in its length (2,000
    // pointwise ops took minutes): past kMaxInlinedFuncs Funcs in one
    // expression, the node is stored.
    std::vector<int64_t> inlined_funcs(ctx.program.nodes().size(), 0);  // Funcs inlined into each node's expression
    std::vector<bool> stored(ctx.program.nodes().size(), false);         // by this placement
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
            if (!schedule_as_epilogue(ctx, *node, stored)) schedule_elementwise(f, node->shape(), node->dtype(), ctx);
        }
        stored[id] = store;
    }
    ctx.current = nullptr;
    // A conv whose epilogue was not placed as planned: its tiles stored whole
    // (serially, as scheduled to run nested; correct if slow).
    for (const auto &[node, convs] : ctx.nested_tiles)
        for (const auto &conv : convs) Func(conv.tiles).compute_root();
    ctx.nested_tiles.clear();
}

}  // namespace strata::codegen
