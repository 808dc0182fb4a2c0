#pragma once
// Internal to codegen: the CPU-tuned forms for 1-d convs with few channels
// (PhaseNet's 8-32, GPD's first layers), added beside forms.h: the lowering
// says what the form computes, its schedule file how it runs.

#include "codegen/schedules/schedule.h"

namespace strata::codegen {

/// lower/conv1d_grad_weight_lanes.cpp: conv1d_grad_weight vectorised along
/// the output positions, each vector lane summing its own positions.
struct Conv1dGradWeightLanesStages {
    Halide::Func out;   ///< dW in IR layout (the steered stage)
    Halide::Func acc;   ///< acc(k, ci, co) = sum over lanes and shares of part
    Halide::Func part;  ///< part(l, k, ci, co, share) = sum over the share's image groups of tile
    Halide::Func tile;  ///< tile(l, k, ci, co, group): one image group's sum, a register tile
    Halide::Func dy;    ///< grad_output zero-extended to whole vectors, rounded-up channels and images
    Halide::Func x;     ///< the input shifted by the padding, by phase when strided, zero outside
    Halide::Var l, k, ci, co, share, group;
    Halide::RDom positions;  ///< tile's reduction: (vector of positions, image of the group)
    Halide::RDom groups;     ///< part's reduction: the share's image groups
    int64_t channel_tile;    ///< output channels per register tile (co is rounded up to it)
    int64_t taps, shares;
    int lanes;  ///< vector width of the dtype
};
/// Whether the lanes form computes this conv1d_grad_weight (CPU default schedule, ungrouped,
/// fewer output channels than fill two vectors, a register tile's worth of taps, no user rule).
bool conv1d_grad_weight_lanes_applies(const ir::Node &node, const LowerContext &ctx);
Halide::Func lower_conv1d_grad_weight_lanes(const ir::Node &node, LowerContext &ctx);
void schedule_conv1d_grad_weight_lanes_cpu(const Conv1dGradWeightLanesStages &s, const LowerContext &ctx);

}  // namespace strata::codegen
