// The op table (ir/ops.def) is complete: every op in it has a shape rule, a
// VJP rule (or is marked as having none), a lowering and a default schedule on
// CPU and GPU. Each check runs the real dispatch on a small sample of the op,
// so a row added without one of them fails here, naming the op.

#include "codegen/compiler.h"
#include "ir/autodiff/gradients.h"
#include "ir/autodiff/vjp.h"
#include "ir/program.h"

#include <strata/error.h>

#include <catch2/catch.hpp>

#include <string>

using namespace strata;
using namespace strata::ir;

namespace {

Type f32_of(Shape shape) { return {DType::f32, std::move(shape)}; }

Attrs conv_attrs(size_t s) { return {{"stride", Ints(s, 1)}, {"padding", Ints(s, 1)}, {"dilation", Ints(s, 1)}, {"groups", int64_t{1}}}; }

Attrs max_pool_attrs(size_t s) {
    return {{"kernel_size", Ints(s, 2)}, {"stride", Ints(s, 2)}, {"padding", Ints(s, 0)}, {"dilation", Ints(s, 1)},
            {"ceil_mode", false}};
}

Attrs avg_pool_attrs(size_t s) {
    return {{"kernel_size", Ints(s, 2)}, {"stride", Ints(s, 2)}, {"padding", Ints(s, 0)}, {"ceil_mode", false},
            {"count_include_pad", true}, {"divisor_override", int64_t{0}}};
}

Attrs unpool_attrs(size_t s) {
    const Shape spatial = s == 1 ? Shape{8} : Shape{4, 4};  // image(s)'s
    return {{"kernel_size", Ints(s, 2)}, {"stride", Ints(s, 2)}, {"padding", Ints(s, 0)}, {"output_size", spatial}};
}

/// An upsample op's attributes: image(s) doubled, no scale factor (linear ones: align_corners).
Attrs upsample_attrs(Op op, size_t s) {
    Attrs a = {{"output_size", s == 1 ? Ints{16} : Ints{8, 8}}};
    if (s == 1) a.set("scales", 0.0);
    else a.set("scales_h", 0.0).set("scales_w", 2.0);
    const std::string name = op_name(op);
    if (name.find("linear") != std::string::npos) a.set("align_corners", true);
    return a;
}

Attrs cross_entropy_attrs() {
    return {{"ignore_index", int64_t{-100}}, {"label_smoothing", 0.0}, {"reduction", std::string("mean")}};
}

/// The image of rank 2 + s (s spatial dims) the samples of convs and pools read.
Shape image(int64_t s) { return s == 1 ? Shape{2, 3, 8} : Shape{2, 3, 4, 4}; }

/// A small, valid node of `op` in `p` (its float inputs are inputs of p), or
/// nullptr when this test has no sample of it yet.
const Node *sample(Program &p, Op op) {
    const OpInfo &info = op_info(op);
    const int64_t s = info.spatial_rank;
    auto source = [&](const char *name, Shape shape) {
        const Node *found = p.find_source(name);
        return found ? found : p.input(name, f32_of(std::move(shape)));
    };
    auto x = [&](Shape shape = {2, 3}) { return source("x", std::move(shape)); };
    auto y = [&](Shape shape = {2, 3}) { return source("y", std::move(shape)); };
    auto bools = [&] { return p.make(Op::lt, {x(), y()}); };
    switch (op) {
    case Op::input: return x();
    case Op::parameter: return p.parameter("w", f32_of({2, 3}));
    case Op::full: return p.full(0.5, f32_of({2, 3}));
    case Op::iota: {
        const Type type{DType::i32, {2, 3}};
        return p.make(op, {}, {{"dim", int64_t{1}}}, &type);
    }
    case Op::neg: case Op::exp: case Op::log: case Op::sqrt: case Op::rsqrt: case Op::abs: case Op::relu:
    case Op::sigmoid: case Op::tanh: case Op::erf:
        return p.make(op, {x()});
    case Op::leaky_relu: return p.make(op, {x()}, {{"negative_slope", 0.01}});
    case Op::elu: return p.make(op, {x()}, {{"alpha", 1.0}});
    case Op::gelu: return p.make(op, {x()}, {{"approximate", std::string("none")}});
    case Op::softplus: return p.make(op, {x()}, {{"beta", 1.0}, {"threshold", 20.0}});
    case Op::cast: return p.make(op, {x()}, {{"dtype", DType::f64}});
    case Op::dropout: return p.make(op, {x()}, {{"p", 0.5}, {"seed", int64_t{7}}});
    case Op::check_class_index:
        return p.make(op, {p.input("labels", Type{DType::i32, {2}})}, {{"classes", int64_t{3}}, {"ignore_index", int64_t{-100}}});
    case Op::logical_not: return p.make(op, {bools()});
    case Op::add: case Op::sub: case Op::mul: case Op::div: case Op::pow: case Op::maximum: case Op::minimum:
    case Op::eq: case Op::ne: case Op::lt: case Op::le: case Op::gt: case Op::ge:
        return p.make(op, {x(), y()});
    case Op::logical_and: case Op::logical_or: return p.make(op, {bools(), p.make(Op::logical_not, {bools()})});
    case Op::where: return p.make(op, {bools(), x(), y()});
    case Op::sum: case Op::mean: case Op::max: return p.make(op, {x()}, {{"dims", Ints{1}}, {"keepdim", false}});
    case Op::argmax: return p.make(op, {x()}, {{"dim", int64_t{1}}, {"keepdim", false}});
    case Op::softmax: case Op::log_softmax: return p.make(op, {x()}, {{"dim", int64_t{1}}});
    case Op::batch_norm_train:
        return p.make(op, {x(), p.parameter("gamma", f32_of({3})), p.parameter("beta", f32_of({3}))}, {{"eps", 1e-5}});
    case Op::batch_norm_train_grad:
        return p.make(op, {x(), p.parameter("gamma", f32_of({3})), y()}, {{"eps", 1e-5}});
    case Op::cross_entropy:
        return p.make(op, {x(), p.input("labels", Type{DType::i32, {2}})}, cross_entropy_attrs());
    case Op::cross_entropy_grad:
        return p.make(op, {x(), p.input("labels", Type{DType::i32, {2}}), p.full(1.0, f32_of({}))},
                      cross_entropy_attrs());
    case Op::matmul: return p.make(op, {x(), y({3, 4})});
    case Op::linear: return p.make(op, {x(), y({5, 3}), p.parameter("b", f32_of({5}))});
    case Op::conv1d: case Op::conv2d: {
        Shape w = {4, 3, 3};
        if (s == 2) w.push_back(3);
        return p.make(op, {x(image(s)), y(w), p.parameter("b", f32_of({4}))}, conv_attrs(static_cast<size_t>(s)));
    }
    case Op::conv_transpose1d: case Op::conv_transpose2d: {
        Shape w = {3, 4, 3};
        if (s == 2) w.push_back(3);
        Attrs a = conv_attrs(static_cast<size_t>(s));
        return p.make(op, {x(image(s)), y(w)}, a.set("output_padding", Ints(static_cast<size_t>(s), 0)));
    }
    case Op::max_pool1d: case Op::max_pool2d: case Op::max_pool1d_indices: case Op::max_pool2d_indices:
        return p.make(op, {x(image(s))}, max_pool_attrs(static_cast<size_t>(s)));
    case Op::max_unpool1d: case Op::max_unpool2d: case Op::max_unpool1d_grad: case Op::max_unpool2d_grad: {
        Shape pooled = image(s);
        for (size_t d = 2; d < pooled.size(); ++d) pooled[d] /= 2;
        const bool grad = op == Op::max_unpool1d_grad || op == Op::max_unpool2d_grad;
        const Node *indices = p.input("indices", Type{DType::i32, pooled});
        return p.make(op, {grad ? y(image(s)) : y(pooled), indices}, unpool_attrs(static_cast<size_t>(s)));
    }
    case Op::avg_pool1d: case Op::avg_pool2d: return p.make(op, {x(image(s))}, avg_pool_attrs(static_cast<size_t>(s)));
    case Op::adaptive_avg_pool1d: case Op::adaptive_avg_pool2d:
        return p.make(op, {x(image(s))}, {{"output_size", Ints(static_cast<size_t>(s), 1)}});
    case Op::upsample_nearest1d: case Op::upsample_nearest2d: case Op::upsample_linear1d:
    case Op::upsample_bilinear2d:
        return p.make(op, {x(image(s))}, upsample_attrs(op, static_cast<size_t>(s)));
    case Op::upsample_nearest1d_grad: case Op::upsample_nearest2d_grad: case Op::upsample_linear1d_grad:
    case Op::upsample_bilinear2d_grad: {
        Shape out = image(s);
        for (size_t d = 2; d < out.size(); ++d) out[d] *= 2;
        Attrs a = upsample_attrs(*op_info(op).forward, static_cast<size_t>(s));
        return p.make(op, {y(out)}, a.set("input_shape", image(s)));
    }
    case Op::reshape: return p.make(op, {x()}, {{"shape", Ints{3, 2}}});
    case Op::permute: return p.make(op, {x()}, {{"dims", Ints{1, 0}}});
    case Op::expand: return p.make(op, {x({1, 3})}, {{"shape", Ints{2, 3}}});
    case Op::slice: return p.make(op, {x()}, {{"dim", int64_t{1}}, {"start", int64_t{1}}, {"end", int64_t{3}}, {"step", int64_t{1}}});
    case Op::concat: return p.make(op, {x(), y()}, {{"dim", int64_t{1}}});
    case Op::pad: return p.make(op, {x()}, {{"pad", Ints{1, 1}}, {"mode", std::string("constant")}, {"value", 0.0}});
    case Op::pad_grad:
        return p.make(op, {x({2, 5})}, {{"pad", Ints{1, 1}}, {"mode", std::string("constant")}, {"input_shape", Ints{2, 3}}});
    case Op::conv1d_grad_weight: case Op::conv2d_grad_weight: {
        Attrs a = conv_attrs(static_cast<size_t>(s));
        Shape w = {4, 3, 3};
        if (s == 2) w.push_back(3);
        Shape out = image(s);
        out[1] = 4;  // padding 1 keeps the spatial size of a 3-wide kernel
        return p.make(op, {x(image(s)), y(out)}, a.set("weight_shape", w));
    }
    case Op::max_pool1d_grad: case Op::max_pool2d_grad: {
        Shape out = image(s);
        for (size_t d = 2; d < out.size(); ++d) out[d] /= 2;
        return p.make(op, {x(image(s)), y(out)}, max_pool_attrs(static_cast<size_t>(s)));
    }
    case Op::avg_pool1d_grad: case Op::avg_pool2d_grad: {
        Shape out = image(s);
        for (size_t d = 2; d < out.size(); ++d) out[d] /= 2;
        Attrs a = avg_pool_attrs(static_cast<size_t>(s));
        return p.make(op, {y(out)}, a.set("input_shape", image(s)));
    }
    case Op::adaptive_avg_pool1d_grad: case Op::adaptive_avg_pool2d_grad: {
        Shape out = image(s);
        for (size_t d = 2; d < out.size(); ++d) out[d] = 1;
        return p.make(op, {y(out)}, {{"input_shape", image(s)}});
    }
    }
    return nullptr;
}

/// The sample of `op` as the only output of a program.
Program sample_program(Op op) {
    Program p;
    const Node *node = sample(p, op);
    INFO("add a sample of " << op_name(op) << " to tests/test_ir_op_table.cpp");
    REQUIRE(node != nullptr);
    REQUIRE(node->op == op);
    p.add_output("out", node);
    return p;
}

const Node *output_node(const Program &p) { return p.outputs().front().node; }

std::vector<const Node *> float_sources(const Program &p) {
    std::vector<const Node *> out;
    for (const Node *s : p.inputs())
        if (is_float(s->dtype())) out.push_back(s);
    for (const Node *s : p.parameters()) out.push_back(s);
    return out;
}

codegen::CompileOptions options_for(const std::string &mode) {
    codegen::CompileOptions options;
    options.target = "host";
    options.schedule = mode;
    options.optimize = false;  // keep the sample as it is
    return options;
}

/// Whether the default CPU schedule schedules the output node: a stage line for one of its Funcs
/// (named n<id>_<op>...), read back from Halide.
bool cpu_schedules_output(const Program &p) {
    const std::string text = codegen::stage_schedule_in_effect(p, options_for("default"));
    return text.find("\nstage n" + std::to_string(output_node(p)->id) + "_") != std::string::npos;
}

/// Whether the default GPU schedule (run on the CPU) gives the output node a rule line.
bool gpu_schedules_output(const Program &p) {
    const std::string text = codegen::schedule_in_effect(p, options_for("gpu"));
    return text.find("\nnode %" + std::to_string(output_node(p)->id) + " ") != std::string::npos;
}

}  // namespace

TEST_CASE("every op in the table has a sample here and a shape rule") {
    for (const OpInfo &info : all_ops()) {
        INFO("op " << info.name);
        const Program p = sample_program(info.op);
        const Node *node = output_node(p);
        REQUIRE(static_cast<int>(node->inputs.size()) >= info.min_inputs);
        REQUIRE(static_cast<int>(node->inputs.size()) <= info.max_inputs);
        // Re-running the shape rule gives the type the node was built with.
        if (info.shape_rule == ShapeRule::source) REQUIRE(node->inputs.empty());
        else REQUIRE(infer_type(info.op, node->inputs, node->attrs) == node->type);
    }
}

TEST_CASE("the forward and spatial columns agree with each other") {
    for (const OpInfo &info : all_ops()) {
        INFO("op " << info.name);
        // A gradient op names its forward op; no forward op names one.
        const bool gradient_op = info.vjp_rule == VjpRule::unsupported;
        REQUIRE(info.forward.has_value() == gradient_op);
        if (info.shape_rule == ShapeRule::gradient) REQUIRE(info.forward);
        if (info.forward) {
            const OpInfo &forward = op_info(*info.forward);
            REQUIRE_FALSE(forward.forward);
            REQUIRE(forward.spatial_rank == info.spatial_rank);
            REQUIRE(forward.op_class == info.op_class);
        }
        const bool spatial = info.op_class == OpClass::conv || info.op_class == OpClass::pool;
        REQUIRE((info.spatial_rank == 1 || info.spatial_rank == 2) == spatial);
        if (!spatial) REQUIRE(info.spatial_rank == 0);
        if (spatial) REQUIRE(output_node(sample_program(info.op))->type.rank() == info.spatial_rank + 2);
    }
}

TEST_CASE("every op has a VJP rule or is marked as having none") {
    for (const OpInfo &info : all_ops()) {
        INFO("op " << info.name << ", vjp " << vjp_rule_name(info.vjp_rule));
        Program p = sample_program(info.op);
        const Node *node = output_node(p);
        switch (info.vjp_rule) {
        case VjpRule::leaf:
            REQUIRE(node->inputs.empty());
            REQUIRE_FALSE(is_differentiable(*node));
            break;
        case VjpRule::nondiff: REQUIRE_FALSE(is_differentiable(*node)); break;
        case VjpRule::unsupported: {
            REQUIRE(is_differentiable(*node));
            Builder b(p);
            REQUIRE_THROWS_AS(vjp(b, *node, p.full(1.0, node->type)), Error);
            break;
        }
        default: {
            REQUIRE(is_differentiable(*node));
            // Through the real pass: the rule runs and gives each input a gradient of its type.
            const Node *as_f32 = node->dtype() == DType::f32 ? node : p.make(Op::cast, {node}, {{"dtype", DType::f32}});
            Ints all;
            for (int64_t d = 0; d < as_f32->type.rank(); ++d) all.push_back(d);
            const Node *loss = all.empty() ? as_f32 : p.make(Op::sum, {as_f32}, {{"dims", all}, {"keepdim", false}});
            std::vector<const Node *> grads;
            REQUIRE_NOTHROW(grads = gradients(p, loss, float_sources(p)));
            REQUIRE(!grads.empty());
        }
        }
    }
}

TEST_CASE("every op has a lowering and a default schedule on CPU and on GPU") {
    for (const OpInfo &info : all_ops()) {
        INFO("op " << info.name << ", lowering " << lowering_name(info.lowering));
        const Program p = sample_program(info.op);
        bool cpu = false, gpu = false;
        REQUIRE_NOTHROW(cpu = cpu_schedules_output(p));
        REQUIRE_NOTHROW(gpu = gpu_schedules_output(p));
        // Sources are buffers, not scheduled; every other op is, on both.
        if (info.op_class == OpClass::source) continue;
        CHECK(cpu);
        CHECK(gpu);
    }
}
