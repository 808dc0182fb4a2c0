// Cross-node fusions, decided before lowering from the program alone: which
// stages of different nodes share loops. Today one kind: a max-pool
// gradient's argmax computed in the loops of the forward pool over the same
// input and windows, vector by vector, so x is read from memory once (by the
// forward) and from L1 by the argmax.

#include "codegen/schedules/forms.h"

#include <fmt/core.h>

namespace strata::codegen {

using namespace Halide;
using ir::Op;

namespace {

bool is_max_pool(const ir::Node &n) { return n.op == Op::max_pool1d || n.op == Op::max_pool2d; }
bool is_max_pool_grad(const ir::Node &n) { return n.op == Op::max_pool1d_grad || n.op == Op::max_pool2d_grad; }

/// Whether `pool`, lowered before `grad`, computes the windows grad's argmax
/// reads, in loops the argmax can share: both take the tap-by-tap form of
/// small windows and the default elementwise schedule (a rule on the
/// forward node may have changed its loops), and the forward is live.
bool shares_windows(const ir::Node &pool, const ir::Node &grad, const LowerContext &ctx) {
    if (!is_max_pool(pool) || pool.input(0) != grad.input(0)) return false;
    const size_t s = grad.shape().size() - 2;
    const PoolWindow w = pool_window(pool, s), g = pool_window(grad, s);
    return g.taps() <= kMaxUnrolledPoolTaps && pool.shape() == grad.inputs.back()->shape() &&
           pool.dtype() == grad.dtype() && w.kernel == g.kernel && w.stride == g.stride && w.padding == g.padding &&
           w.dilation == g.dilation && node_rule(ctx, pool).empty() && ctx.live[static_cast<size_t>(pool.id)];
}

}  // namespace

std::vector<Fusion> plan_fusions(const LowerContext &ctx) {
    std::vector<Fusion> fusions;
    // Only the CPU default schedules lower small pool windows tap by tap.
    if (!ctx.cpu_tuned_forms()) return fusions;
    const auto &nodes = ctx.program.nodes();
    for (size_t g = 0; g < nodes.size(); ++g) {
        if (!is_max_pool_grad(*nodes[g])) continue;
        for (size_t p = 0; p < g; ++p) {
            if (!shares_windows(*nodes[p], *nodes[g], ctx)) continue;
            fusions.push_back({nodes[g]->id, "_argmax", nodes[p]->id, "x read from memory once"});
            break;
        }
    }
    return fusions;
}

const Fusion *planned_fusion(const LowerContext &ctx, int consumer, const std::string &stage) {
    for (const Fusion &f : ctx.fusions)
        if (f.consumer == consumer && f.stage == stage) return &f;
    return nullptr;
}

std::string describe_fusion(const Fusion &fusion, const ir::Program &program) {
    auto label = [&](int id) {
        for (const auto &n : program.nodes())
            if (n->id == id) return fmt::format("%{} ({})", id, n->name());
        return fmt::format("%{}", id);
    };
    return fmt::format("fused: {} {} in the loops of {} (compute_with): {}", label(fusion.consumer), fusion.stage,
                       label(fusion.producer), fusion.why);
}

void schedule_max_pool_argmax(const ir::Node &grad, const MaxPoolArgmaxStages &s, const LowerContext &ctx) {
    Func argmax = s.argmax;
    schedule_elementwise(argmax, s.windows_shape, s.dtype, ctx);
    // Vector by vector in the forward pool's loops (same loop names: both
    // take schedule_elementwise over the same shape).
    if (const Fusion *fusion = planned_fusion(ctx, grad.id, "_argmax")) {
        const Func &forward = ctx.funcs.at(static_cast<size_t>(fusion->producer));
        argmax.compute_with(forward, forward.args()[0]);
    }
}

}  // namespace strata::codegen
