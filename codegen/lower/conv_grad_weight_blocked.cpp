// The CPU form of convNd_grad_weight for ungrouped convs with at least one
// vector of output channels (a restructured algorithm; the same sum):
//
//   dYt(n, o..., co)         = grad_output[n, co, o...]          (channels innermost)
//   blk(co, k..., ci, b, n)  = sum over the output positions of block b of
//                              dYt(n, o, co) * x[n, ci, o*stride - pad + k*dil]
//   dWt(co, k..., ci)        = sum over (b, n) of blk
//   dW[co, ci, k...]         = dWt
//
// A block is a few output rows (2-d) or a run of positions (1-d). blk is
// computed per (ci, block, image) as a register tile of channel vectors by
// kernel taps (2-d: by 4 neighbouring positions too, which share their input
// broadcasts); the block of dYt it reads stays in L1 while every input channel
// uses it. Output channels are vectorised, so the input is read as scalars
// (broadcasts): strides cost nothing. dYt is transposed from dY a vector of
// positions by a vector of channels at a time (dy_runs), and a small padded
// image is copied once per image. The schedule is
// schedules/conv_grad_weight_blocked.cpp.

#include "codegen/lower/context.h"
#include "codegen/schedules/forms.h"

namespace strata::codegen {

using namespace Halide;

namespace {

/// Positions per block of a 1-d conv at most.
constexpr int kBlock1d = 128;
/// Rows per block of a 2-d conv: each block ends in a store and an add of
/// its tile, so longer blocks spend less on them. Short rows take more rows,
/// up to kPositions2d positions (ResNet's 16x16 and 8x8 images: 8 rows).
constexpr int64_t kRows2d = 4;
constexpr int64_t kPositions2d = 128;
/// Largest zero-padded input image (all channels) copied once per image
/// rather than per block: it stays in L2 while its blocks read it.
constexpr int64_t kMaxPaddedImageBytes = 256 << 10;

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
    const int64_t channels_out = gs[1];

    // Zero outside the input and past the last output position (1-d blocks may overhang).
    const Func x_bounded = constant_outside_spatial(ctx.func(in), xs, constant(t, 0));
    const Func g = constant_outside_spatial(ctx.func(gout), gs, constant(t, 0));

    // The input shifted by the padding and copied per block, or per image when
    // a padded image fits in L2 (below), so the block's loops read it without
    // bounds tests: read through the boundary condition, Halide left one loop
    // of every block with a test per position. Per image it is zeroed and its
    // interior copied row by row (whole vectors, no tests at the borders).
    std::vector<Var> pv = make_vars(xs.size(), "p");  // Halide order: spatial innermost first, then ci, n
    Func x(func_name(node, "_x"));
    int64_t padded_image = xs[1] * static_cast<int64_t>(halide_type(node.dtype()).bytes());
    for (size_t i = 0; i < s; ++i) padded_image *= xs[2 + i] + 2 * padding[i];
    const bool input_per_image = s == 2 && padded_image <= kMaxPaddedImageBytes;
    RDom interior;
    if (input_per_image) {
        x(pv) = constant(t, 0);
        interior = RDom(0, static_cast<int>(xs[3]), 0, static_cast<int>(xs[2]), "interior");
        x(interior.x + static_cast<int>(padding[1]), interior.y + static_cast<int>(padding[0]), pv[2], pv[3]) =
            ctx.func(in)(interior.x, interior.y, pv[2], pv[3]);
    } else {
        std::vector<Expr> from(pv.begin(), pv.end());
        for (size_t i = 0; i < s; ++i) from[i] = pv[i] - static_cast<int>(padding[s - 1 - i]);
        x(pv) = x_bounded(from);
    }

    // dYt(n, o..., co): channels innermost, transposed from runs of dY's rows
    // (dy_runs, staged by the schedule so both sides of the transpose are vectors).
    std::vector<Var> rv = make_vars(s + 2, "r");  // n, co, o...
    Func dy_runs(func_name(node, "_dy_runs"));
    define(dy_runs, rv, call(g, as_index(rv)));
    std::vector<Var> tv = make_vars(s + 2, "t");  // n, o..., co
    Func dyt(func_name(node, "_dyt"));
    {
        Index src = {tv[0], tv.back()};
        for (size_t i = 0; i < s; ++i) src.push_back(tv[1 + i]);
        define(dyt, tv, call(dy_runs, src));
    }

    // Blocks: kRows2d rows of a 2-d output, or kBlock1d positions of a 1-d one
    // (rows past the end read zeros).
    const int64_t row = gs.back();
    const int64_t rows =
        s == 1 ? 1 : std::min<int64_t>(std::max<int64_t>(kRows2d, (kPositions2d + row - 1) / row), gs[2]);
    // 1-d: the fewest blocks of at most kBlock1d positions, one block as long as the row, several
    // of about equal length in whole vectors (GPD's 50 positions in one 128-position block
    // computed 61% padding).
    const int64_t blocks_1d = (row + kBlock1d - 1) / kBlock1d;
    const int64_t lanes = ctx.vector_width(node.dtype());
    const int64_t even_block = ((row + blocks_1d - 1) / blocks_1d + lanes - 1) / lanes * lanes;
    const int64_t block = s == 1 ? (blocks_1d == 1 ? row : std::min<int64_t>(kBlock1d, even_block)) : row;
    const int64_t blocks = s == 1 ? blocks_1d : (gs[2] + rows - 1) / rows;
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

    ConvGradWeightBlockedStages stages{f, dwt, blk, dyt, dy_runs, x, co, ci, b, n, k, pv, tv, rv, rpos, rbn,
                                      channels_out, xs[1], ws, node.dtype(), gs[0], block, interior, xs.back()};
    schedule_conv_grad_weight_blocked_cpu(stages, ctx);
    return f;
}

}  // namespace strata::codegen
