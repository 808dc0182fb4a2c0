// The CPU form of convNd_grad_weight for ungrouped convs with at least one
// vector of output channels (a restructured algorithm; the same sum):
//
//   dYt(n, o..., co)         = grad_output[n, co, o...]          (channels innermost)
//   blk(co, k..., ci, b, n)  = sum over the output positions of block b of
//                              dYt(n, o, co) * x[n, ci, o*stride - pad + k*dil]
//   dWt(co, k..., ci)        = sum over (b, n) of blk
//   dW[co, ci, k...]         = dWt
//
// A block is two output rows (2-d) or a run of positions (1-d). blk is
// computed per (ci, block, image) as a register tile of channel vectors by
// kernel taps; the block of dYt it reads stays in L1 while every input channel
// uses it. Output channels are vectorised, so the input is read as scalars
// (broadcasts): strides cost nothing.

#include "codegen/lower/context.h"
#include "codegen/schedules/schedule.h"

namespace strata::codegen {

using namespace Halide;

namespace {

/// Positions per block of a 1-d conv (a multiple of any vector width).
constexpr int kBlock1d = 128;
/// Rows per block of a 2-d conv: each block ends in a store and an add of
/// its tile, so longer blocks spend less on them.
constexpr int64_t kRows2d = 4;
/// Most accumulators a register tile may hold before LLVM spills (HALIDE-NOTES).
constexpr int64_t kMaxAccumulators = 24;

}  // namespace

bool blocked_conv_grad_weight_applies(const ir::Node &node, const LowerContext &ctx) {
    if (!ctx.cpu_tuned_forms()) return false;
    if (node.attrs.get_int("groups") != 1) return false;
    const Shape &gs = node.input(1)->shape();
    return gs[1] >= ctx.vector_width(node.dtype()) && gs.size() <= 4;
}

Func lower_conv_grad_weight_blocked(const ir::Node &node, LowerContext &ctx) {
    const ir::Node *in = node.input(0), *gout = node.input(1);
    const Shape &xs = in->shape(), &gs = gout->shape(), &ws = node.shape();
    const size_t s = xs.size() - 2;
    const ir::Ints &stride = node.attrs.get_ints("stride"), &padding = node.attrs.get_ints("padding"),
                   &dilation = node.attrs.get_ints("dilation");
    const Type t = halide_type(node.dtype());
    const int vec = ctx.vector_width(node.dtype());
    const int64_t channels_out = gs[1];

    // Zero outside the input and past the last output position (1-d blocks may overhang).
    const Func x_bounded = constant_outside_spatial(ctx.func(in), xs, constant(t, 0));
    const Func g = constant_outside_spatial(ctx.func(gout), gs, constant(t, 0));

    // The input shifted by the padding and copied per block (below), so the
    // block's loops read it without bounds tests: read through the boundary
    // condition, Halide left one loop of every block with a test per position.
    std::vector<Var> pv = make_vars(xs.size(), "p");  // Halide order: spatial innermost first, then ci, n
    Func x(func_name(node, "_x"));
    {
        std::vector<Expr> from(pv.begin(), pv.end());
        for (size_t i = 0; i < s; ++i) from[i] = pv[i] - static_cast<int>(padding[s - 1 - i]);
        x(pv) = x_bounded(from);
    }

    // dYt(n, o..., co): channels innermost.
    std::vector<Var> tv = make_vars(s + 2, "t");  // n, o..., co
    Func dyt(func_name(node, "_dyt"));
    {
        Index src = {tv[0], tv.back()};
        for (size_t i = 0; i < s; ++i) src.push_back(tv[1 + i]);
        define(dyt, tv, call(g, src));
    }

    // Blocks: kRows2d rows of a 2-d output, or kBlock1d positions of a 1-d one
    // (rows past the end read zeros).
    const int64_t row = gs.back();
    const int64_t rows = s == 1 ? 1 : std::min<int64_t>(kRows2d, gs[2]);
    const int64_t block = s == 1 ? kBlock1d : row;
    const int64_t blocks = s == 1 ? (row + kBlock1d - 1) / kBlock1d : (gs[2] + rows - 1) / rows;
    RDom rpos(0, static_cast<int>(block), 0, static_cast<int>(rows), "rpos");
    Var co("co"), ci("ci"), b("b"), n("n");
    std::vector<Var> k = make_vars(s, "k");  // taps, outermost first
    auto position = [&](size_t i) -> Expr {  // output position along spatial dim i
        if (s == 1) return b * static_cast<int>(block) + rpos.x;
        return i == 0 ? b * static_cast<int>(rows) + rpos.y : Expr(rpos.x);
    };
    Index dy_idx = {n};
    Index x_idx = {n, ci};
    for (size_t i = 0; i < s; ++i) {
        dy_idx.push_back(position(i));
        x_idx.push_back(position(i) * static_cast<int>(stride[i]) + k[i] * static_cast<int>(dilation[i]));
    }
    dy_idx.push_back(co);

    // blk and dWt are defined in Halide order with the channels innermost.
    std::vector<Var> dwt_args = {co};  // Halide order, innermost first
    for (size_t i = s; i-- > 0;) dwt_args.push_back(k[i]);
    dwt_args.push_back(ci);
    std::vector<Var> blk_args = dwt_args;
    blk_args.push_back(b);
    blk_args.push_back(n);

    Func blk(func_name(node, "_blk"));
    blk(blk_args) = constant(t, 0);
    blk(blk_args) += call(dyt, dy_idx) * call(x, x_idx);

    RDom rbn(0, static_cast<int>(blocks), 0, static_cast<int>(gs[0]), "rbn");
    Func dwt(func_name(node, "_acc"));
    dwt(dwt_args) = constant(t, 0);
    std::vector<Expr> blk_at(dwt_args.begin(), dwt_args.end());
    blk_at.push_back(rbn.x);
    blk_at.push_back(rbn.y);
    dwt(dwt_args) += blk(blk_at);

    auto wvars = make_vars(ws.size(), "w");  // co, ci, k...
    std::vector<Expr> from = {wvars[0]};
    for (size_t i = s; i-- > 0;) from.push_back(wvars[2 + i]);
    from.push_back(wvars[1]);
    Func f(func_name(node));
    define(f, wvars, dwt(from));

    // Schedule. Register tile: `lanes` channels (1 or 2 vectors) x the innermost
    // taps, and the outer taps too when they fit.
    const int64_t taps_x = ws.back(), taps_outer = s == 2 ? ws[2] : 1;
    const int co_vectors = channels_out >= 2 * vec && 2 * taps_x * taps_outer <= kMaxAccumulators ? 2 : 1;
    const int lanes = co_vectors * vec;
    const bool unroll_outer_taps = co_vectors * taps_x * taps_outer <= kMaxAccumulators;
    const bool unroll_x_taps = co_vectors * taps_x <= kMaxAccumulators;

    // Per (channel block, image), in cache: computing it whole sent 2 x |dY|
    // through memory (1.6 ms of a 9 ms conv1d fwd+bwd).
    dyt.compute_at(dwt, rbn.y).vectorize(tv.back(), vec, TailStrategy::GuardWithIf);
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
    const int64_t co_blocks = (channels_out + lanes - 1) / lanes;
    const bool by_input_channel = co_blocks < ctx.parallelism() && xs[1] > 1;
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
    x.compute_at(dwt, rbn.x).vectorize(pv[0], vec, TailStrategy::GuardWithIf);
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

    steer_rules_at(ctx, dwt);
    record_schedule(ctx, dwt, NodeSchedule().vectorize(vec).tile(lanes, taps_x).parallel(true));
    return f;
}

}  // namespace strata::codegen
