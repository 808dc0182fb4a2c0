// The schedule of a conv's epilogue (fusion.cpp): the stored elementwise node
// that inlines a 2-d conv's output (bias, batch norm, residual add, relu, a
// relu's gradient mask) computes the conv's register tiles per (image,
// channel block) inside its own loops, so the conv's output is read from L2
// by the epilogue instead of going to memory and back in a pass of its own.

#include "codegen/schedules/schedule.h"

#include <algorithm>

namespace strata::codegen {

using namespace Halide;

namespace {

/// Output channels per block: a block of one image's 32x32 outputs (64 KiB
/// in f32) stays in L2 between the tiles and the epilogue reading them.
constexpr int64_t kChannelBlock = 16;

}  // namespace

void schedule_conv_epilogue(Func f, const Shape &shape, DType dtype, const std::vector<LowerContext::NestedTiles> &convs,
                            const LowerContext &ctx) {
    f.compute_root();
    ctx.stored_funcs.insert(f.name());
    const std::vector<Var> args = f.args();  // spatial dims innermost first, then c, n
    const size_t rank = args.size();
    const Var &c = args[rank - 2], &n = args[rank - 1];
    const int vec = vector_factor(ctx.vector_width(dtype), shape.back());
    if (vec) f.vectorize(args[0], vec);
    Var cb("cb"), cbi("cbi");
    const int block = static_cast<int>(std::min<int64_t>(kChannelBlock, shape[1]));
    f.split(c, cb, cbi, block, TailStrategy::GuardWithIf);
    std::vector<VarOrRVar> order(args.begin(), args.end() - 2);
    order.push_back(cbi);
    order.push_back(cb);
    order.push_back(n);
    f.reorder(order);

    bool parallel = false;
    for (const auto &conv : convs) parallel = parallel || conv.parallel;
    // Enough images for the threads: one task per image, which also makes its
    // image's padded input copy in cache (as the stored conv tiles do).
    const bool per_image = parallel && task_per_image(shape[0], ctx);
    Var at = cb;
    if (per_image) {
        f.parallel(n);
    } else if (parallel) {
        at = fuse_loops(f, {cb, n}, "task");
        f.parallel(at);
    }
    for (const auto &conv : convs) {
        Func tiles = conv.tiles;
        tiles.compute_at(f, at);
        if (per_image && conv.staged_input.defined()) stage_in_task(conv.staged_input, f, n);
    }
    record_schedule(ctx, f, NodeSchedule().vectorize(vec ? vec : 1).parallel(parallel));
}

}  // namespace strata::codegen
