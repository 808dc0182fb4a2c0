#pragma once
// Internal to codegen: the stages of the special lowering forms and their
// schedules. A form's lowering (lower/<form>.cpp) defines its Funcs and hands
// them over in a stages struct; its schedule (schedules/<form>.cpp) decides
// how they run. Each struct names the stage user rules steer.
//
// conv_flat_rows, conv_grad_weight_blocked and linear_few_rows are the
// CPU-tuned forms (LowerContext::cpu_tuned_forms()): no other mode lowers
// them, so they have a CPU schedule only.

#include "codegen/schedules/schedule.h"

#include <vector>

namespace strata::codegen {

/// lower/conv_flat_rows.cpp: a stride-1 2-d conv as a 1-d reduction over the
/// input's zero-padded rows laid end to end.
struct ConvFlatRowsStages {
    Halide::Func flat;     ///< the padded input, rows end to end (scheduled as it is defined)
    TiledReduction tiles;  ///< tiles.out (the steered stage) holds the sums over flattened positions
    Halide::Func out;      ///< the node's Func: out(x, y, co, n) = tiles.out(y*P + x, co, n), P the padded row length
    Halide::Var x, y, co, n;  ///< out's dims, innermost first (co and n shared with tiles.out)
    Shape out_shape;
};
void schedule_conv_flat_rows_cpu(const ir::Node &node, const ConvFlatRowsStages &s, const LowerContext &ctx);

}  // namespace strata::codegen
