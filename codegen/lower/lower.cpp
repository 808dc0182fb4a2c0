#include "codegen/lower/lower.h"

#include "codegen/plan/partition.h"  // rereads_inputs: a plan cuts where the lowering stores
#include "codegen/schedules/schedule.h"

#include <strata/error.h>

namespace strata::codegen {

using namespace Halide;
using ir::Lowering;
using ir::Op;
using ir::OpClass;

namespace {

/// The lowering ops.def names for the node's op.
Func lower_node(const ir::Node &node, LowerContext &ctx) {
    switch (node.info().lowering) {
    case Lowering::source: return lower_source(node, ctx);
    case Lowering::pointwise: return lower_pointwise(node, ctx);
    case Lowering::reduction: return lower_reduction(node, ctx);
    case Lowering::matmul: return lower_matmul(node, ctx);
    case Lowering::conv: return lower_conv(node, ctx);
    case Lowering::pool: return lower_pool(node, ctx);
    case Lowering::layout: return lower_layout(node, ctx);
    case Lowering::conv_grad_weight: return lower_conv_grad_weight(node, ctx);
    case Lowering::pool_grad: return lower_pool_grad(node, ctx);
    case Lowering::pool_indices: return lower_pool_indices(node, ctx);
    case Lowering::unpool: return lower_unpool(node, ctx);
    case Lowering::unpool_grad: return lower_unpool_grad(node, ctx);
    case Lowering::resample: return lower_resample(node, ctx);
    case Lowering::resample_grad: return lower_resample_grad(node, ctx);
    case Lowering::pad_grad: return lower_pad_grad(node, ctx);
    case Lowering::cross_entropy: return lower_cross_entropy(node, ctx);
    case Lowering::cross_entropy_grad: return lower_cross_entropy_grad(node, ctx);
    case Lowering::batch_norm_train: return lower_batch_norm_train(node, ctx);
    case Lowering::batch_norm_train_grad: return lower_batch_norm_train_grad(node, ctx);
    }
    STRATA_ASSERT(false, "{}: unhandled lowering", node.label());
}

void constrain_output(Func &f, const Shape &shape) {
    const Shape strides = contiguous_strides(shape);
    OutputImageParam buf = f.output_buffer();
    for (size_t i = 0; i < shape.size(); ++i) {
        const int hd = static_cast<int>(shape.size() - 1 - i);
        buf.dim(hd).set_bounds(0, static_cast<int>(shape[i])).set_stride(static_cast<int>(strides[i]));
    }
}

/// Node rules must fit their node: each names a node of the program and only
/// directives its schedule can take (class and op rules apply where they fit).
void check_node_rules(const LowerContext &ctx) {
    if (!ctx.rules || ctx.simple() || ctx.autoscheduled()) return;
    const bool gpu = ctx.target.has_gpu_feature();
    for (const auto &[id_text, rule] : ctx.rules->node_rules()) {
        const int id = std::stoi(id_text.substr(1));
        const ir::Node *node = nullptr;
        for (const auto &n : ctx.program.nodes())
            if (n->id == id) node = n.get();
        if (!node) fail("schedule: node {} does not exist in the program (`strata schedule dump` lists its nodes)", id_text);
        auto it = ctx.chosen.find(id);
        const std::set<std::string> none;
        const std::set<std::string> &usable = it == ctx.chosen.end() ? none : it->second.usable;
        for (const std::string &d : rule.directives()) {
            if (d == "gpu_threads" && !gpu)
                fail("schedule for {}: gpu_threads needs a GPU target (this is {})", node->label(), ctx.target.to_string());
            if (d != "gpu_threads" && !usable.count(d)) {
                std::string can;
                for (const std::string &u : usable) can += (can.empty() ? "" : ", ") + u;
                fail("schedule for {}: directive '{}' does not apply to it (it takes: {})", node->label(), d,
                     can.empty() ? "none; it is a source or is always stored" : can);
            }
        }
    }
}

/// The one decision of how the program is scheduled (see LowerMode).
LowerMode lower_mode(const Target &target, const LowerOptions &options) {
    if (options.autoschedule) return LowerMode::autoschedule;
    if (target.has_gpu_feature() || options.gpu_schedules_on_cpu)
        return options.simple_schedules ? LowerMode::gpu_simple : LowerMode::gpu;
    return options.simple_schedules ? LowerMode::simple : LowerMode::tuned;
}

}  // namespace

LoweredProgram lower_program(const ir::Program &program, const Target &target, const LowerOptions &options) {
    const size_t n = program.nodes().size();
    LowerContext ctx(program, target, lower_mode(target, options));
    ctx.constants = options.constants;
    ctx.rules = options.rules;
    ctx.gpu_on_cpu = options.gpu_schedules_on_cpu && !target.has_gpu_feature();
    for (const auto &node : program.nodes()) {
        if (node->type.numel() == 0)
            fail("{}: zero-size tensors ({}) cannot be compiled yet", node->label(), ir::type_str(node->type));
        if (node->type.numel() > std::numeric_limits<int32_t>::max())
            fail("{}: {} has {} elements; compiled kernels index with 32 bits (at most 2^31-1 elements)",
                 node->label(), ir::type_str(node->type), node->type.numel());
        for (const ir::Node *in : node->inputs) {
            ctx.consumers[static_cast<size_t>(in->id)]++;
            if (rereads_inputs(*node)) ctx.feeds_heavy_op[static_cast<size_t>(in->id)] = true;
        }
    }
    for (const ir::Output &out : program.outputs()) {
        ctx.consumers[static_cast<size_t>(out.node->id)]++;
        ctx.is_output[static_cast<size_t>(out.node->id)] = true;
    }
    std::vector<const ir::Node *> pending;
    for (const ir::Output &out : program.outputs()) pending.push_back(out.node);
    while (!pending.empty()) {
        const ir::Node *n = pending.back();
        pending.pop_back();
        if (ctx.live[static_cast<size_t>(n->id)]) continue;
        ctx.live[static_cast<size_t>(n->id)] = true;
        for (const ir::Node *in : n->inputs) pending.push_back(in);
    }

    ctx.fusions = plan_fusions(ctx);

    LoweredProgram lowered;
    lowered.fusions = ctx.fusions;
    for (const auto &node : program.nodes()) {
        const size_t id = static_cast<size_t>(node->id);
        ctx.current = node.get();
        ctx.funcs[id] = lower_node(*node, ctx);
        steer_rules_by_default(ctx, *node, ctx.funcs[id]);
        if ((node->op == Op::input || node->op == Op::parameter) && ctx.params[id].defined()) {
            lowered.sources.push_back(node.get());
            lowered.source_params.push_back(ctx.params[id]);
        }
    }

    place_remaining_nodes(ctx);
    check_node_rules(ctx);

    std::vector<bool> used(n, false);
    for (const ir::Output &out : program.outputs()) {
        const size_t id = static_cast<size_t>(out.node->id);
        Func f = ctx.funcs[id];
        if (used[id]) {
            // The same node under two names: the second gets its own copy.
            auto vars = make_vars(out.node->shape().size());
            Func copy(func_name(*out.node, "_copy"));
            define(copy, vars, call(f, as_index(vars)));
            schedule_elementwise(copy, out.node->shape(), out.node->dtype(), ctx);
            f = copy;
        }
        used[id] = true;
        constrain_output(f, out.node->shape());
        lowered.outputs.push_back(f);
    }
    if (lowered.outputs.empty()) fail("cannot compile a program with no outputs");
    for (const auto &[id, c] : ctx.chosen)
        if (!c.schedule.empty()) lowered.schedule[id] = c.schedule;
    lowered.pipeline = Pipeline(lowered.outputs);
    return lowered;
}

}  // namespace strata::codegen
