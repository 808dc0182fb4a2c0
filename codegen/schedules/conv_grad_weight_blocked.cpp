// The schedule of the blocked conv weight gradient
// (lower/conv_grad_weight_blocked.cpp): a register tile of output-channel
// vectors by kernel taps per (input channel, block, image), the block's
// inputs staged in L1, threads over channel blocks.

#include "codegen/schedules/forms.h"

namespace strata::codegen {

using namespace Halide;

namespace {

/// Most accumulators a register tile may hold before LLVM spills (HALIDE-NOTES).
constexpr int64_t kMaxAccumulators = 24;

}  // namespace

void schedule_conv_grad_weight_blocked_cpu(const ConvGradWeightBlockedStages &st, const LowerContext &ctx) {
    Func f = st.out, dwt = st.acc, blk = st.blk, dyt = st.dyt, x = st.x;
    const Var &co = st.co, &ci = st.ci, &b = st.b, &n = st.n;
    const std::vector<Var> &k = st.taps;
    const RDom &rpos = st.positions, &rbn = st.blocks;
    const size_t s = st.taps.size();
    const int vec = ctx.vector_width(st.dtype);
    const Shape &ws = st.weight_shape;
    steer_rules_at(ctx, dwt);

    // Register tile: `lanes` channels (1 or 2 vectors) x the innermost taps,
    // and the outer taps too when they fit.
    const int64_t taps_x = ws.back(), taps_outer = s == 2 ? ws[2] : 1;
    const int co_vectors = st.channels_out >= 2 * vec && 2 * taps_x * taps_outer <= kMaxAccumulators ? 2 : 1;
    const int lanes = co_vectors * vec;
    const bool unroll_outer_taps = co_vectors * taps_x * taps_outer <= kMaxAccumulators;
    const bool unroll_x_taps = co_vectors * taps_x <= kMaxAccumulators;

    // Per (channel block, image), in cache: computing it whole sent 2 x |dY|
    // through memory (1.6 ms of a 9 ms conv1d fwd+bwd).
    dyt.compute_at(dwt, rbn.y).vectorize(st.dyt_vars.back(), vec, TailStrategy::GuardWithIf);
    ctx.stored_funcs.insert(f.name());
    f.compute_root();
    dwt.compute_root();
    Var coo("coo"), coi("coi");
    Stage update = dwt.update();
    update.split(co, coo, coi, lanes, TailStrategy::GuardWithIf);
    std::vector<VarOrRVar> order = {coi};
    for (size_t i = s; i-- > 0;) order.push_back(k[i]);
    // Threads take channel blocks; with fewer blocks than threads (LeNet-5's
    // conv2: one block of 16), they take (input channel, block) pairs instead,
    // each transposing its images' dY again (a small copy, in cache).
    const int64_t co_blocks = (st.channels_out + lanes - 1) / lanes;
    const bool by_input_channel = co_blocks < ctx.parallelism() && st.channels_in > 1;
    if (!by_input_channel) order.push_back(ci);
    order.push_back(rbn.x);
    order.push_back(rbn.y);
    if (by_input_channel) order.push_back(ci);
    order.push_back(coo);
    update.reorder(order).vectorize(coi, vec);
    if (by_input_channel) {
        Var task("task");
        update.fuse(ci, coo, task).parallel(task);
    } else {
        update.parallel(coo);
    }
    dwt.vectorize(co, vec, TailStrategy::GuardWithIf);

    blk.compute_at(dwt, rbn.x);  // one (channel block, ci, block, image) at a time
    x.compute_at(dwt, rbn.x).vectorize(st.x_vars[0], vec, TailStrategy::GuardWithIf);
    blk.vectorize(co, vec, TailStrategy::GuardWithIf);
    Stage bu = blk.update();
    Var bco("bco"), bci("bci");
    bu.split(co, bco, bci, vec, TailStrategy::GuardWithIf);
    std::vector<VarOrRVar> border = {bci, bco};
    if (unroll_x_taps) border.push_back(k[s - 1]);
    if (s == 2 && unroll_outer_taps) border.push_back(k[0]);
    border.push_back(rpos.x);
    border.push_back(rpos.y);
    if (!unroll_x_taps) border.push_back(k[s - 1]);
    if (s == 2 && !unroll_outer_taps) border.push_back(k[0]);
    border.push_back(ci);
    border.push_back(b);
    border.push_back(n);
    bu.reorder(border).vectorize(bci).unroll(bco);
    if (unroll_x_taps) bu.unroll(k[s - 1]);
    if (s == 2 && unroll_outer_taps) bu.unroll(k[0]);

    record_schedule(ctx, dwt, NodeSchedule().vectorize(vec).tile(lanes, taps_x).parallel(true));
}

}  // namespace strata::codegen
