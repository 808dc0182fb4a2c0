#pragma once
// Internal to codegen: the default schedules, one function per op class.
// Lowerings (lower/) say what is computed; these say how. Each hands over to
// its GPU variant (gpu.cpp) when ctx.gpu() is set. The special lowering
// forms hand their stages to the schedules declared in forms.h.

#include "codegen/lower/context.h"

#include <vector>

namespace strata::codegen {

/// Names `stage` the current node's steered stage: the one its user rules
/// (class < op < node) apply to and `strata schedule dump` reports. A
/// lowering names it (a reduction's accumulator, the tiles of a special form:
/// the stages structs below say which); one that names none is steered at
/// its own Func. Helper stages keep their defaults.
void steer_rules_at(const LowerContext &ctx, const Halide::Func &stage);
/// The node's own Func is its steered stage unless its lowering named another.
void steer_rules_by_default(const LowerContext &ctx, const ir::Node &node, const Halide::Func &f);
/// The rule the user gave for the node being lowered, noting which directives
/// the calling schedule honours; empty unless `stage` is the node's steered stage.
NodeSchedule requested_schedule(const LowerContext &ctx, const Halide::Func &stage,
                                std::initializer_list<const char *> usable);
/// The user's rules for node `n` (class < op < node merged); empty without rules.
NodeSchedule node_rule(const LowerContext &ctx, const ir::Node &n);
/// Notes what the schedule chose for the current node's steered stage (`strata schedule dump`).
void record_schedule(const LowerContext &ctx, const Halide::Func &stage, const NodeSchedule &chosen);

/// Fuses the loops `vars` (innermost first) of `stage` into one, named
/// `prefix` + the index of each var fused in; returns it (vars[0] when alone).
Halide::Var fuse_loops(Halide::Stage stage, const std::vector<Halide::Var> &vars, const std::string &prefix);

/// A helper stage stored whole (no schedule at all when autoscheduling).
void store_whole(Halide::Func f, const LowerContext &ctx);
/// Computed whole before its consumers, on the host even for a GPU target: a run-time check
/// that reports a message (GPU kernels cannot print strings). Its placement is final.
void store_on_host(Halide::Func f, const LowerContext &ctx);

/// A loop dimension of a Func together with its (static) extent.
struct LoopDim {
    Halide::Var var;
    int64_t extent;
};

/// A reduction computed in a small accumulator Func `acc` at tiles of its
/// consumer `out` (conv, matmul, pool): `x` is vectorised, `c` is unrolled, so
/// an x-by-c tile of accumulators stays in registers across the reduction.
struct TiledReduction {
    Halide::Func out;  ///< the node's steered stage (unless `steered` is false)
    Halide::Func acc;
    LoopDim x;                       ///< vectorised (innermost) dimension
    LoopDim c;                       ///< unrolled dimension (output channels, rows)
    std::vector<LoopDim> outer;      ///< the remaining pure dims, innermost first
    std::vector<Halide::RVar> rvars; ///< reduction vars, innermost first
    DType dtype;
    /// Multiply-adds per output element (decides whether threads pay off).
    int64_t work_per_output;
    /// The operand every output along x reads alike (conv weights, a matmul's
    /// left rows), or undefined: GPU schedules stage its tiles in shared memory.
    Halide::Func broadcast_operand;
    /// A stored copy of the input the reduction reads (zero-padded or split by
    /// phase), or undefined. On CPUs, when one channel tile covers every row,
    /// each parallel task computes the part it reads: it stays in cache
    /// instead of going to memory and back.
    Halide::Func staged_input;
    /// CPU: `out` is computed inside the tasks of a consumer that stores the
    /// node (not stored whole, no threads of its own); the caller places it.
    bool nested = false;
    /// Whether user rules steer `out` (false: the node's rules steer another stage).
    bool steered = true;
};

/// The widest power-of-two vector (at most the natural width, at least 4
/// lanes) that fits in `extent`; 0 when even 4 lanes do not fit.
int vector_factor(int natural, int64_t extent);
/// The default width of a tiled reduction's register tile along its
/// innermost dim: two vectors when the extent holds them, else one (the
/// whole extent when scalar). The last tile is shifted inwards.
int64_t default_tile_width(int lanes, int64_t extent);

/// Conv, matmul and pool: register-tiled, vectorised, parallel over outer
/// tiles. Returns whether the outer loops are parallel (when nested: whether
/// the caller's should be).
bool schedule_tiled_reduction(const TiledReduction &r, const LowerContext &ctx);

/// The stages of a conv weight gradient: `partial` keeps the innermost
/// output position `ox` as a pure dim; `acc` sums it away into `out`.
struct ConvGradWeightStages {
    Halide::Func out, acc, partial;  ///< `out` is the steered stage
    Halide::Var ox;
    int64_t ox_extent;
    std::vector<Halide::Var> weight_vars;  ///< IR order: co, ci, k...
    Shape weight_shape;
    std::vector<Halide::RVar> rvars;  ///< partial's reduction, innermost first
    /// grad_output extended by zeros past its last position, or undefined:
    /// when defined, partial may round its positions up to whole vectors.
    Halide::Func staged_grad_output;
};
void schedule_conv_grad_weight(const ConvGradWeightStages &s, DType dtype, const LowerContext &ctx);

/// A zero-padded copy of a conv input, stored whole. `row_pitch` > 0: the
/// copy's innermost dim holds rows of that length end to end.
void schedule_padded_input(Halide::Func padded, const LowerContext &ctx, int row_pitch = 0);
/// CPU: such a copy made inside each parallel task of `consumer` instead, for
/// the part the task reads: it stays in cache rather than going to memory and
/// back. `task` is the consumer's parallel loop.
void stage_in_task(Halide::Func staged, const Halide::Func &consumer, const Halide::Var &task);
/// Whether a batch has enough images (two per thread) for one parallel task
/// per image: each task can then stage its own image's input copy.
bool task_per_image(int64_t images, const LowerContext &ctx);

/// The cross-node fusions of the default CPU schedules, decided before
/// lowering from the program alone (fusion.cpp): a max-pool gradient's argmax
/// in the loops of its forward pool.
std::vector<Fusion> plan_fusions(const LowerContext &ctx);
/// The fusion planned for node `consumer`'s stage `stage`, or nullptr.
const Fusion *planned_fusion(const LowerContext &ctx, int consumer, const std::string &stage);
/// Fusion::how of a conv's tiles computed in its epilogue's loops.
inline const char *const kEpilogueFusion = "compute_at";
/// The pointwise nodes from conv `conv` to its epilogue (the last), each the
/// only reader of the one before, all inlined by default but the last, which
/// is stored; empty when the conv has no epilogue to fuse into.
std::vector<const ir::Node *> epilogue_chain(const LowerContext &ctx, const ir::Node &conv);
/// The epilogue fusion planned for conv node `conv`, or nullptr.
const Fusion *planned_epilogue(const LowerContext &ctx, int conv);
/// A stored elementwise node that computes the tiles of the convs fused into
/// it (LowerContext::nested_tiles) per (image, channel block) of its loops.
void schedule_conv_epilogue(Halide::Func f, const Shape &shape, DType dtype,
                            const std::vector<LowerContext::NestedTiles> &convs, const LowerContext &ctx);

/// After lowering: each node its lowering did not store is stored whole
/// (an output, read twice, or read many times by a conv, pool or matmul) and
/// scheduled elementwise, or inlined into its consumers; its rule's
/// `compute` directive overrides the default (placement.cpp).
void place_remaining_nodes(LowerContext &ctx);

/// A materialised pointwise or layout node: vectorised along the innermost
/// dimension, parallel over the outer ones when it is big enough. Two Funcs
/// of one shape get loops of the same names (they can share them).
void schedule_elementwise(Halide::Func f, const Shape &shape, DType dtype, const LowerContext &ctx);

/// A plain reduction `acc` (pure init + one update over `rvars`) computed at root.
/// `reduces_innermost` says whether the innermost output dim is itself reduced.
void schedule_reduction(Halide::Func acc, const Shape &out_shape, DType dtype,
                        const std::vector<Halide::RVar> &rvars, int64_t reduced_size, const LowerContext &ctx);

/// The GPU variants (schedules/gpu.cpp): blocks and threads, register tiles,
/// shared-memory operand tiles, two-stage reductions.
void store_whole_gpu(Halide::Func f, const LowerContext &ctx);
void schedule_tiled_reduction_gpu(const TiledReduction &r, const LowerContext &ctx);
void schedule_conv_grad_weight_gpu(const ConvGradWeightStages &s, DType dtype, const LowerContext &ctx);
void schedule_padded_input_gpu(Halide::Func padded, const LowerContext &ctx);
void schedule_elementwise_gpu(Halide::Func f, const Shape &shape, DType dtype, const LowerContext &ctx);
void schedule_reduction_gpu(Halide::Func acc, const Shape &out_shape, DType dtype,
                            const std::vector<Halide::RVar> &rvars, int64_t reduced_size, const LowerContext &ctx);

}  // namespace strata::codegen
