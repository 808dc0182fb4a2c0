// Cross-node fusions, decided before lowering from the program alone: which
// stages of different nodes share loops. Two kinds:
// - a max-pool gradient's argmax computed in the loops of the forward pool
//   over the same input and windows, vector by vector, so x is read from
//   memory once (by the forward) and from L1 by the argmax;
// - a 2-d conv's register tiles computed per (image, channel block) inside
//   the loops of its epilogue, the stored elementwise node its output flows
//   into through inlined pointwise ops (bias, batch norm, residual add, relu,
//   a relu's gradient mask): the conv's output never goes to memory and back.

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

/// Longest chain of inlined pointwise ops between a conv and its epilogue.
constexpr size_t kMaxEpilogueChain = 12;

/// 2-d convs: one tiled reduction (a strided transposed conv: its phases,
/// which the epilogue reads interleaved).
bool has_epilogue_form(const ir::Node &n) { return n.op == Op::conv2d || n.op == Op::conv_transpose2d; }

/// The suffix of the conv's tiled stage: "_acc" for the flattened rows and
/// for a transposed conv computed by phase, none otherwise (lower/conv*.cpp).
std::string tiled_stage(const ir::Node &n, const LowerContext &ctx) {
    if (conv_flat_rows_applies(n, ctx)) return "_acc";
    if (n.op != Op::conv_transpose2d) return "";
    const ir::Ints &stride = n.attrs.get_ints("stride"), &dilation = n.attrs.get_ints("dilation");
    for (size_t i = 0; i < stride.size(); ++i)
        if (stride[i] > 1 && dilation[i] == 1) return "_acc";
    return "";
}

/// Whether the default placement stores node `id` (place_remaining_nodes' rule).
bool stored_by_default(const LowerContext &ctx, size_t id) {
    return ctx.is_output[id] || ctx.consumers[id] >= 2 || ctx.feeds_heavy_op[id];
}

/// The one node that reads `n`, or nullptr.
const ir::Node *only_reader(const LowerContext &ctx, const ir::Node &n) {
    const ir::Node *reader = nullptr;
    for (const auto &m : ctx.program.nodes())
        for (const ir::Node *in : m->inputs)
            if (in == &n) {
                if (reader && reader != m.get()) return nullptr;
                reader = m.get();
            }
    return reader;
}

}  // namespace

std::vector<const ir::Node *> epilogue_chain(const LowerContext &ctx, const ir::Node &conv) {
    if (!has_epilogue_form(conv) || !node_rule(ctx, conv).empty() || !ctx.live[static_cast<size_t>(conv.id)])
        return {};
    std::vector<const ir::Node *> chain;
    const ir::Node *at = &conv;
    while (chain.size() < kMaxEpilogueChain) {
        const size_t id = static_cast<size_t>(at->id);
        if (stored_by_default(ctx, id) || ctx.consumers[id] != 1) return {};
        const ir::Node *reader = only_reader(ctx, *at);
        if (!reader || reader->info().op_class != ir::OpClass::pointwise || reader->shape() != conv.shape() ||
            reader->dtype() != conv.dtype() || !node_rule(ctx, *reader).empty())
            return {};
        chain.push_back(reader);
        if (stored_by_default(ctx, static_cast<size_t>(reader->id))) return chain;
        at = reader;
    }
    return {};
}

const Fusion *planned_epilogue(const LowerContext &ctx, int conv) {
    for (const Fusion &f : ctx.fusions)
        if (f.consumer == conv && f.how == kEpilogueFusion) return &f;
    return nullptr;
}

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
    for (const auto &node : nodes) {
        const std::vector<const ir::Node *> chain = epilogue_chain(ctx, *node);
        if (chain.empty()) continue;
        fusions.push_back({node->id, tiled_stage(*node, ctx), chain.back()->id, "the conv's output never goes to memory",
                           kEpilogueFusion});
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
    const std::string stage = fusion.stage.empty() ? "tiles" : fusion.stage + " tiles";
    if (fusion.how == kEpilogueFusion)
        return fmt::format("fused: {} {} per channel block in the loops of its epilogue {} ({}): {}",
                           label(fusion.consumer), stage, label(fusion.producer), fusion.how, fusion.why);
    return fmt::format("fused: {} {} in the loops of {} ({}): {}", label(fusion.consumer), fusion.stage,
                       label(fusion.producer), fusion.how, fusion.why);
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
