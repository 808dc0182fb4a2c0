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

/// lower/conv_grad_weight_blocked.cpp: a conv weight gradient summed by
/// blocks of output positions, output channels innermost.
struct ConvGradWeightBlockedStages {
    Halide::Func out;  ///< dW in IR layout, a copy of acc
    Halide::Func acc;  ///< dWt(co, k..., ci) = sum over (block, image) of blk: the steered stage
    Halide::Func blk;  ///< blk(co, k..., ci, b, n): one block's sum over its output positions
    Halide::Func dyt;  ///< grad_output with the channels innermost
    Halide::Func dy_runs;  ///< grad_output as it is (the transpose's source, inlined or staged)
    Halide::Func x;    ///< the input shifted by the padding
    Halide::Var co, ci, b, n;
    std::vector<Halide::Var> taps;     ///< k, outermost first
    std::vector<Halide::Var> x_vars;   ///< x's args, Halide order
    std::vector<Halide::Var> dyt_vars; ///< dyt's args, IR order (n, o..., co)
    std::vector<Halide::Var> dy_runs_vars; ///< dy_runs' args, IR order (n, co, o...)
    Halide::RDom positions;            ///< blk's reduction: the positions of a block
    Halide::RDom blocks;               ///< acc's reduction: (block, image)
    int64_t channels_out, channels_in;
    Shape weight_shape;
    DType dtype;
    int64_t images;
    int64_t block;  ///< positions along the innermost dim of one block (a row in 2-d)
    Halide::RDom interior;  ///< defined when x is zeroed and its interior copied per image (2-d)
    int64_t input_row;      ///< the input's innermost extent
};
void schedule_conv_grad_weight_blocked_cpu(const ConvGradWeightBlockedStages &s, const LowerContext &ctx);

/// lower/linear_few_rows.cpp: linear for a few rows as dot products along the input features.
struct LinearFewRowsStages {
    Halide::Func out;   ///< the node's Func: the steered stage
    Halide::Func acc;   ///< bias + the lane sums of part + the tail features
    Halide::Func part;  ///< part(l, o, row): one vector of partial sums per output feature
    Halide::Var l, o, row;
    Halide::RDom chunks;  ///< part's reduction: whole vectors of input features
    int64_t rows, in_features, out_features;
};
void schedule_linear_few_rows_cpu(const LinearFewRowsStages &s, const LowerContext &ctx);

/// lower/pool_grad.cpp: a max-pool gradient's argmax over windows of at most
/// kMaxUnrolledPoolTaps taps, a pure Func over the pooled positions.
struct MaxPoolArgmaxStages {
    Halide::Func argmax;  ///< argmax(o...) = the index of the window's first maximum
    Shape windows_shape;  ///< the pooled output's shape
    DType dtype;
};
/// Elementwise, and in the loops of the forward pool when plan_fusions fused them.
void schedule_max_pool_argmax(const ir::Node &grad, const MaxPoolArgmaxStages &s, const LowerContext &ctx);

}  // namespace strata::codegen
