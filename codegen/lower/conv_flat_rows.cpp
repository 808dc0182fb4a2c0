// The CPU form of a stride-1 conv2d / conv_transpose2d whose output rows are
// not a whole number of register tiles (56 positions are 3.5 vectors of 16:
// the last tile of every row recomputed 8 positions, 14% of the work).
//
// The input is stored zero-padded with its rows laid end to end, pitch P (the
// padded row length), so the tap (ky, kx) of output position i = y*P + x
// reads input position i + ky'*P + kx' (primed: offsets into the padded
// rows). The conv is then a 1-d reduction over the flattened positions; each
// output row carries P - W garbage positions (the taps wrapping into the next
// row), computed and never read:
//
//   flat(i, ci, n)       = x[n, ci, i / P + lo_y, i % P + lo_x]   (0 outside)
//   acc(i, co, n)        = bias[co] + sum over (ci, ky, kx) of w * flat(i + ky'*P + kx')
//   y[n, co, row, col]   = acc(row*P + col, co, n)
//
// The tiled schedule then sees one long innermost dim and tiles it whole
// (schedules/conv_flat_rows.cpp).
//
// Rows shorter than two vectors (ResNet's 16x16 and 8x8 stages: one vector
// by 16 channels per tile, 17 loads per 16 FMAs; or half-width vectors) are
// laid end to end without wrapped positions instead: one copy of the input
// per horizontal tap kx, its columns shifted by that tap's offset, pitch W:
//
//   flat(i, kx, ci, n)   = x[n, ci, i / W + lo_y, i % W + offset(kx)]   (0 outside)
//   acc(i, co, n)        = bias[co] + sum over (ci, ky, kx) of w * flat(i + ky'*W, kx)
//
// so the H*W outputs of an image are one run of whole vectors, tiled two
// vectors by eight channels like a long row.

#include "codegen/lower/context.h"
#include "codegen/schedules/forms.h"

namespace strata::codegen {

using namespace Halide;
using ir::Op;

namespace {

/// The input position an output position o reads at tap k along one spatial
/// dim, as o + offset(k): forward o - pad + k*dil, transposed o + pad - k*dil.
/// (int64_t for the geometry, Expr for the taps of the reduction.)
template <typename K>
K tap_offset(bool transposed, const K &k, int64_t pad, int64_t dil) {
    const int p = static_cast<int>(pad), d = static_cast<int>(dil);
    return transposed ? p - k * d : k * d - p;
}

struct FlatGeometry {
    int64_t lo_y, lo_x;  ///< the lowest input row / column any tap reads
    int64_t pitch;       ///< P: input columns lo_x .. lo_x + P - 1 per flattened row
};

FlatGeometry geometry(const ir::Node &node) {
    const bool transposed = node.op == Op::conv_transpose2d;
    const Shape &ws = node.input(1)->shape(), &os = node.shape();
    const ir::Ints &padding = node.attrs.get_ints("padding"), &dilation = node.attrs.get_ints("dilation");
    auto lowest = [&](size_t d) {
        return std::min(tap_offset<int64_t>(transposed, 0, padding[d], dilation[d]),
                        tap_offset<int64_t>(transposed, ws[2 + d] - 1, padding[d], dilation[d]));
    };
    const int64_t span_x = (ws[3] - 1) * dilation[1];
    return {lowest(0), lowest(1), os[3] + span_x};
}

/// Rows too short for a tile of two vectors, images a whole number of vectors.
bool short_rows(const ir::Node &node, const LowerContext &ctx) {
    const Shape &os = node.shape();
    const int64_t natural = ctx.vector_width(node.dtype()), width = os[3], image = os[2] * os[3];
    return width < 2 * natural && image % natural == 0 && image >= 2 * natural;
}

/// Bytes of an image's input copies by column shift (one per horizontal tap).
int64_t column_shifted_bytes(const ir::Node &node) {
    const Shape &xs = node.input(0)->shape(), &ws = node.input(1)->shape(), &os = node.shape();
    const int64_t rows = os[2] + (ws[2] - 1) * node.attrs.get_ints("dilation")[0];
    return ws[3] * xs[1] * rows * os[3] * static_cast<int64_t>(dtype_size(node.dtype()));
}

/// Whether the wrapped positions of the flattened rows are at most 1/8 of them.
bool flat_rows_waste_little(const ir::Node &node) {
    const int64_t pitch = geometry(node).pitch;
    return 8 * (pitch - node.shape()[3]) <= pitch;
}

/// Whether short rows are laid end to end by column shift (see the top). Its
/// copies are kx times the input: past kMaxColumnShiftedBytes per image they
/// no longer stay in L1 while the tiles sweep them, and the flattened rows
/// (one copy) are faster where they waste little (ResNet's 16x16 maps with 32
/// channels: 1.23 -> 1.05 ms per conv, 110 KiB of copies; 8x8 with 64 channels,
/// 61 KiB and a fifth of the positions wrapped, stay shifted).
constexpr int64_t kMaxColumnShiftedBytes = 64 << 10;
bool by_column_shift(const ir::Node &node, const LowerContext &ctx) {
    if (!short_rows(node, ctx)) return false;
    return column_shifted_bytes(node) <= kMaxColumnShiftedBytes || !flat_rows_waste_little(node);
}

}  // namespace

bool conv_flat_rows_applies(const ir::Node &node, const LowerContext &ctx) {
    if (!ctx.cpu_tuned_forms()) return false;
    if (node.op != Op::conv2d && node.op != Op::conv_transpose2d) return false;
    for (int64_t s : node.attrs.get_ints("stride"))
        if (s != 1) return false;
    if (short_rows(node, ctx)) return true;  // by column shift, or flattened where that is faster
    // The share of the vector lanes doing useful work, row by row and over
    // the flattened rows: row tiles compute whole tiles per row, with vectors
    // narrowed to fit short rows (a 14-wide row gets 8 of 16 lanes); the
    // flattened rows use whole vectors and waste the P - W wrapped positions.
    const int64_t width = node.shape().back();
    const int natural = ctx.vector_width(node.dtype());
    const int vec = vector_factor(natural, width);
    if (vec == 0) return false;
    const int64_t tile = default_tile_width(vec, width);
    const int64_t computed = (width + tile - 1) / tile * tile;
    const double by_rows = static_cast<double>(width) / static_cast<double>(computed) * vec / natural;
    const double flattened = static_cast<double>(width) / static_cast<double>(geometry(node).pitch);
    return flattened > 1.05 * by_rows;
}

Func lower_conv_flat_rows(const ir::Node &node, LowerContext &ctx) {
    const bool transposed = node.op == Op::conv_transpose2d;
    const ir::Node *in = node.input(0), *w = node.input(1);
    const Shape &xs = in->shape(), &ws = w->shape(), &os = node.shape();
    const ir::Ints &padding = node.attrs.get_ints("padding"), &dilation = node.attrs.get_ints("dilation");
    const int64_t groups = node.attrs.get_int("groups");
    const int64_t cin_g = xs[1] / groups, cout_g = os[1] / groups;
    const Type t = halide_type(node.dtype());
    const bool shifted = by_column_shift(node, ctx);
    const FlatGeometry g = geometry(node);
    const int pitch = static_cast<int>(shifted ? os[3] : g.pitch);

    // The padded input, rows end to end (by column shift: one copy per kx).
    const Func bounded = constant_outside_spatial(ctx.func(in), xs, constant(t, 0));
    Var i("i"), c("c"), n("n"), kx("kx");
    Func flat(func_name(node, "_padded"));
    if (shifted)
        flat(i, kx, c, n) = bounded(i % pitch + tap_offset<Expr>(transposed, kx, padding[1], dilation[1]),
                                    i / pitch + static_cast<int>(g.lo_y), c, n);
    else
        flat(i, c, n) = bounded(i % pitch + static_cast<int>(g.lo_x), i / pitch + static_cast<int>(g.lo_y), c, n);
    schedule_padded_input(flat, ctx, pitch);  // as every conv's padded input

    // acc(i, co, n) over (kx, ky, ci), innermost first.
    RDom r(0, static_cast<int>(ws[3]), 0, static_cast<int>(ws[2]), 0, static_cast<int>(cin_g), "r");
    Var co("co");
    Expr group = groups == 1 ? Expr(0) : co / static_cast<int>(cout_g);
    Expr channel = groups == 1 ? Expr(r.z) : group * static_cast<int>(cin_g) + r.z;
    auto offset = [&](size_t d, const Expr &k) {  // into the padded rows: offset(k) - lo
        return tap_offset<Expr>(transposed, k, padding[d], dilation[d]) - static_cast<int>(d == 0 ? g.lo_y : g.lo_x);
    };
    Expr position = i + offset(0, r.y) * pitch + (shifted ? Expr(0) : offset(1, r.x));
    // Weights in IR order [co, ci, ky, kx] (transposed: [ci, co, ky, kx]), Halide order reversed.
    Expr weight = transposed ? ctx.func(w)(r.x, r.y, groups == 1 ? co : co - group * static_cast<int>(cout_g), channel)
                             : ctx.func(w)(r.x, r.y, r.z, co);
    Func sum(func_name(node, "_flat_sum"));
    sum(i, co, n) = node.inputs.size() == 3 ? Expr(ctx.func(node.input(2))(co)) : constant(t, 0);
    sum(i, co, n) += weight * (shifted ? flat(position, r.x, channel, n) : flat(position, channel, n));

    // Stored by the tiled schedule (the node's steered stage).
    Func tiled(func_name(node, "_acc"));
    tiled(i, co, n) = sum(i, co, n);
    TiledReduction tiles;
    tiles.out = tiled;
    tiles.acc = sum;
    tiles.x = {i, os[2] * g.pitch};
    tiles.c = {co, os[1]};
    tiles.outer.push_back({n, os[0]});
    for (int d = 0; d < r.dimensions(); ++d) tiles.rvars.push_back(r[d]);
    tiles.dtype = node.dtype();
    tiles.work_per_output = cin_g * ws[2] * ws[3];
    tiles.broadcast_operand = ctx.func(w);
    tiles.staged_input = flat;

    Var x("x"), y("y");
    Func f(func_name(node));
    f(x, y, co, n) = tiled(y * pitch + x, co, n);
    schedule_conv_flat_rows_cpu(node, {flat, tiles, f, x, y, co, n, os}, ctx);
    return f;
}

}  // namespace strata::codegen
