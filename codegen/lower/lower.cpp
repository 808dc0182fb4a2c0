#include "codegen/lower/lower.h"

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
    case Lowering::pad_grad: return lower_pad_grad(node, ctx);
    case Lowering::cross_entropy: return lower_cross_entropy(node, ctx);
    case Lowering::cross_entropy_grad: return lower_cross_entropy_grad(node, ctx);
    case Lowering::batch_norm_train: return lower_batch_norm_train(node, ctx);
    case Lowering::batch_norm_train_grad: return lower_batch_norm_train_grad(node, ctx);
    }
    STRATA_ASSERT(false, "{}: unhandled lowering", node.label());
}

/// Ops that read each input element many times: their producers are stored
/// rather than recomputed per read.
bool rereads_inputs(const ir::Node &node) {
    const OpClass c = node.info().op_class;
    if (c == OpClass::conv || c == OpClass::matmul) return true;
    if (c != OpClass::pool) return false;
    // Pools whose windows do not overlap read each element once: their
    // producer (e.g. the relu after a conv) is cheaper inlined.
    if (!node.attrs.has("stride")) return true;
    const ir::Ints &kernel = node.attrs.get_ints("kernel_size"), &stride = node.attrs.get_ints("stride");
    for (size_t i = 0; i < kernel.size(); ++i)
        if (stride[i] < kernel[i]) return true;
    return node.attrs.has("dilation") && node.attrs.get_ints("dilation") != ir::Ints(kernel.size(), 1);
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
    if (!ctx.rules || ctx.simple_schedules || ctx.autoschedule) return;
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

}  // namespace

LoweredProgram lower_program(const ir::Program &program, const Target &target, const LowerOptions &options) {
    const size_t n = program.nodes().size();
    LowerContext ctx(program, target);
    ctx.simple_schedules = options.simple_schedules;
    ctx.constants = options.constants;
    ctx.rules = options.rules;
    ctx.autoschedule = options.autoschedule;
    ctx.gpu_on_cpu = options.gpu_schedules_on_cpu && !target.has_gpu_feature();
    ctx.gpu_schedules = target.has_gpu_feature() || ctx.gpu_on_cpu;
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

    LoweredProgram lowered;
    for (const auto &node : program.nodes()) {
        const size_t id = static_cast<size_t>(node->id);
        ctx.current = node.get();
        ctx.funcs[id] = lower_node(*node, ctx);
        if ((node->op == Op::input || node->op == Op::parameter) && ctx.params[id].defined()) {
            lowered.sources.push_back(node.get());
            lowered.source_params.push_back(ctx.params[id]);
        }
    }

    // Where each remaining node is computed: by default stored when it is an
    // output, is read by several consumers, or feeds an op that rereads its
    // input; otherwise inlined into its consumer.
    for (const auto &node : program.nodes()) {
        const size_t id = static_cast<size_t>(node->id);
        Func &f = ctx.funcs[id];
        if (ctx.stored_funcs.count(f.name()) || ctx.autoschedule) continue;
        if (node->info().op_class == OpClass::source) continue;
        ctx.current = node.get();
        bool store = ctx.is_output[id] || ctx.consumers[id] >= 2 || ctx.feeds_heavy_op[id];
        if (!ctx.is_output[id] && !ctx.simple_schedules) {
            // Outputs are always stored; for the others the rule decides.
            const NodeSchedule want = requested_schedule(ctx, f, {"compute"});
            if (want.inline_into_consumers) store = !*want.inline_into_consumers;
            if (!store) record_schedule(ctx, f, NodeSchedule().compute_inline());
        }
        if (store) {
            if (!ctx.is_output[id]) record_schedule(ctx, f, NodeSchedule().compute_root());
            schedule_elementwise(f, node->shape(), node->dtype(), ctx);
        }
    }
    ctx.current = nullptr;
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
