// Default CPU schedules. The numbers (tile sizes, task sizes) come from the
// measurements in shared/HALIDE-NOTES.md: 16-24 vector accumulators keep
// LLVM from spilling; reduction loops must sit outside the unrolled tile.

#include "codegen/schedules/schedule.h"

#include <algorithm>

namespace strata::codegen {

using namespace Halide;

namespace {

/// The widest power-of-two vector (at most the natural width, at least 4
/// lanes) that fits in `extent`; 0 when even 4 lanes do not fit.
int vector_factor(int natural, int64_t extent) {
    int v = natural;
    while (v > 4 && v > extent) v /= 2;
    return v <= extent ? v : 0;
}

/// Below this many multiply-adds, waking the thread pool costs more than it saves.
constexpr int64_t kMinParallelWork = 1 << 15;
/// The least work (elements or multiply-adds) worth one parallel task.
constexpr int64_t kMinTaskWork = 1 << 14;

}  // namespace

void schedule_tiled_reduction(const TiledReduction &r, const LowerContext &ctx) {
    Func out = r.out, acc = r.acc;
    if (ctx.simple_schedules) {
        out.compute_root();
        acc.compute_root();
        ctx.stored_funcs.insert(out.name());
        return;
    }
    const int vec = vector_factor(ctx.vector_width(r.dtype), r.x.extent);
    const int64_t xt = vec == 0 ? r.x.extent : (r.x.extent >= 2 * vec ? 2 * vec : vec);
    const int64_t x_vectors = vec == 0 ? 1 : xt / vec;
    const int64_t ct = std::max<int64_t>(1, std::min<int64_t>(r.c.extent, 16 / x_vectors));

    Var xo("xo"), xi("xi"), co("co"), ci("ci");
    out.compute_root();
    ctx.stored_funcs.insert(out.name());
    out.split(r.x.var, xo, xi, static_cast<int>(xt)).split(r.c.var, co, ci, static_cast<int>(ct));
    std::vector<VarOrRVar> order = {xi, ci, xo, co};
    for (const LoopDim &d : r.outer) order.push_back(d.var);
    out.reorder(order);
    if (vec) out.vectorize(xi, vec);

    int64_t outputs = r.x.extent * r.c.extent;
    for (const LoopDim &d : r.outer) outputs *= d.extent;
    if (outputs * r.work_per_output >= kMinParallelWork) {
        // One parallel loop over every tile row: co fused with the outer dims.
        VarOrRVar task = co;
        for (size_t i = 0; i < r.outer.size(); ++i) {
            Var fused("task" + std::to_string(i));
            out.fuse(task.var, r.outer[i].var, fused);
            task = fused;
        }
        // Tasks of at least kMinTaskWork multiply-adds: a parallel loop of
        // tiny tasks spends more on the thread pool than on the work.
        const int64_t work_per_row = r.x.extent * ct * r.work_per_output;
        out.parallel(task.var, static_cast<int>(std::max<int64_t>(1, kMinTaskWork / std::max<int64_t>(work_per_row, 1))));
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
}

void schedule_elementwise(Func f, const Shape &shape, DType dtype, const LowerContext &ctx) {
    f.compute_root();
    ctx.stored_funcs.insert(f.name());
    if (ctx.simple_schedules) return;
    if (shape.empty()) return;
    std::vector<Var> args = f.args();  // innermost first
    const int vec = vector_factor(ctx.vector_width(dtype), shape.back());
    if (vec) f.vectorize(args[0], vec);
    if (args.size() >= 2 && shape_numel(shape) >= kMinParallelWork) {
        Var task = args[1];
        for (size_t i = 2; i < args.size(); ++i) {
            Var fused("task" + std::to_string(i));
            f.fuse(task, args[i], fused);
            task = fused;
        }
        // Tasks of at least kMinTaskWork elements (see schedule_tiled_reduction).
        f.parallel(task, static_cast<int>(std::max<int64_t>(1, kMinTaskWork / shape.back())));
    }
}

void schedule_padded_input(Func padded, const LowerContext &ctx) {
    padded.compute_root();
    if (ctx.simple_schedules) return;
    std::vector<Var> args = padded.args();
    padded.vectorize(args[0], ctx.vector_width(DType::f32) / 2, TailStrategy::GuardWithIf);
    padded.parallel(args.back());
}

void schedule_conv_grad_weight(const ConvGradWeightStages &st, DType dtype, const LowerContext &ctx) {
    Func out = st.out, acc = st.acc, partial = st.partial;
    out.compute_root();
    ctx.stored_funcs.insert(out.name());
    if (ctx.simple_schedules) {
        acc.compute_root();
        partial.compute_root();
        return;
    }
    acc.compute_at(out, st.weight_vars[0]);
    // One task per output channel; inside it the whole per-channel partial
    // sum is vectorised along the output positions (contiguous in memory).
    out.parallel(st.weight_vars[0]);
    partial.compute_at(out, st.weight_vars[0]);
    const int vec = vector_factor(ctx.vector_width(dtype), st.ox_extent);
    if (vec) {
        partial.vectorize(st.ox, vec);
        Stage update = partial.update();
        Var oxo("oxo"), oxi("oxi");
        // Rounding the last vector up would read past the input: predicate those loads.
        update.split(st.ox, oxo, oxi, vec, TailStrategy::PredicateLoads);
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
    acc.compute_root();
    if (out_shape.empty() || ctx.simple_schedules) return;
    std::vector<Var> args = acc.args();
    // Tuple reductions (argmax) stay scalar: Halide 14 computes the guarded
    // tail of a vectorised Tuple update wrongly (checked against "simple").
    const int vec = acc.outputs() > 1 ? 0 : vector_factor(ctx.vector_width(dtype), out_shape.back());
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
    if (shape_numel(out_shape) * reduced_size >= kMinParallelWork && args.size() >= 2) {
        const Var &outer = args.back();
        acc.parallel(outer);
        update.parallel(outer);
    }
}

}  // namespace strata::codegen
