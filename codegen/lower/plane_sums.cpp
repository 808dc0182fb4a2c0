#include "codegen/lower/plane_sums.h"

#include <algorithm>

namespace strata::codegen {

using namespace Halide;

namespace {

/// Elements below which a plane sum runs on one thread.
constexpr int64_t kMinParallelElements = 16384;
/// Vectors of a row summed in registers before their sum joins the lane's total: a float sum
/// of a long row is then off by about (block + vectors / block) roundings, not vectors.
constexpr int64_t kBlockVectors = 16;
/// Vectors a row needs for plane sums to pay.
constexpr int64_t kMinRowVectors = 32;

}  // namespace

bool plane_sums_apply(const Shape &shape, DType dtype, const LowerContext &ctx) {
    // Only long rows of 1-d signals: per plane, adding up the lanes and the accumulators' set-up
    // cost about as much as 16 vectors of data (measured: GPD's planes of 50-400 and ResNet's
    // 16x16 maps were slower than the channel cascade, PhaseNet's 751 and 3001 3-4x faster).
    return ctx.cpu_tuned_forms() && shape.size() == 3 && shape.back() >= kMinRowVectors * ctx.vector_width(dtype);
}

PlaneSums plane_sums(const std::string &name, const Shape &shape, DType dtype, int rows,
                     const std::function<Expr(const Index &, const Expr &)> &value, const LowerContext &ctx) {
    const Type t = halide_type(dtype);
    const int lanes = ctx.vector_width(dtype);
    const int64_t width = shape.back();
    const int64_t vectors = (width + lanes - 1) / lanes;
    const int64_t block = std::min(kBlockVectors, vectors);
    // Halide order: the blocks of a row, then the outer spatial dims innermost first.
    Region region = {Range(0, static_cast<int>((vectors + block - 1) / block))};
    for (size_t i = shape.size() - 1; i-- > 2;) region.push_back(Range(0, static_cast<int>(shape[i])));
    RDom r(region, name + "_r");
    RDom rv(0, static_cast<int>(block), name + "_rv");
    PlaneSums p{Func(name), Func(name + "_lanes"), Var("k"), Var("c"), Var("n")};
    const Var l("l");

    // block_sums(l, k, c, n, b, outer...): a block of vectors of one row, summed in registers.
    std::vector<Var> block_args = {l, p.k, p.c, p.n};
    for (int i = 0; i < r.dimensions(); ++i) block_args.push_back(Var(fmt::format("j{}", i)));
    const Expr position = (block_args[4] * static_cast<int>(block) + rv) * lanes + l;
    Index index = {p.n, p.c};
    for (int i = r.dimensions(); i-- > 1;) index.push_back(block_args[4 + static_cast<size_t>(i)]);
    index.push_back(position);
    Func block_sums(name + "_block");
    block_sums(block_args) = constant(t, 0);
    block_sums(block_args) += select(likely(position < static_cast<int>(width)), value(index, p.k), constant(t, 0));

    std::vector<Expr> at = {l, p.k, p.c, p.n};
    for (int i = 0; i < r.dimensions(); ++i) at.push_back(r[i]);
    p.lanes(l, p.k, p.c, p.n) = constant(t, 0);
    p.lanes(l, p.k, p.c, p.n) += block_sums(at);
    RDom rl(0, lanes, name + "_rl");
    p.sums(p.k, p.c, p.n) = constant(t, 0);
    p.sums(p.k, p.c, p.n) += p.lanes(rl, p.k, p.c, p.n);

    // Every row's accumulator vector updated per position: one sweep over the plane.
    std::vector<VarOrRVar> order = {l, p.k};
    for (int i = 0; i < r.dimensions(); ++i) order.push_back(r[i]);
    p.lanes.vectorize(l).unroll(p.k);
    p.lanes.update().reorder(order).vectorize(l).unroll(p.k);
    block_sums.compute_at(p.lanes, r.x).vectorize(l).unroll(p.k);
    block_sums.update().reorder(l, p.k, rv).vectorize(l).unroll(p.k);
    p.sums.bound(p.k, 0, rows);  // constant extents, so the rows unroll
    return p;
}

Var schedule_per_plane(Func f, const Var &k, const Var &c, const Var &n, int rows, const Shape &shape,
                       const LowerContext &ctx) {
    f.compute_root().bound(k, 0, rows);
    Var task("plane");
    f.fuse(c, n, task).unroll(k);
    // Threads pay for themselves on tensors of a few ten thousand elements and more.
    if (ctx.parallelism() > 1 && shape_numel(shape) >= kMinParallelElements) f.parallel(task);
    return task;
}

void compute_plane_sums_at(const PlaneSums &p, const Func &consumer, const Var &at) {
    Func sums = p.sums, lanes = p.lanes;  // handles to the same Funcs
    sums.compute_at(consumer, at);
    lanes.compute_at(sums, p.c);
}

}  // namespace strata::codegen
