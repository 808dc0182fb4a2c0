// The schedule of the flattened-rows conv (lower/conv_flat_rows.cpp): the
// flattened sums register-tiled, and, for a stored node, the rows copied out
// per task while in cache (the padded rows staged in the tasks that read them).

#include "codegen/schedules/forms.h"

#include <algorithm>

namespace strata::codegen {

using namespace Halide;

void schedule_conv_flat_rows_cpu(const ir::Node &node, const ConvFlatRowsStages &s, const LowerContext &ctx) {
    TiledReduction tiles = s.tiles;
    // A stored node (an output, or read twice) copies its rows out of the
    // flattened ones: the tiles are computed per task of that copy, in cache.
    // Fused into its epilogue (a stored elementwise consumer), the tiles are
    // computed in the epilogue's loops instead (schedule_conv_epilogue).
    const size_t id = static_cast<size_t>(node.id);
    const bool stored = ctx.is_output[id] || ctx.consumers[id] >= 2 || ctx.feeds_heavy_op[id];
    const Fusion *epilogue = stored ? nullptr : planned_epilogue(ctx, node.id);
    tiles.nested = stored || epilogue;
    const bool parallel = schedule_tiled_reduction(tiles, ctx);
    if (epilogue) {
        ctx.nested_tiles[epilogue->producer].push_back({node.id, tiles.out, s.flat, parallel});
        return;
    }
    if (!tiles.nested) return;  // inlined into its consumer, which reads the stored tiles

    Func f = s.out, tiled = tiles.out;
    const Shape &os = s.out_shape;
    f.compute_root();
    ctx.stored_funcs.insert(f.name());
    const int vec = vector_factor(ctx.vector_width(node.dtype()), os[3]);
    if (vec) f.vectorize(s.x, vec, TailStrategy::ShiftInwards);
    // Tasks of kChannelBlock channels of one image: their tiles (16 x 3.2k
    // positions for a 56x56 output) stay in L2 until copied out.
    constexpr int kChannelBlock = 16;
    Var cb("cb"), cbi("cbi");
    const int block = static_cast<int>(std::min<int64_t>(kChannelBlock, os[1]));
    f.split(s.co, cb, cbi, block, TailStrategy::GuardWithIf).reorder(s.x, s.y, cbi, cb, s.n);
    if (parallel && task_per_image(os[0], ctx)) {
        // Enough images for the threads: one task per image, which pads its
        // image into L2 and reads it there for every channel block (a whole
        // padded batch went to memory and back).
        f.parallel(s.n);
        tiled.compute_at(f, cb);
        stage_in_task(s.flat, f, s.n);
        return;
    }
    const Var task = fuse_loops(f, {cb, s.n}, "task");
    if (parallel) f.parallel(task);
    tiled.compute_at(f, task);
}

}  // namespace strata::codegen
