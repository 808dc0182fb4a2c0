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
/// Output positions along a row computed together in the register tile (2-d).
constexpr int kUnrolledPositions = 4;
/// Most channels whose rows are staged (unrolled) for the transpose of dY.
constexpr int64_t kMaxTransposedChannels = 64;

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

    ctx.stored_funcs.insert(f.name());
    f.compute_root();
    dwt.compute_root();
    dwt.vectorize(co, vec, TailStrategy::GuardWithIf);
    Var coo("coo"), coi("coi");
    const int64_t co_blocks = (st.channels_out + lanes - 1) / lanes;
    const int threads = ctx.parallelism();

    // Where the threads' work comes from. With as many channel blocks as threads, each takes
    // channel blocks over every image. With fewer (ResNet's 16 channels, LeNet-5's conv2),
    // each takes a share of the images and sums into its own copy of dW, added up at the end
    // (rfactor): every image's dY is then transposed once, where splitting by input channel
    // transposed it once per input channel (ResNet-20's 16x16x3x3 gradient: 4.4 ms, 34 GFLOP/s).
    // A batch smaller than the threads splits by input channel instead.
    enum class Split { channel_blocks, images, input_channels } split = Split::channel_blocks;
    if (co_blocks < threads) split = st.images >= threads ? Split::images : st.channels_in > 1 ? Split::input_channels
                                                                                              : Split::channel_blocks;

    // `update` sums over (block, image) or, split by images, over (block, image of the share).
    Func acc = dwt;
    Stage update = dwt.update();
    RVar image = rbn.y;
    Var share("share");
    if (split == Split::images) {
        RVar shares("shares"), image_in_share("image_in_share");
        const int64_t per_share = (st.images + threads - 1) / threads;
        update.split(rbn.y, shares, image_in_share, static_cast<int>(per_share));
        acc = update.rfactor(shares, share);
        acc.compute_root().vectorize(co, vec, TailStrategy::GuardWithIf);
        dwt.update().vectorize(co, vec, TailStrategy::GuardWithIf);  // adds up the shares
        update = acc.update();
        image = image_in_share;
    }

    // Per (channel block, image), in cache: computing it whole sent 2 x |dY|
    // through memory (1.6 ms of a 9 ms conv1d fwd+bwd).
    dyt.compute_at(acc, image).vectorize(st.dyt_vars.back(), vec, TailStrategy::GuardWithIf);
    // Rows of whole vectors: dY is read a vector of positions at a time for
    // every channel, and each block of vec positions x vec channels is
    // transposed in registers (read channel by channel, a vector of channels
    // took one load and one insert per element).
    if (s == 2 && st.block % vec == 0 && st.channels_out <= kMaxTransposedChannels) {
        const Var &o = st.dyt_vars[st.dyt_vars.size() - 2], &c = st.dyt_vars.back();
        Var oo("dyt_oo"), oi("dyt_oi");
        dyt.split(o, oo, oi, vec).reorder(c, oi, oo).unroll(oi);
        Func dy_runs = st.dy_runs;
        dy_runs.compute_at(dyt, oo).vectorize(st.dy_runs_vars.back(), vec).unroll(st.dy_runs_vars[1]);
    }
    update.split(co, coo, coi, lanes, TailStrategy::GuardWithIf);
    std::vector<VarOrRVar> order = {coi};
    for (size_t i = s; i-- > 0;) order.push_back(k[i]);
    if (split != Split::input_channels) order.push_back(ci);
    order.push_back(rbn.x);
    order.push_back(image);
    if (split == Split::input_channels) order.push_back(ci);
    order.push_back(coo);
    if (split == Split::images) order.push_back(share);
    update.reorder(order).vectorize(coi, vec);
    switch (split) {
    case Split::channel_blocks: update.parallel(coo); break;
    case Split::images: update.parallel(share); break;
    case Split::input_channels: {
        // Each (input channel, channel block) task transposes its images' dY again (a small copy).
        Var task("task");
        update.fuse(ci, coo, task).parallel(task);
        break;
    }
    }

    blk.compute_at(acc, rbn.x);  // one (channel block, ci, block, image) at a time
    if (st.interior.defined()) {
        // Per image: zeroed, then its interior copied a row of vectors at a time.
        x.compute_at(acc, image).vectorize(st.x_vars[0], vec, TailStrategy::GuardWithIf);
        const int row_vec = vector_factor(vec, st.input_row);
        if (row_vec) x.update().vectorize(st.interior.x, row_vec, TailStrategy::GuardWithIf);
    } else {
        x.compute_at(acc, rbn.x).vectorize(st.x_vars[0], vec, TailStrategy::GuardWithIf);
    }
    blk.vectorize(co, vec, TailStrategy::GuardWithIf);
    // A few neighbouring positions inside the tile as well: the input values
    // they share along the row (position p at tap kx reads what p + 1 reads
    // at kx - 1) are loaded and broadcast once for all of them, which halves
    // the loads per multiply-add.
    const bool unroll_positions = s == 2 && unroll_outer_taps && st.block % kUnrolledPositions == 0;
    Stage bu = blk.update();
    Var bco("bco"), bci("bci");
    bu.split(co, bco, bci, vec, TailStrategy::GuardWithIf);
    std::vector<VarOrRVar> border = {bci, bco};
    if (unroll_x_taps) border.push_back(k[s - 1]);
    if (s == 2 && unroll_outer_taps) border.push_back(k[0]);
    RVar pos_outer("pos_outer"), pos_inner("pos_inner");
    if (unroll_positions) {
        bu.split(rpos.x, pos_outer, pos_inner, kUnrolledPositions);
        border.push_back(pos_inner);
        border.push_back(pos_outer);
    } else {
        border.push_back(rpos.x);
    }
    border.push_back(rpos.y);
    if (!unroll_x_taps) border.push_back(k[s - 1]);
    if (s == 2 && !unroll_outer_taps) border.push_back(k[0]);
    border.push_back(ci);
    border.push_back(b);
    border.push_back(n);
    bu.reorder(border).vectorize(bci).unroll(bco);
    if (unroll_x_taps) bu.unroll(k[s - 1]);
    if (s == 2 && unroll_outer_taps) bu.unroll(k[0]);
    if (unroll_positions) bu.unroll(pos_inner);

    record_schedule(ctx, dwt, NodeSchedule().vectorize(vec).tile(lanes, taps_x).parallel(true));
}

}  // namespace strata::codegen
