#include "codegen/schedules/plane_sums.h"

namespace strata::codegen {

using namespace Halide;

namespace {
/// Elements below which a plane sum runs on one thread.
constexpr int64_t kMinParallelElements = 16384;
}  // namespace

void schedule_plane_sums_cpu(const PlaneSums &p) {
    Func lanes = p.lanes, block = p.block, sums = p.sums;  // handles to the same Funcs
    std::vector<VarOrRVar> order = {p.l, p.k};
    for (int i = 0; i < p.blocks.dimensions(); ++i) order.push_back(p.blocks[i]);
    lanes.vectorize(p.l).unroll(p.k);
    lanes.update().reorder(order).vectorize(p.l).unroll(p.k);
    block.compute_at(lanes, p.blocks.x).vectorize(p.l).unroll(p.k);
    block.update().reorder(p.l, p.k, p.vectors).vectorize(p.l).unroll(p.k);
    sums.bound(p.k, 0, p.rows);  // constant extents, so the rows unroll
}

Var schedule_per_plane(Func f, const Var &k, const Var &c, const Var &plane, int rows, const Shape &shape,
                       const LowerContext &ctx) {
    f.compute_root().bound(k, 0, rows);
    Var task("plane");
    f.fuse(c, plane, task).unroll(k);
    // Threads pay for themselves on tensors of a few ten thousand elements and more.
    if (ctx.parallelism() > 1 && shape_numel(shape) >= kMinParallelElements) f.parallel(task);
    return task;
}

void compute_plane_sums_at(const PlaneSums &p, const Func &consumer, const Var &at) {
    Func sums = p.sums, lanes = p.lanes;
    sums.compute_at(consumer, at);
    lanes.compute_at(sums, p.c);
}

}  // namespace strata::codegen
