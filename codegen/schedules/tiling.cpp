// Default CPU schedules. The numbers (tile sizes, task sizes) come from the
// measurements in shared/HALIDE-NOTES.md: 16-24 vector accumulators keep
// LLVM from spilling; reduction loops must sit outside the unrolled tile.

#include "codegen/schedules/schedule.h"

#include <algorithm>

namespace strata::codegen {

using namespace Halide;

int vector_factor(int natural, int64_t extent) {
    int v = natural;
    while (v > 4 && v > extent) v /= 2;
    return v <= extent ? v : 0;
}

int64_t default_tile_width(int lanes, int64_t extent) {
    if (lanes == 0) return extent;
    return extent >= 2 * lanes ? 2 * lanes : lanes;
}

namespace {

/// Below this many multiply-adds, waking the thread pool costs more than it saves.
constexpr int64_t kMinParallelWork = 1 << 15;
/// The least work (elements or multiply-adds) worth one parallel task.
constexpr int64_t kMinTaskWork = 1 << 14;

/// The user's lane count (1 means scalar: 0 here), or the default.
int chosen_lanes(const NodeSchedule &want, int default_lanes) {
    if (!want.vector_lanes) return default_lanes;
    return *want.vector_lanes == 1 ? 0 : static_cast<int>(*want.vector_lanes);
}

std::string node_label(const LowerContext &ctx) { return ctx.current ? ctx.current->label() : "a node"; }

/// A directive value that does not fit the node is an error naming both.
void check_fits(const LowerContext &ctx, bool ok, const std::string &what) {
    if (!ok) fail("schedule for {}: {}", node_label(ctx), what);
}

/// `lanes` must fit in the innermost extent they vectorise.
void check_lanes_fit(const LowerContext &ctx, int lanes, int64_t extent) {
    check_fits(ctx, lanes <= extent, fmt::format("vectorize={} is wider than the innermost extent {}", lanes, extent));
}

}  // namespace

namespace {

/// True when `stage` is the current node's steered stage (see steer_rules_at).
bool is_steered(const LowerContext &ctx, const Func &stage) {
    if (!ctx.current) return false;
    auto it = ctx.chosen.find(ctx.current->id);
    return it != ctx.chosen.end() && it->second.steered == stage.name();
}

}  // namespace

void steer_rules_at(const LowerContext &ctx, const Func &stage) {
    STRATA_ASSERT(ctx.current, "a steered stage belongs to the node being lowered");
    ctx.chosen[ctx.current->id].steered = stage.name();
}

void steer_rules_by_default(const LowerContext &ctx, const ir::Node &node, const Func &f) {
    std::string &steered = ctx.chosen[node.id].steered;
    if (steered.empty()) steered = f.name();
}

NodeSchedule requested_schedule(const LowerContext &ctx, const Func &stage, std::initializer_list<const char *> usable) {
    if (!is_steered(ctx, stage)) return {};
    LowerContext::Chosen &c = ctx.chosen[ctx.current->id];
    for (const char *d : usable) c.usable.insert(d);
    return node_rule(ctx, *ctx.current);
}

NodeSchedule node_rule(const LowerContext &ctx, const ir::Node &n) {
    if (!ctx.rules) return {};
    return ctx.rules->resolve(ir::op_class_name(n.info().op_class), n.name(), "%" + std::to_string(n.id));
}

void record_schedule(const LowerContext &ctx, const Func &stage, const NodeSchedule &chosen) {
    if (!is_steered(ctx, stage)) return;
    ctx.chosen[ctx.current->id].schedule.merge(chosen);
}

Var fuse_loops(Stage stage, const std::vector<Var> &vars, const std::string &prefix) {
    Var fused = vars.at(0);
    for (size_t i = 1; i < vars.size(); ++i) {
        Var next(prefix + std::to_string(i));
        stage.fuse(fused, vars[i], next);
        fused = next;
    }
    return fused;
}

void store_whole(Func f, const LowerContext &ctx) {
    if (ctx.autoscheduled()) return;
    if (ctx.gpu()) return store_whole_gpu(f, ctx);
    f.compute_root();
}

void store_on_host(Func f, const LowerContext &ctx) {
    ctx.stored_funcs.insert(f.name());
    record_schedule(ctx, f, NodeSchedule().compute_root());  // so the dump lists it, on CPU and GPU
    if (ctx.autoscheduled()) return;
    f.compute_root();
}

bool schedule_tiled_reduction(const TiledReduction &r, const LowerContext &ctx) {
    Func out = r.out, acc = r.acc;
    if (r.steered) steer_rules_at(ctx, out);
    if (ctx.autoscheduled()) return false;
    if (ctx.gpu()) {
        schedule_tiled_reduction_gpu(r, ctx);
        return false;
    }
    if (ctx.simple()) {
        out.compute_root();
        acc.compute_root();
        ctx.stored_funcs.insert(out.name());
        return false;
    }
    const NodeSchedule want = requested_schedule(ctx, out, {"vectorize", "tile", "parallel", "task"});
    const int vec = chosen_lanes(want, vector_factor(ctx.vector_width(r.dtype), r.x.extent));
    check_lanes_fit(ctx, vec, r.x.extent);
    int64_t xt = default_tile_width(vec, r.x.extent);
    if (want.tile_x) xt = *want.tile_x;
    int64_t x_vectors = vec == 0 ? 1 : std::max<int64_t>(1, xt / std::max(vec, 1));
    int64_t ct = std::max<int64_t>(1, std::min<int64_t>(r.c.extent, 16 / x_vectors));
    if (want.tile_c) ct = *want.tile_c;
    // Few rows (the input gradient of a conv with 3 input channels): widen the
    // tile along x instead, so that 12-16 accumulators hide the FMA latency.
    if (vec && !want.tile_x && ct * x_vectors < 12) {
        x_vectors = std::max(x_vectors, std::min<int64_t>(r.x.extent / vec, 16 / ct));
        xt = x_vectors * vec;
    }
    check_fits(ctx, xt <= r.x.extent && ct <= r.c.extent,
               fmt::format("tile={}x{} is larger than the output's {}x{} (innermost extent x rows)", xt, ct,
                           r.x.extent, r.c.extent));
    check_fits(ctx, vec == 0 || xt % vec == 0,
               fmt::format("tile={}x{}: X must be a multiple of the {} vector lanes", xt, ct, vec));

    Var xo("xo"), xi("xi"), co("co"), ci("ci");
    if (!r.nested) {
        out.compute_root();
        ctx.stored_funcs.insert(out.name());
    }
    out.split(r.x.var, xo, xi, static_cast<int>(xt)).split(r.c.var, co, ci, static_cast<int>(ct));
    std::vector<VarOrRVar> order = {xi, ci, xo, co};
    for (const LoopDim &d : r.outer) order.push_back(d.var);
    out.reorder(order);
    if (vec) out.vectorize(xi, vec);

    int64_t outputs = r.x.extent * r.c.extent;
    for (const LoopDim &d : r.outer) outputs *= d.extent;
    const bool parallel = want.parallel_outer.value_or(outputs * r.work_per_output >= kMinParallelWork);
    const int64_t work_per_row = r.x.extent * ct * r.work_per_output;
    // Tasks of at least kMinTaskWork multiply-adds: a parallel loop of tiny
    // tasks spends more on the thread pool than on the work.
    const int64_t task_rows =
        want.task_rows.value_or(std::max<int64_t>(1, kMinTaskWork / std::max<int64_t>(work_per_row, 1)));
    // An input copy (padded or split by phase) for several channel tiles, with
    // two or more images per thread: one task per image (the outermost dim),
    // which makes its image's copy in cache for all the channel tiles (a whole
    // copy went to memory and back), and threads wake once per image.
    const bool by_image = parallel && !r.nested && r.staged_input.defined() && ct < r.c.extent &&
                          !r.outer.empty() && !want.task_rows && task_per_image(r.outer.back().extent, ctx);
    NodeSchedule chosen;
    chosen.vectorize(vec ? vec : 1).tile(xt, ct).parallel(parallel);
    if (parallel && !r.nested && !by_image) chosen.task(task_rows);
    record_schedule(ctx, out, chosen);
    if (by_image) {
        out.parallel(r.outer.back().var);
        stage_in_task(r.staged_input, out, r.outer.back().var);
    } else if (parallel && !r.nested) {
        // One parallel loop over every tile row: co fused with the outer dims.
        std::vector<Var> rows = {co};
        for (const LoopDim &d : r.outer) rows.push_back(d.var);
        const Var task = fuse_loops(out, rows, "task");
        out.parallel(task, static_cast<int>(task_rows));
        if (r.staged_input.defined() && ct >= r.c.extent) stage_in_task(r.staged_input, out, task);
    }

    acc.compute_at(out, xo);
    if (vec) acc.vectorize(r.x.var, vec);
    acc.unroll(r.c.var);
    Stage update = acc.update();
    std::vector<VarOrRVar> update_order;
    Var uxo("uxo"), uxi("uxi");
    if (vec) {
        update.split(r.x.var, uxo, uxi, vec);
        update_order = {uxi, uxo, r.c.var};
    } else {
        update_order = {r.x.var, r.c.var};
    }
    for (const RVar &rv : r.rvars) update_order.push_back(rv);
    for (const LoopDim &d : r.outer) update_order.push_back(d.var);
    update.reorder(update_order);
    if (vec) update.vectorize(uxi).unroll(uxo);
    else if (r.x.extent <= 8) update.unroll(r.x.var);
    update.unroll(r.c.var);
    return parallel;
}

void schedule_elementwise(Func f, const Shape &shape, DType dtype, const LowerContext &ctx) {
    if (ctx.autoscheduled()) return;
    f.compute_root();
    ctx.stored_funcs.insert(f.name());
    if (ctx.gpu()) return schedule_elementwise_gpu(f, shape, dtype, ctx);
    if (ctx.simple() || shape.empty()) return;
    const NodeSchedule want = requested_schedule(ctx, f, {"vectorize", "parallel", "task"});
    std::vector<Var> args = f.args();  // innermost first
    // Layout copies get no vectors of a quarter of the AVX-512 width or less by default:
    // LLVM 14 aborts ("Invalid size request on a scalable vector") on some 4-lane
    // transposing copies (a [4,3] -> [3,4] permute feeding a matmul).
    const int natural = ctx.vector_width(dtype);
    int default_vec = vector_factor(natural, shape.back());
    const bool layout = ctx.current && ctx.current->info().op_class == ir::OpClass::layout;
    if (layout && default_vec > 0 && default_vec * 4 <= natural) default_vec = 0;
    const int vec = chosen_lanes(want, default_vec);
    check_lanes_fit(ctx, vec, shape.back());
    if (vec) f.vectorize(args[0], vec);
    const bool parallel = args.size() >= 2 && want.parallel_outer.value_or(shape_numel(shape) >= kMinParallelWork);
    check_fits(ctx, args.size() >= 2 || !want.parallel_outer.value_or(false),
               "parallel=on needs at least two dimensions (threads split the outer ones)");
    // Tasks of at least kMinTaskWork elements (see schedule_tiled_reduction).
    const int64_t task_rows = want.task_rows.value_or(std::max<int64_t>(1, kMinTaskWork / shape.back()));
    NodeSchedule chosen;
    chosen.vectorize(vec ? vec : 1).parallel(parallel);
    if (parallel) chosen.task(task_rows);
    record_schedule(ctx, f, chosen);
    if (!parallel) return;
    const Var task = fuse_loops(f, std::vector<Var>(args.begin() + 1, args.end()), "task");
    // Split by hand (Func::parallel(var, factor) names the inner loop
    // uniquely), so that two Funcs of one shape have the same loop names and
    // can share their loops (compute_with).
    const Var rows(task.name() + "_rows");
    f.split(task, task, rows, static_cast<int>(task_rows)).parallel(task);
}

void schedule_padded_input(Func padded, const LowerContext &ctx, int row_pitch) {
    if (ctx.autoscheduled()) return;
    if (ctx.gpu()) return schedule_padded_input_gpu(padded, ctx);
    padded.compute_root();
    if (ctx.simple()) return;
    std::vector<Var> args = padded.args();
    Var inner = args[0];
    if (row_pitch > 0) {
        // Loops over whole rows, so i / pitch and i % pitch simplify away.
        Var row("row"), col("col");
        padded.split(args[0], row, col, row_pitch, TailStrategy::GuardWithIf);
        inner = col;
    }
    padded.vectorize(inner, ctx.vector_width(DType::f32) / 2, TailStrategy::GuardWithIf);
    padded.parallel(args.back());
}

void stage_in_task(Func staged, const Func &consumer, const Var &task) {
    // Its outermost loop, parallel when stored whole, covers one task's part now.
    staged.compute_at(consumer, task).serial(staged.args().back());
}

bool task_per_image(int64_t images, const LowerContext &ctx) { return images >= 2 * ctx.parallelism(); }

void schedule_conv_grad_weight(const ConvGradWeightStages &st, DType dtype, const LowerContext &ctx) {
    Func out = st.out, acc = st.acc, partial = st.partial, staged = st.staged_grad_output;
    steer_rules_at(ctx, out);
    if (ctx.autoscheduled()) return;
    if (ctx.gpu()) return schedule_conv_grad_weight_gpu(st, dtype, ctx);
    out.compute_root();
    ctx.stored_funcs.insert(out.name());
    if (ctx.simple()) {
        acc.compute_root();
        partial.compute_root();
        return;
    }
    const NodeSchedule want = requested_schedule(ctx, out, {"vectorize", "parallel"});
    acc.compute_at(out, st.weight_vars[0]);
    // One task per output channel; inside it the whole per-channel partial
    // sum is vectorised along the output positions (contiguous in memory).
    const bool parallel = want.parallel_outer.value_or(true);
    if (parallel) out.parallel(st.weight_vars[0]);
    partial.compute_at(out, st.weight_vars[0]);
    if (staged.defined()) staged.compute_at(out, st.weight_vars[0]);
    const int vec = chosen_lanes(want, vector_factor(ctx.vector_width(dtype), st.ox_extent));
    check_fits(ctx, vec <= st.ox_extent,
               fmt::format("vectorize={} is wider than the {} output positions", vec, st.ox_extent));
    record_schedule(ctx, out, NodeSchedule().vectorize(vec ? vec : 1).parallel(parallel));
    if (vec) {
        // Rounding the last vector up reads past the end: fine where the
        // inputs read zeros there (staged per channel), else predicate those
        // loads. The pure init then covers the rounded-up positions too.
        const bool round_up = staged.defined();
        partial.vectorize(st.ox, vec, round_up ? TailStrategy::RoundUp : TailStrategy::Auto);
        Stage update = partial.update();
        Var oxo("oxo"), oxi("oxi");
        update.split(st.ox, oxo, oxi, vec, round_up ? TailStrategy::RoundUp : TailStrategy::PredicateLoads);
        if (round_up) staged.vectorize(staged.args()[0], vec, TailStrategy::GuardWithIf);
        std::vector<VarOrRVar> order = {oxi};
        // Weight taps and the reduction outside the vector; channels outermost.
        for (size_t i = st.weight_vars.size(); i-- > 2;) order.push_back(st.weight_vars[i]);
        for (const RVar &rv : st.rvars) order.push_back(rv);
        order.push_back(oxo);
        order.push_back(st.weight_vars[1]);
        order.push_back(st.weight_vars[0]);
        update.reorder(order).vectorize(oxi);
        int64_t taps = 1;
        for (size_t i = 2; i < st.weight_shape.size(); ++i) taps *= st.weight_shape[i];
        if (taps <= 32)
            for (size_t i = 2; i < st.weight_vars.size(); ++i) update.unroll(st.weight_vars[i]);
    }
}

void schedule_reduction(Func acc, const Shape &out_shape, DType dtype, const std::vector<RVar> &rvars,
                        int64_t reduced_size, const LowerContext &ctx) {
    if (ctx.autoscheduled()) return;
    if (ctx.gpu()) return schedule_reduction_gpu(acc, out_shape, dtype, rvars, reduced_size, ctx);
    acc.compute_root();
    if (out_shape.empty() || ctx.simple()) return;
    const NodeSchedule want = requested_schedule(ctx, acc, {"vectorize", "parallel"});
    std::vector<Var> args = acc.args();
    // Tuple reductions (argmax) stay scalar: Halide 14 computes the guarded
    // tail of a vectorised Tuple update wrongly (checked against "simple").
    const int vec = acc.outputs() > 1 ? 0 : chosen_lanes(want, vector_factor(ctx.vector_width(dtype), out_shape.back()));
    check_fits(ctx, acc.outputs() == 1 || !want.vector_lanes || *want.vector_lanes == 1,
               "vectorize: an argmax reduction stays scalar (Halide 14 miscomputes vectorised Tuple updates)");
    check_lanes_fit(ctx, vec, out_shape.back());
    const bool parallel = args.size() >= 2 &&
                          want.parallel_outer.value_or(shape_numel(out_shape) * reduced_size >= kMinParallelWork);
    record_schedule(ctx, acc, NodeSchedule().vectorize(vec ? vec : 1).parallel(parallel));
    Stage update = acc.update();
    if (vec) {
        // Vectorise over contiguous outputs with the reduction outside them.
        acc.vectorize(args[0], vec, TailStrategy::GuardWithIf);
        Var vo("vo"), vi("vi");
        // An update cannot shift its last vector inwards (it would accumulate
        // twice), and rounding up reads past the input: predicate the loads
        // (acc is always internal, so its allocation absorbs the extra stores).
        // Not GuardWithIf: Halide 14 drops the vector index from a guarded
        // update whose steady state is one vector (extent vec + 1) when the
        // summand binds a let, e.g. sum(r / d / d, {0}) over [4, 5]: lanes
        // 0-3 got their sum twice and lane 4 nothing.
        update.split(args[0], vo, vi, vec, TailStrategy::PredicateLoads);
        std::vector<VarOrRVar> order = {vi};
        for (const RVar &rv : rvars) order.push_back(rv);
        order.push_back(vo);
        for (size_t i = 1; i < args.size(); ++i) order.push_back(args[i]);
        update.reorder(order).vectorize(vi);
    }
    if (parallel) {
        const Var &outer = args.back();
        acc.parallel(outer);
        update.parallel(outer);
    }
}

}  // namespace strata::codegen
