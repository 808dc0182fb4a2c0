// The schedules of batch norm's per-channel sums (lower/normalization.cpp).

#include "codegen/schedules/forms.h"

namespace strata::codegen {

using namespace Halide;

void schedule_channel_sum(const ChannelSumStages &s, const LowerContext &ctx) {
    if (ctx.autoscheduled()) return;
    if (ctx.gpu()) return schedule_channel_sum_gpu(s, ctx);
    schedule_channel_sum_cpu(s, ctx);
}

void schedule_channel_sum_cpu(const ChannelSumStages &s, const LowerContext &ctx) {
    Func f = s.sum;
    f.compute_root();
    // The reduction's innermost dim inside the channel loop: one thread per channel.
    f.update().reorder(s.rvars.front(), s.c);
    if (s.x_shape[1] > 1 && !ctx.simple()) f.update().parallel(s.c);
}

void schedule_channel_sum_gpu(const ChannelSumStages &s, const LowerContext &ctx) {
    const Shape &xs = s.x_shape;
    schedule_reduction_gpu(s.sum, Shape{xs[1]}, s.dtype, s.rvars, shape_numel(xs) / xs[1], ctx);
}

}  // namespace strata::codegen
