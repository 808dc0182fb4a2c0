#pragma once
// Internal to codegen: the state shared by the op lowerings. Includes Halide.h.
//
// Conventions. IR shapes are outermost-first (N, C, H, W); Halide's dimension
// 0 is the innermost. Lowerings index in IR order through `call` and
// `define`, which reverse the order once, here. Bool tensors are stored as
// uint8 0/1, both in buffers and in Funcs.

#include "codegen/schedule.h"
#include "ir/program.h"
#include "runtime/tensor.h"

#include <Halide.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace strata::codegen {

/// IR-order index expressions (index[0] is the outermost dimension).
using Index = std::vector<Halide::Expr>;

/// The Halide type that stores a dtype.
Halide::Type halide_type(DType dtype);

/// Fresh pure Vars for a rank, in IR order.
std::vector<Halide::Var> make_vars(size_t rank, const std::string &prefix = "d");

/// Halide argument order (innermost first) from IR order.
std::vector<Halide::Expr> to_halide_args(const Index &ir_index);
std::vector<Halide::Var> to_halide_args(const std::vector<Halide::Var> &ir_vars);
Index as_index(const std::vector<Halide::Var> &vars);

/// f(index) with index in IR order.
Halide::FuncRef call(const Halide::Func &f, const Index &ir_index);
/// f(vars) = value, with vars in IR order.
void define(Halide::Func &f, const std::vector<Halide::Var> &ir_vars, const Halide::Expr &value);

/// The index into an input of `in_shape` when NumPy-broadcast to `out_index`.
Index broadcast_index(const Shape &in_shape, const Index &out_index, const Shape &out_shape);

/// A 0/1 uint8 value from a boolean expression, and back.
Halide::Expr store_bool(const Halide::Expr &condition);
Halide::Expr load_bool(const Halide::Expr &stored);

/// A constant of type t (Halide's cast from a C++ double is ambiguous).
inline Halide::Expr constant(const Halide::Type &t, double value) { return Halide::Internal::make_const(t, value); }

/// The lowest / highest value of a type (-inf / +inf for floats).
Halide::Expr lowest_value(const Halide::Type &t);

/// The CPU threads pipelines run with: $HL_NUM_THREADS, else the core count.
int thread_count();

/// How a whole program is scheduled, decided once (lower_program).
///
/// The mode also picks the algorithm of a few ops, in two visible places:
/// - cpu_tuned_forms(): only `tuned` lowers with the algorithms written for
///   the CPU default schedules (conv_flat_rows, conv_grad_weight_blocked,
///   linear_few_rows, small max/avg pool windows spelled out tap by tap, a
///   conv weight gradient's staged grad_output). `simple` stays the plain
///   reference the tests check the others against; autoschedulers and the GPU
///   schedules get the plain forms, which they tile themselves.
/// - two_stage_reductions(): every mode but the simple ones splits a
///   reduction over the innermost and other dims in two (reduction.cpp).
enum class LowerMode {
    tuned,         ///< the default CPU schedules (schedules/tiling.cpp and the per-form files)
    simple,        ///< CPU reference: every stage stored whole, no vectors, no threads
    gpu,           ///< the default GPU schedules (schedules/gpu.cpp), also run on the CPU
    gpu_simple,    ///< "simple" on a GPU target: every stage stored whole, plain GPU tiles
    autoschedule,  ///< no schedule at all: the pipeline is for one of Halide's autoschedulers
};

/// Two nodes' stages computed in shared loops (Halide's compute_with): a
/// decision of the schedule layer, taken before lowering (plan_fusions in
/// schedules/fusion.cpp), applied by the consumer's schedule, and listed by
/// `strata schedule dump`.
struct Fusion {
    int consumer;       ///< the node whose stage joins the other's loops
    std::string stage;  ///< that stage, as the suffix of its Func name ("_argmax")
    int producer;       ///< the node whose Func's loops it joins
    std::string why;    ///< what sharing the loops saves
};
/// One line for `strata schedule dump`: "%7 (max_pool2d_grad) _argmax in the loops of %5 (max_pool2d): ...".
std::string describe_fusion(const Fusion &fusion, const ir::Program &program);

/// What lowering and scheduling know about the whole program.
struct LowerContext {
    /// Per-node tables sized for `program`; the schedule settings below keep their defaults.
    LowerContext(const ir::Program &program, const Halide::Target &target, LowerMode mode);

    const ir::Program &program;
    Halide::Target target;
    /// The Func computing each node, by node id.
    std::vector<Halide::Func> funcs;
    /// The buffer parameter of each input/parameter node, by node id.
    std::vector<Halide::ImageParam> params;
    /// Number of consumers of each node (outputs count as consumers).
    std::vector<int> consumers;
    /// True for nodes whose consumers include a conv, pool, matmul, reduction or layout op.
    std::vector<bool> feeds_heavy_op;
    /// True for nodes that are program outputs.
    std::vector<bool> is_output;
    /// True for nodes an output depends on (without the IR passes, dead nodes
    /// are lowered too, but their Funcs are not in the pipeline).
    std::vector<bool> live;
    /// Parameters to embed as constants (by name), or nullptr.
    const std::map<std::string, Tensor> *constants = nullptr;
    /// Names of the Funcs a schedule has already placed at root.
    mutable std::set<std::string> stored_funcs;
    /// The user's schedule rules (on top of the defaults), or nullptr.
    const Schedule *rules = nullptr;
    /// The GPU schedules run on the CPU (the "gpu" schedule): GPU blocks
    /// become parallel loops and GPU threads plain ones, to check them
    /// without a GPU.
    bool gpu_on_cpu = false;
    /// The node being lowered (its rule is the one schedules read).
    const ir::Node *current = nullptr;
    /// What the schedules chose for each node, and the directives each could take.
    struct Chosen {
        NodeSchedule schedule;
        std::set<std::string> usable;
        /// The name of the stage the rules steer: the one the node's lowering
        /// names (steer_rules_at), else the node's own Func.
        std::string steered;
    };
    mutable std::map<int, Chosen> chosen;
    /// The cross-node fusions the schedules decided before lowering (plan_fusions).
    std::vector<Fusion> fusions;

    /// How the program is scheduled (see LowerMode).
    LowerMode mode() const { return mode_; }
    /// Every stage stored whole, no vectors or threads (on a GPU: plain tiles).
    bool simple() const { return mode_ == LowerMode::simple || mode_ == LowerMode::gpu_simple; }
    /// The GPU schedules (schedules/gpu.cpp) lay the pipeline out.
    bool gpu() const { return mode_ == LowerMode::gpu || mode_ == LowerMode::gpu_simple; }
    /// No schedule at all (Halide's autoschedulers schedule the pipeline).
    bool autoscheduled() const { return mode_ == LowerMode::autoschedule; }
    /// The algorithm choice by mode (see LowerMode): the CPU-tuned forms.
    bool cpu_tuned_forms() const { return mode_ == LowerMode::tuned; }
    /// The algorithm choice by mode (see LowerMode): two-stage reductions.
    bool two_stage_reductions() const { return !simple(); }

    const Halide::Func &func(const ir::Node *n) const { return funcs.at(static_cast<size_t>(n->id)); }
    /// Elements per SIMD vector of the node's type on the target.
    int vector_width(DType dtype) const;
    /// The CPU thread count to plan parallel tasks for.
    int parallelism() const { return thread_count(); }

private:
    LowerMode mode_;
};

/// The window of a pooling op or its gradient, read from the node's attributes
/// (avg pooling has no dilation attribute: it is 1).
struct PoolWindow {
    ir::Ints kernel, stride, padding, dilation;
    int64_t divisor_override = 0;  ///< avg pooling: every window's divisor when not 0

    /// The input position along spatial dim d that tap k of output window o reads.
    Halide::Expr input_position(size_t d, const Halide::Expr &o, const Halide::Expr &k) const;
    /// Taps per window.
    int64_t taps() const;
    /// The input positions one window spans along spatial dim d (dilated).
    int64_t span(size_t d) const { return dilation[d] * (kernel[d] - 1) + 1; }
    /// Whether every tap of every window of output `os` lies inside input `xs`
    /// (no padding, no ceil_mode overhang), so taps read x without bounds tests.
    bool windows_inside(const Shape &xs, const Shape &os) const;
    /// PyTorch's avg_pool divisor, of type `t`, for the window at output position `o`
    /// (one per spatial dim) of an input `xs`: divisor_override when set, else the
    /// window clipped to the padded input or, without count_include_pad, to the input itself.
    Halide::Expr avg_divisor(const std::vector<Halide::Expr> &o, const Shape &xs, bool count_include_pad,
                             const Halide::Type &t) const;
};
PoolWindow pool_window(const ir::Node &node, size_t spatial_rank);
/// Pool windows (and a gradient's candidate windows) of at most this many taps
/// are spelled out in one pure, vectorised expression rather than reduced
/// over an RDom (CPU default schedules).
constexpr int64_t kMaxUnrolledPoolTaps = 16;

/// Index `index` of a row-major grid of `extents` (the last fastest) as one
/// coordinate per dim: a window's taps, a gradient's candidate windows.
std::vector<int64_t> unflatten(int64_t index, const std::vector<int64_t> &extents);

/// x, an [N, C, spatial...] tensor, extended by `value` outside [0, extent)
/// of its spatial dims (N and C are unbounded).
Halide::Func constant_outside_spatial(const Halide::Func &x, const Shape &shape, const Halide::Expr &value);

/// x zero-padded on its spatial dims and stored whole, so that convolution
/// loops read it without bounds tests (defined in conv.cpp).
Halide::Func stored_zero_padded(const Halide::Func &x, const Shape &shape, const std::string &name,
                                LowerContext &ctx);

/// The input of a conv with stride S > 1 along its innermost spatial dim,
/// zero-padded and re-laid by phase: xP(n, c, outer..., b, q) = x(n, c, outer..., q*S + b).
/// The strided read x(o*S + off) becomes xP(off mod S, o + off div S): unit
/// stride in the output position o, so vector loads stay plain loads (a
/// strided vector load is a gather). Stored whole (defined in conv.cpp).
struct PhaseSplitInput {
    Halide::Func xp;
    int64_t stride;
    /// The index of x(..., o*S + offset) in xp, given x's IR index up to the innermost dim.
    Index at(Index outer, const Halide::Expr &o, const Halide::Expr &offset) const;
};
PhaseSplitInput phase_split_input(const Halide::Func &x, const Shape &shape, int64_t stride, const std::string &name,
                                  LowerContext &ctx);

/// Lowers one node; defined in the per-class files under lower/.
Halide::Func lower_source(const ir::Node &node, LowerContext &ctx);
Halide::Func lower_pointwise(const ir::Node &node, LowerContext &ctx);
Halide::Func lower_reduction(const ir::Node &node, LowerContext &ctx);
Halide::Func lower_matmul(const ir::Node &node, LowerContext &ctx);
Halide::Func lower_conv(const ir::Node &node, LowerContext &ctx);
Halide::Func lower_pool(const ir::Node &node, LowerContext &ctx);
Halide::Func lower_layout(const ir::Node &node, LowerContext &ctx);
Halide::Func lower_conv_grad_weight(const ir::Node &node, LowerContext &ctx);
/// The channel-vectorised, blocked CPU form of an ungrouped conv weight gradient
/// (conv_grad_weight_blocked.cpp), where it applies.
bool blocked_conv_grad_weight_applies(const ir::Node &node, const LowerContext &ctx);
Halide::Func lower_conv_grad_weight_blocked(const ir::Node &node, LowerContext &ctx);
/// The flattened-rows CPU form of stride-1 2-d convs (conv_flat_rows.cpp), where it applies.
bool conv_flat_rows_applies(const ir::Node &node, const LowerContext &ctx);
Halide::Func lower_conv_flat_rows(const ir::Node &node, LowerContext &ctx);
/// The dot-product CPU form of linear for a few rows (linear_few_rows.cpp), where it applies.
bool linear_few_rows_applies(const ir::Node &node, const LowerContext &ctx);
Halide::Func lower_linear_few_rows(const ir::Node &node, LowerContext &ctx);
Halide::Func lower_pool_grad(const ir::Node &node, LowerContext &ctx);
/// max_poolNd_indices, max_unpoolNd and max_unpoolNd_grad (codegen/lower/unpool.cpp).
Halide::Func lower_pool_indices(const ir::Node &node, LowerContext &ctx);
Halide::Func lower_unpool(const ir::Node &node, LowerContext &ctx);
Halide::Func lower_unpool_grad(const ir::Node &node, LowerContext &ctx);
/// upsample_* (F.interpolate) and their gradients (codegen/lower/resample.cpp).
Halide::Func lower_resample(const ir::Node &node, LowerContext &ctx);
Halide::Func lower_resample_grad(const ir::Node &node, LowerContext &ctx);
Halide::Func lower_pad_grad(const ir::Node &node, LowerContext &ctx);
Halide::Func lower_cross_entropy(const ir::Node &node, LowerContext &ctx);
Halide::Func lower_batch_norm_train(const ir::Node &node, LowerContext &ctx);
Halide::Func lower_batch_norm_train_grad(const ir::Node &node, LowerContext &ctx);
Halide::Func lower_cross_entropy_grad(const ir::Node &node, LowerContext &ctx);

/// A Func name for a node: "n5_conv2d".
std::string func_name(const ir::Node &node, const char *suffix = "");

}  // namespace strata::codegen
