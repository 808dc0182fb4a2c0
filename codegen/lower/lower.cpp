#include "codegen/lower/lower.h"

#include "codegen/schedules/schedule.h"

#include <strata/error.h>

namespace strata::codegen {

using namespace Halide;
using ir::Op;
using ir::OpClass;

namespace {

Func lower_node(const ir::Node &node, LowerContext &ctx) {
    switch (node.op) {
    case Op::conv1d_grad_weight: case Op::conv2d_grad_weight: return lower_conv_grad_weight(node, ctx);
    case Op::max_pool1d_grad: case Op::max_pool2d_grad: case Op::avg_pool1d_grad: case Op::avg_pool2d_grad:
    case Op::adaptive_avg_pool1d_grad: case Op::adaptive_avg_pool2d_grad: return lower_pool_grad(node, ctx);
    case Op::pad_grad: return lower_pad_grad(node, ctx);
    case Op::cross_entropy: return lower_cross_entropy(node, ctx);
    case Op::batch_norm_train: return lower_batch_norm_train(node, ctx);
    case Op::batch_norm_train_grad: return lower_batch_norm_train_grad(node, ctx);
    case Op::cross_entropy_grad: return lower_cross_entropy_grad(node, ctx);
    default: break;
    }
    switch (node.info().op_class) {
    case OpClass::source: return lower_source(node, ctx);
    case OpClass::pointwise: return lower_pointwise(node, ctx);
    case OpClass::reduction: return lower_reduction(node, ctx);
    case OpClass::matmul: return lower_matmul(node, ctx);
    case OpClass::conv: return lower_conv(node, ctx);
    case OpClass::pool: return lower_pool(node, ctx);
    case OpClass::layout: return lower_layout(node, ctx);
    }
    STRATA_ASSERT(false, "unhandled op class");
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

}  // namespace

LoweredProgram lower_program(const ir::Program &program, const Target &target, const LowerOptions &options) {
    const size_t n = program.nodes().size();
    LowerContext ctx{program, target, std::vector<Func>(n), std::vector<ImageParam>(n), std::vector<int>(n, 0),
                     std::vector<bool>(n, false), std::vector<bool>(n, false), options.simple_schedules, options.constants, {}};
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

    LoweredProgram lowered;
    for (const auto &node : program.nodes()) {
        const size_t id = static_cast<size_t>(node->id);
        ctx.funcs[id] = lower_node(*node, ctx);
        if ((node->op == Op::input || node->op == Op::parameter) && ctx.params[id].defined()) {
            lowered.sources.push_back(node.get());
            lowered.source_params.push_back(ctx.params[id]);
        }
    }

    // Where each remaining node is computed: stored when it is an output, is
    // read by several consumers, or feeds an op that rereads its input;
    // otherwise inlined into its consumer.
    for (const auto &node : program.nodes()) {
        const size_t id = static_cast<size_t>(node->id);
        Func &f = ctx.funcs[id];
        if (ctx.stored_funcs.count(f.name())) continue;
        const bool is_source = node->info().op_class == OpClass::source;
        const bool store = ctx.is_output[id] ||
                           (!is_source && (ctx.consumers[id] >= 2 || ctx.feeds_heavy_op[id]));
        if (store) schedule_elementwise(f, node->shape(), node->dtype(), ctx);
    }

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
    lowered.pipeline = Pipeline(lowered.outputs);
    return lowered;
}

}  // namespace strata::codegen
