#include "codegen/lower/plane_sums.h"

#include "codegen/schedules/plane_sums.h"

#include <algorithm>

namespace strata::codegen {

using namespace Halide;

namespace {

/// Vectors of a row summed in registers before their sum joins the lane's total: a float sum
/// of a long row is then off by about (block + vectors / block) roundings, not vectors.
constexpr int64_t kBlockVectors = 16;
/// Elements a plane holds at least, where the batch allows (images are added to a plane until
/// it does): adding up a plane's lanes and setting up its accumulators cost about 16 vectors.
constexpr int64_t kMinPlaneElements = 4096;

/// The largest divisor of `images` of at most `most` images (at least 1).
int64_t images_per_plane(int64_t images, int64_t most) {
    for (int64_t g = std::min(images, std::max<int64_t>(1, most)); g > 1; --g)
        if (images % g == 0) return g;
    return 1;
}

}  // namespace

bool plane_sums_apply(const Shape &shape, DType dtype, const LowerContext &ctx) {
    // 1-d signals with rows of a vector or more (2-d maps keep the channel cascade: rows of 8-32
    // made a plane's blocks short).
    return ctx.cpu_tuned_forms() && shape.size() == 3 && shape.back() >= ctx.vector_width(dtype);
}

PlaneSums plane_sums(const std::string &name, const Shape &shape, DType dtype, int rows,
                     const std::function<Expr(const Index &, const Expr &)> &value, const LowerContext &ctx) {
    const Type t = halide_type(dtype);
    const int lanes = ctx.vector_width(dtype);
    const int64_t width = shape.back();
    const int64_t vectors = (width + lanes - 1) / lanes;
    const int64_t block = std::min(kBlockVectors, vectors);
    const int64_t images = images_per_plane(shape[0], kMinPlaneElements / width);
    // Halide order: the blocks of a row, the outer spatial dims innermost first, the plane's images.
    Region region = {Range(0, static_cast<int>((vectors + block - 1) / block))};
    for (size_t i = shape.size() - 1; i-- > 2;) region.push_back(Range(0, static_cast<int>(shape[i])));
    region.push_back(Range(0, static_cast<int>(images)));
    RDom r(region, name + "_r");
    RDom rv(0, static_cast<int>(block), name + "_rv");
    PlaneSums p{Func(name), Func(name + "_lanes"), Var("k"), Var("c"), Var("p"), images, shape[0] / images,
                Func(name + "_block"), Var("l"), r, rv, rows};
    const Var l = p.l;

    // block_sums(l, k, c, p, b, outer..., image): a block of vectors of one row, summed in registers.
    std::vector<Var> block_args = {l, p.k, p.c, p.p};
    for (int i = 0; i < r.dimensions(); ++i) block_args.push_back(Var(fmt::format("j{}", i)));
    const Expr position = (block_args[4] * static_cast<int>(block) + rv) * lanes + l;
    Index index = {p.p * static_cast<int>(images) + block_args.back(), p.c};
    for (int i = r.dimensions() - 1; i-- > 1;) index.push_back(block_args[4 + static_cast<size_t>(i)]);
    index.push_back(position);
    Func block_sums = p.block;
    block_sums(block_args) = constant(t, 0);
    block_sums(block_args) += select(likely(position < static_cast<int>(width)), value(index, p.k), constant(t, 0));

    std::vector<Expr> at = {l, p.k, p.c, p.p};
    for (int i = 0; i < r.dimensions(); ++i) at.push_back(r[i]);
    p.lanes(l, p.k, p.c, p.p) = constant(t, 0);
    p.lanes(l, p.k, p.c, p.p) += block_sums(at);
    RDom rl(0, lanes, name + "_rl");
    p.sums(p.k, p.c, p.p) = constant(t, 0);
    p.sums(p.k, p.c, p.p) += p.lanes(rl, p.k, p.c, p.p);

    schedule_plane_sums_cpu(p);
    return p;
}

}  // namespace strata::codegen
