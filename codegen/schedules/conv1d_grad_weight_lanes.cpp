// The schedule of the lanes form of conv1d_grad_weight
// (lower/conv1d_grad_weight_lanes.cpp): a register tile of channel_tile output
// channels x every tap, one vector of positions per accumulator, inside loops
// over (share of the images: a thread, image group, output channel tile, input
// channel); dy and x are staged per image group, in cache.

#include "codegen/schedules/conv1d_forms.h"

namespace strata::codegen {

using namespace Halide;

void schedule_conv1d_grad_weight_lanes_cpu(const Conv1dGradWeightLanesStages &st, const LowerContext &ctx) {
    Func f = st.out, acc = st.acc, part = st.part, tile = st.tile, dy = st.dy, x = st.x;
    const RDom &r = st.positions, &rg = st.groups;
    steer_rules_at(ctx, f);
    ctx.stored_funcs.insert(f.name());
    f.compute_root();
    acc.compute_root();

    Var coo("coo"), coi("coi");
    part.compute_root().vectorize(st.l);
    Stage update = part.update();
    // co is rounded up to whole tiles: part is internal (its allocation covers them) and dy reads zeros there.
    update.split(st.co, coo, coi, static_cast<int>(st.channel_tile), TailStrategy::RoundUp)
        .reorder(st.l, st.k, coi, st.ci, coo, rg, st.share)
        .vectorize(st.l)
        .unroll(st.k)
        .unroll(coi);
    if (st.shares > 1) update.parallel(st.share);

    // One register tile per (group, channel tile, input channel), summed over the group's vectors and images.
    tile.compute_at(part, st.ci).vectorize(st.l).unroll(st.k).unroll(st.co);
    tile.update().reorder(st.l, st.k, st.co, r.x, r.y).vectorize(st.l).unroll(st.k).unroll(st.co);

    // The group's dy and input, copied once per group (in cache), with zeros past the ends.
    dy.compute_at(part, rg).vectorize(dy.args()[0], st.lanes, TailStrategy::GuardWithIf);
    x.compute_at(part, rg).vectorize(x.args()[0], st.lanes, TailStrategy::GuardWithIf);

    record_schedule(ctx, f, NodeSchedule().vectorize(st.lanes).tile(st.channel_tile, st.taps)
                                .parallel(st.shares > 1));
}

}  // namespace strata::codegen
