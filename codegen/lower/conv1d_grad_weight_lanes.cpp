// The CPU form of conv1d_grad_weight for ungrouped convs with few output
// channels (a restructured algorithm; the same sum):
//
//   dW[co, ci, k] = sum over n, o of dy[n, co, o] * x[n, ci, o*S - P + k*D]
//
// is summed with one vector lane per output position modulo the vector width:
//   tile(l, k, ci, co, g)  = sum over the images n of group g and the vectors v of
//                            dy[n, co, v*V + l] * x[n, ci, (v*V + l)*S - P + k*D]
//   part(l, k, ci, co, s)  = sum over the groups g of share s of tile
//   dW[co, ci, k]          = sum over lanes l and shares s of part
// tile is a register tile of a few output channels by every tap: per vector of
// positions it loads each tap's input vector once and each channel's dy vector
// once (the channel-vectorised blocked form needs 16 or more channels to fill
// its vectors; with PhaseNet's 8-22 it ran at 2-60 GFLOP/s). A strided conv
// reads its input by phase, so every load is a plain vector load. dy and x are
// staged with zeros past their ends, so no load is predicated. Each thread
// sums its share of the images; an image group is every image of the share
// when the share's data fits in L2 (the tile then runs over all of them in
// registers), else one image (its data staged in cache).
// The schedule is schedules/conv1d_grad_weight_lanes.cpp.

#include "codegen/schedules/conv1d_forms.h"

namespace strata::codegen {

using namespace Halide;

namespace {

/// Most accumulators a register tile may hold before LLVM spills (HALIDE-NOTES).
constexpr int64_t kMaxAccumulators = 24;
/// Output channels per register tile at most (with one vector of taps each: 3 x 7 taps = 21).
constexpr int64_t kMaxChannelTile = 3;
/// A share's input and dy bytes up to which one tile runs over all its images.
constexpr int64_t kShareBytesInCache = 512 * 1024;

/// Output positions (in vectors) up to which two vectors of channels take this form as well.
constexpr int64_t kShortOutputVectors = 2;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

bool conv1d_grad_weight_lanes_applies(const ir::Node &node, const LowerContext &ctx) {
    if (!ctx.cpu_tuned_forms() || node.op != ir::Op::conv1d_grad_weight) return false;
    if (node.attrs.get_int("groups") != 1) return false;
    const Shape &gs = node.input(1)->shape(), &ws = node.shape();
    if (gs.size() != 3 || ws[2] > kMaxAccumulators) return false;
    if (!node_rule(ctx, node).empty()) return false;  // user rules steer the plain form
    // Few channels, or two vectors of them over outputs too short for the blocked form's blocks.
    const int64_t lanes = ctx.vector_width(node.dtype());
    return gs[1] < 2 * lanes || (gs[1] <= 2 * lanes && gs[2] <= kShortOutputVectors * lanes);
}

Func lower_conv1d_grad_weight_lanes(const ir::Node &node, LowerContext &ctx) {
    const ir::Node *in = node.input(0), *gout = node.input(1);
    const Shape &xs = in->shape(), &gs = gout->shape(), &ws = node.shape();
    const int64_t stride = node.attrs.get_ints("stride")[0], padding = node.attrs.get_ints("padding")[0],
                  dilation = node.attrs.get_ints("dilation")[0];
    const Type t = halide_type(node.dtype());
    const Expr zero = constant(t, 0);
    const int lanes = ctx.vector_width(node.dtype());
    const int64_t images = gs[0], channels_out = gs[1], positions = gs[2], channels_in = xs[1], taps = ws[2];
    const int64_t channel_tile = std::max<int64_t>(1, std::min(kMaxChannelTile, kMaxAccumulators / taps));
    const int64_t vectors = ceil_div(positions, lanes);
    const int64_t shares = std::max<int64_t>(1, std::min<int64_t>(ctx.parallelism(), images));
    const int64_t per_share = ceil_div(images, shares);
    const int64_t share_bytes = per_share * (channels_in * xs[2] + channels_out * positions) * t.bytes();
    const int64_t group_images = share_bytes <= kShareBytesInCache ? per_share : 1;
    const int64_t groups = ceil_div(per_share, group_images);

    // Zero past the last position, channel and image (rounded-up vectors, channel tiles and shares).
    const Func dy_bounded = BoundaryConditions::constant_exterior(
        ctx.func(gout), zero,
        Region{Range(0, static_cast<int>(positions)), Range(0, static_cast<int>(channels_out)),
               Range(0, static_cast<int>(images))});
    const Func x_bounded = BoundaryConditions::constant_exterior(
        ctx.func(in), zero,
        Region{Range(0, static_cast<int>(xs[2])), Range(0, static_cast<int>(channels_in)),
               Range(0, static_cast<int>(images))});

    Var o("o"), c("c"), n("n"), q("q"), b("b");
    Func dy(func_name(node, "_dy"));
    dy(o, c, n) = dy_bounded(o, c, n);
    // x(q, b, c, n) = input position q*S + b - P: position o*S - P + k*D is x(o + kD / S, kD % S).
    Func x(func_name(node, "_x"));
    x(q, b, c, n) = x_bounded(q * static_cast<int>(stride) + b - static_cast<int>(padding), c, n);

    Var l("l"), k("k"), ci("ci"), co("co"), share("share"), group("group");
    RDom r(0, static_cast<int>(vectors), 0, static_cast<int>(group_images), func_name(node, "_r"));
    const Expr image = group * static_cast<int>(group_images) + r.y;
    const Expr position = r.x * lanes + l;
    const Expr offset = k * static_cast<int>(dilation);
    Func tile(func_name(node, "_tile"));
    tile(l, k, ci, co, group) = zero;
    tile(l, k, ci, co, group) += dy(position, co, image) *
                                 x(position + offset / static_cast<int>(stride), offset % static_cast<int>(stride), ci,
                                   image);

    RDom rg(0, static_cast<int>(groups), func_name(node, "_rg"));
    Func part(func_name(node, "_part"));
    part(l, k, ci, co, share) = zero;
    part(l, k, ci, co, share) += tile(l, k, ci, co, share * static_cast<int>(groups) + rg);

    RDom rl(0, lanes, 0, static_cast<int>(shares), func_name(node, "_rl"));
    Func acc(func_name(node, "_acc"));
    acc(k, ci, co) = zero;
    acc(k, ci, co) += part(rl.x, k, ci, co, rl.y);

    auto wvars = make_vars(3, "w");  // IR order: co, ci, k
    Func f(func_name(node));
    define(f, wvars, acc(wvars[2], wvars[1], wvars[0]));

    Conv1dGradWeightLanesStages stages{f, acc, part, tile, dy, x, l, k, ci, co, share, group, r, rg,
                                       channel_tile, taps, shares, lanes};
    schedule_conv1d_grad_weight_lanes_cpu(stages, ctx);
    return f;
}

}  // namespace strata::codegen
