// ONNX export: one ONNX node (or a short fixed chain) per Strata op, in program order.
// Compositions follow Strata's lowering expression by expression, so a runtime that evaluates
// them in IEEE arithmetic computes what Strata computes.

#include "frontend/onnx/onnx_export.h"

#include "runtime/atomic_file.h"
#include "runtime/version.h"

#include <strata/error.h>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <unordered_map>

namespace strata::onnx {

namespace {

using ir::Ints;
using ir::Node;
using ir::Op;

int32_t onnx_dtype(DType dtype, const std::string &what) {
    switch (dtype) {
    case DType::f32: return ::onnx::TensorProto::FLOAT;
    case DType::f64: return ::onnx::TensorProto::DOUBLE;
    case DType::i32: return ::onnx::TensorProto::INT32;
    case DType::boolean: return ::onnx::TensorProto::BOOL;
    case DType::i64: return ::onnx::TensorProto::INT64;
    }
    fail("onnx export: {} has dtype {}, which has no ONNX element type here", what, dtype_name(dtype));
}

void set_type(::onnx::ValueInfoProto *value, const ir::Type &type, const std::string &what) {
    ::onnx::TypeProto_Tensor *tensor = value->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(onnx_dtype(type.dtype, what));
    ::onnx::TensorShapeProto *shape = tensor->mutable_shape();
    for (int64_t extent : type.shape) shape->add_dim()->set_dim_value(extent);
}

void fill_tensor(::onnx::TensorProto *proto, const Tensor &tensor, const std::string &name) {
    proto->set_name(name);
    proto->set_data_type(onnx_dtype(tensor.dtype(), "tensor '" + name + "'"));
    for (int64_t extent : tensor.shape()) proto->add_dims(extent);
    const Tensor data = tensor.contiguous();
    // raw_data is little-endian, as Strata's tensors are in memory on every target it runs on.
    proto->set_raw_data(static_cast<const char *>(data.raw_data()), data.nbytes());
}

/// Builds the graph; one instance per export.
class GraphWriter {
public:
    GraphWriter(::onnx::GraphProto *graph, const ir::Program &program, const std::map<std::string, Tensor> &weights,
                int64_t opset)
        : graph_(graph), program_(program), weights_(weights), opset_(opset) {}

    void write();

private:
    ::onnx::GraphProto *graph_;
    const ir::Program &program_;
    const std::map<std::string, Tensor> &weights_;
    int64_t opset_;
    std::unordered_map<const Node *, std::string> names_;
    std::set<std::string> used_;
    int64_t counter_ = 0;
    const Node *node_ = nullptr;  // the node being exported, for node names and messages

    std::string fresh(const std::string &hint) {
        std::string name;
        do name = hint + "_" + std::to_string(counter_++);
        while (used_.count(name));
        used_.insert(name);
        return name;
    }
    [[noreturn]] void unsupported(const std::string &why) const {
        fail("onnx export: node {}: {}", node_->label(), why);
    }
    const std::string &in(size_t i) const { return names_.at(node_->input(i)); }

    ::onnx::NodeProto *add(const std::string &op_type, const std::vector<std::string> &inputs,
                         const std::vector<std::string> &outputs) {
        ::onnx::NodeProto *n = graph_->add_node();
        n->set_op_type(op_type);
        n->set_name(fresh(std::string(node_->name()) + "/" + op_type));
        for (const std::string &i : inputs) n->add_input(i);
        for (const std::string &o : outputs) n->add_output(o);
        return n;
    }
    /// One node with one fresh output; returns that output's name.
    std::string emit(const std::string &op_type, const std::vector<std::string> &inputs,
                     ::onnx::NodeProto **node = nullptr) {
        const std::string out = fresh(node_->name());
        ::onnx::NodeProto *n = add(op_type, inputs, {out});
        if (node) *node = n;
        return out;
    }
    static void attr(::onnx::NodeProto *n, const std::string &name, int64_t value) {
        ::onnx::AttributeProto *a = n->add_attribute();
        a->set_name(name);
        a->set_type(::onnx::AttributeProto::INT);
        a->set_i(value);
    }
    static void attr(::onnx::NodeProto *n, const std::string &name, float value) {
        ::onnx::AttributeProto *a = n->add_attribute();
        a->set_name(name);
        a->set_type(::onnx::AttributeProto::FLOAT);
        a->set_f(value);
    }
    static void attr(::onnx::NodeProto *n, const std::string &name, const std::string &value) {
        ::onnx::AttributeProto *a = n->add_attribute();
        a->set_name(name);
        a->set_type(::onnx::AttributeProto::STRING);
        a->set_s(value);
    }
    static void attr(::onnx::NodeProto *n, const std::string &name, const Ints &values) {
        ::onnx::AttributeProto *a = n->add_attribute();
        a->set_name(name);
        a->set_type(::onnx::AttributeProto::INTS);
        for (int64_t v : values) a->add_ints(v);
    }
    /// True when float attribute `name` means the same as ONNX's f32 attribute: always in an f32
    /// op (Strata's lowering rounds it to f32 too), in an f64 op when the value is an f32.
    bool f32_exact(const std::string &name) const {
        const double v = node_->attrs.get_float(name);
        return node_->dtype() == DType::f32 || static_cast<double>(static_cast<float>(v)) == v || std::isnan(v);
    }
    float f32_attr(const std::string &name) const {
        if (!f32_exact(name))
            unsupported(fmt::format("{}={} in an {} op is not an f32 value (ONNX stores this attribute as a float)",
                                    name, node_->attrs.get_float(name), dtype_name(node_->dtype())));
        return static_cast<float>(node_->attrs.get_float(name));
    }

    std::string constant(const Tensor &value) {
        const std::string out = fresh(std::string(node_->name()) + "_const");
        ::onnx::NodeProto *n = add("Constant", {}, {out});
        ::onnx::AttributeProto *a = n->add_attribute();
        a->set_name("value");
        a->set_type(::onnx::AttributeProto::TENSOR);
        fill_tensor(a->mutable_t(), value, out);
        return out;
    }
    /// A Constant node of INT64 `values` with shape `dims`, named after the node plus `suffix`.
    std::string int64_constant(const Ints &dims, const Ints &values, const std::string &suffix) {
        const std::string out = fresh(std::string(node_->name()) + suffix);
        ::onnx::NodeProto *n = add("Constant", {}, {out});
        ::onnx::AttributeProto *a = n->add_attribute();
        a->set_name("value");
        a->set_type(::onnx::AttributeProto::TENSOR);
        ::onnx::TensorProto *t = a->mutable_t();
        t->set_name(out);
        t->set_data_type(::onnx::TensorProto::INT64);
        for (int64_t d : dims) t->add_dims(d);
        for (int64_t v : values) t->add_int64_data(v);
        return out;
    }
    std::string ints_constant(const Ints &values) {
        return int64_constant({static_cast<int64_t>(values.size())}, values, "_ints");
    }
    /// A tensor of plane offsets [N, C, 1, ...] * plane: ONNX's pooling indices count over the whole
    /// tensor, Strata's within each (n, c) plane.
    std::string plane_offsets(const Shape &shape, int64_t plane) {
        Ints dims = {shape.at(0), shape.at(1)};
        dims.resize(shape.size(), 1);
        Ints offsets(static_cast<size_t>(shape[0] * shape[1]));
        for (size_t p = 0; p < offsets.size(); ++p) offsets[p] = static_cast<int64_t>(p) * plane;
        return int64_constant(dims, offsets, "_offsets");
    }
    std::string scalar(double value, DType dtype) { return constant(Tensor::full({}, value, dtype)); }
    std::string cast(const std::string &x, int32_t to) {
        ::onnx::NodeProto *n;
        const std::string out = emit("Cast", {x}, &n);
        attr(n, "to", static_cast<int64_t>(to));
        return out;
    }

    void export_node(const Node *node);
    std::string pointwise();
    std::string reduction();
    std::string conv();
    std::string pool();
    std::string pool_indices();
    std::string unpool();
    std::string adaptive_avg_pool();
    std::string resize();
    std::string layout();
    std::string pad();
    std::string composed_gelu();
    std::string composed_softplus();
    std::string composed_batch_norm_train();
    /// Explicit end pads for a ceil_mode pool whose last window PyTorch drops (ONNX keeps it).
    Ints pool_pads(const Ints &kernel, const Ints &stride, const Ints &padding, const Ints &dilation,
                   bool ceil_mode, bool count_include_pad, bool *onnx_ceil_mode);
};

void GraphWriter::write() {
    // Every value that reaches an output, in program (topological) order.
    std::set<const Node *> live;
    std::vector<const Node *> stack;
    for (const ir::Output &o : program_.outputs()) stack.push_back(o.node);
    while (!stack.empty()) {
        const Node *n = stack.back();
        stack.pop_back();
        if (!live.insert(n).second) continue;
        for (const Node *i : n->inputs) stack.push_back(i);
    }
    if (program_.outputs().empty()) fail("onnx export: the program has no outputs");

    for (const Node *input : program_.inputs()) {
        const std::string &name = input->attrs.get_str("name");
        names_[input] = name;
        used_.insert(name);
        ::onnx::ValueInfoProto *value = graph_->add_input();
        value->set_name(name);
        set_type(value, input->type, "input '" + name + "'");
    }
    for (const Node *parameter : program_.parameters()) {
        const std::string &name = parameter->attrs.get_str("name");
        if (!live.count(parameter)) continue;
        if (!used_.insert(name).second) fail("onnx export: the name '{}' is both an input and a parameter", name);
        names_[parameter] = name;
        const auto it = weights_.find(name);
        if (it == weights_.end()) fail("onnx export: no weight for parameter '{}' ({})", name, type_str(parameter->type));
        const Tensor &w = it->second;
        if (w.dtype() != parameter->dtype() || w.shape() != parameter->shape())
            fail("onnx export: the weight '{}' is {}, but the program's parameter is {}", name,
                 type_str(ir::Type{w.dtype(), w.shape()}), type_str(parameter->type));
        fill_tensor(graph_->add_initializer(), w, name);
    }
    // Output names are reserved first: an output value takes its name where it can.
    std::map<const Node *, std::string> output_name;
    for (const ir::Output &o : program_.outputs()) {
        if (!used_.insert(o.name).second)
            fail("onnx export: the output name '{}' is also an input, parameter or other output", o.name);
        if (o.node->op != Op::input && o.node->op != Op::parameter) output_name.emplace(o.node, o.name);
    }
    for (const auto &owned : program_.nodes()) {
        const Node *n = owned.get();
        if (!live.count(n) || n->op == Op::input || n->op == Op::parameter) continue;
        node_ = n;
        export_node(n);
        const auto named = output_name.find(n);
        if (named != output_name.end()) {  // rename the node's result to the output's name
            ::onnx::NodeProto *last = graph_->mutable_node(graph_->node_size() - 1);
            const std::string old = names_.at(n);
            STRATA_ASSERT(last->output(0) == old, "the last ONNX node computes {}", old);
            last->set_output(0, named->second);
            names_[n] = named->second;
        }
    }
    for (const ir::Output &o : program_.outputs()) {
        if (names_.at(o.node) != o.name) {
            node_ = o.node;
            add("Identity", {names_.at(o.node)}, {o.name});
        }
        ::onnx::ValueInfoProto *value = graph_->add_output();
        value->set_name(o.name);
        set_type(value, o.node->type, "output '" + o.name + "'");
    }
}

void GraphWriter::export_node(const Node *node) {
    std::string out;
    switch (node->info().op_class) {
    case ir::OpClass::source:
        if (node->op == Op::full) {
            const Tensor value = Tensor::full({1}, node->attrs.get_float("value"), node->dtype());
            ::onnx::NodeProto *n;
            out = emit("ConstantOfShape", {ints_constant(node->shape())}, &n);
            ::onnx::AttributeProto *a = n->add_attribute();
            a->set_name("value");
            a->set_type(::onnx::AttributeProto::TENSOR);
            fill_tensor(a->mutable_t(), value, out + "_value");
        } else if (node->op == Op::iota) {
            Tensor value = Tensor::empty(node->shape(), node->dtype());
            const int64_t dim = node->attrs.get_int("dim");
            int64_t inner = 1;
            for (size_t d = static_cast<size_t>(dim) + 1; d < node->shape().size(); ++d) inner *= node->shape()[d];
            const int64_t extent = node->shape().at(static_cast<size_t>(dim));
            for (int64_t i = 0; i < value.numel(); ++i) value.set_flat(i, static_cast<double>((i / inner) % extent));
            out = constant(value);
        } else {
            unsupported("a source op the export does not know");
        }
        break;
    case ir::OpClass::pointwise: out = pointwise(); break;
    case ir::OpClass::reduction: out = reduction(); break;
    case ir::OpClass::conv: out = conv(); break;
    case ir::OpClass::pool: out = pool(); break;
    case ir::OpClass::matmul:
        if (node->op == Op::matmul) {
            out = emit("MatMul", {in(0), in(1)});
        } else if (node->input(0)->type.rank() == 2) {  // linear: Gemm computes x w^T + b
            std::vector<std::string> args = {in(0), in(1)};
            if (node->inputs.size() == 3) args.push_back(in(2));
            ::onnx::NodeProto *n;
            out = emit("Gemm", args, &n);
            attr(n, "transB", int64_t{1});
        } else {
            ::onnx::NodeProto *t;
            const std::string wt = emit("Transpose", {in(1)}, &t);
            attr(t, "perm", Ints{1, 0});
            out = emit("MatMul", {in(0), wt});
            if (node->inputs.size() == 3) out = emit("Add", {out, in(2)});
        }
        break;
    case ir::OpClass::layout: out = layout(); break;
    }
    names_[node] = out;
}

std::string GraphWriter::pointwise() {
    static const std::map<Op, const char *> direct = {
        {Op::neg, "Neg"},       {Op::exp, "Exp"},        {Op::log, "Log"},           {Op::sqrt, "Sqrt"},
        {Op::abs, "Abs"},       {Op::relu, "Relu"},      {Op::sigmoid, "Sigmoid"},   {Op::tanh, "Tanh"},
        {Op::erf, "Erf"},       {Op::logical_not, "Not"}, {Op::add, "Add"},          {Op::sub, "Sub"},
        {Op::mul, "Mul"},       {Op::div, "Div"},        {Op::pow, "Pow"},           {Op::maximum, "Max"},
        {Op::minimum, "Min"},   {Op::eq, "Equal"},       {Op::lt, "Less"},           {Op::le, "LessOrEqual"},
        {Op::gt, "Greater"},    {Op::ge, "GreaterOrEqual"}, {Op::logical_and, "And"}, {Op::logical_or, "Or"},
        {Op::where, "Where"},   {Op::check_class_index, "Identity"}};
    const Node &n = *node_;
    if (const auto it = direct.find(n.op); it != direct.end()) {
        std::vector<std::string> args;
        for (size_t i = 0; i < n.inputs.size(); ++i) args.push_back(in(i));
        return emit(it->second, args);
    }
    ::onnx::NodeProto *p;
    switch (n.op) {
    case Op::rsqrt: return emit("Div", {scalar(1.0, n.dtype()), emit("Sqrt", {in(0)})});  // as lowered: 1 / sqrt(x)
    case Op::ne: return emit("Not", {emit("Equal", {in(0), in(1)})});
    case Op::leaky_relu: {
        if (!f32_exact("negative_slope"))  // as lowered: x > 0 ? x : x * slope, the slope in f64
            return emit("Where", {emit("Greater", {in(0), scalar(0.0, n.dtype())}), in(0),
                                  emit("Mul", {in(0), scalar(n.attrs.get_float("negative_slope"), n.dtype())})});
        const std::string out = emit("LeakyRelu", {in(0)}, &p);
        attr(p, "alpha", f32_attr("negative_slope"));
        return out;
    }
    case Op::elu: {
        const std::string out = emit("Elu", {in(0)}, &p);
        attr(p, "alpha", f32_attr("alpha"));
        return out;
    }
    case Op::cast: return cast(in(0), onnx_dtype(n.dtype(), "the cast's result"));
    case Op::gelu: return composed_gelu();
    case Op::softplus: return composed_softplus();
    case Op::dropout:
        if (n.attrs.get_float("p") == 0.0) return emit("Identity", {in(0)});
        unsupported("dropout in training mode (p > 0): ONNX's Dropout draws another mask; export the model in "
                    "eval mode, where dropout is the identity");
    default: break;
    }
    unsupported("no ONNX export for this pointwise op");
}

std::string GraphWriter::composed_gelu() {
    const DType t = node_->dtype();
    if (node_->attrs.get_str("approximate") == "tanh") {
        // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x x x)))
        const std::string half_x = emit("Mul", {scalar(0.5, t), in(0)});
        const std::string cube = emit("Mul", {emit("Mul", {emit("Mul", {scalar(0.044715, t), in(0)}), in(0)}), in(0)});
        const std::string inner = emit("Mul", {scalar(std::sqrt(2.0 / M_PI), t), emit("Add", {in(0), cube})});
        return emit("Mul", {half_x, emit("Add", {scalar(1.0, t), emit("Tanh", {inner})})});
    }
    // 0.5 x (1 + erf(x / sqrt(2)))
    const std::string half_x = emit("Mul", {scalar(0.5, t), in(0)});
    const std::string e = emit("Erf", {emit("Mul", {in(0), scalar(M_SQRT1_2, t)})});
    return emit("Mul", {half_x, emit("Add", {scalar(1.0, t), e})});
}

std::string GraphWriter::composed_softplus() {
    // PyTorch: x once beta x > threshold, else log(1 + exp(beta x)) / beta.
    const DType t = node_->dtype();
    const double beta = node_->attrs.get_float("beta");
    const std::string bx = emit("Mul", {in(0), scalar(beta, t)});
    const std::string above = emit("Greater", {bx, scalar(node_->attrs.get_float("threshold"), t)});
    const std::string soft = emit("Div", {emit("Softplus", {bx}), scalar(beta, t)});
    return emit("Where", {above, in(0), soft});
}

std::string GraphWriter::composed_batch_norm_train() {
    // As lowered: (x - mean) * (1 / sqrt(var + eps)) * w + b, biased variance over all dims but 1.
    const Node &n = *node_;
    const DType t = n.dtype();
    const size_t rank = n.shape().size();
    Ints axes = {0};
    for (size_t d = 2; d < rank; ++d) axes.push_back(static_cast<int64_t>(d));
    Ints channel(rank, 1);
    channel[1] = n.shape()[1];
    ::onnx::NodeProto *p;
    const std::string mean = emit("ReduceMean", {in(0)}, &p);
    attr(p, "axes", axes);
    const std::string centered = emit("Sub", {in(0), mean});
    const std::string var = emit("ReduceMean", {emit("Mul", {centered, centered})}, &p);
    attr(p, "axes", axes);
    const std::string invstd = emit("Div", {scalar(1.0, t), emit("Sqrt", {emit("Add", {var, scalar(n.attrs.get_float("eps"), t)})})});
    const std::string w = emit("Reshape", {in(1), ints_constant(channel)});
    const std::string b = emit("Reshape", {in(2), ints_constant(channel)});
    return emit("Add", {emit("Mul", {emit("Mul", {centered, invstd}), w}), b});
}

std::string GraphWriter::reduction() {
    const Node &n = *node_;
    ::onnx::NodeProto *p;
    std::string out;
    switch (n.op) {
    case Op::sum:
        out = emit("ReduceSum", {in(0), ints_constant(n.attrs.get_ints("dims"))}, &p);
        attr(p, "keepdims", int64_t{n.attrs.get_bool("keepdim")});
        return out;
    case Op::mean:
    case Op::max:
        out = emit(n.op == Op::mean ? "ReduceMean" : "ReduceMax", {in(0)}, &p);
        attr(p, "axes", n.attrs.get_ints("dims"));
        attr(p, "keepdims", int64_t{n.attrs.get_bool("keepdim")});
        return out;
    case Op::argmax:
        out = emit("ArgMax", {in(0)}, &p);
        attr(p, "axis", n.attrs.get_int("dim"));
        attr(p, "keepdims", int64_t{n.attrs.get_bool("keepdim")});
        return cast(out, onnx_dtype(n.dtype(), "argmax's result"));
    case Op::softmax:
    case Op::log_softmax:
        out = emit(n.op == Op::softmax ? "Softmax" : "LogSoftmax", {in(0)}, &p);
        attr(p, "axis", n.attrs.get_int("dim"));
        return out;
    case Op::batch_norm_stats: {
        // [2, C]: the batch mean, then the biased variance (two passes, as lowered).
        const size_t rank = n.input(0)->shape().size();
        Ints axes = {0};
        for (size_t d = 2; d < rank; ++d) axes.push_back(static_cast<int64_t>(d));
        const std::string mean = emit("ReduceMean", {in(0)}, &p);
        attr(p, "axes", axes);
        const std::string centered = emit("Sub", {in(0), mean});
        const std::string var = emit("ReduceMean", {emit("Mul", {centered, centered})}, &p);
        attr(p, "axes", axes);
        const std::string row = ints_constant({1, n.shape().at(1)});
        out = emit("Concat", {emit("Reshape", {mean, row}), emit("Reshape", {var, row})}, &p);
        attr(p, "axis", int64_t{0});
        return out;
    }
    case Op::batch_norm_train: {
        // Training-mode BatchNormalization normalises with the batch's statistics; the running
        // statistics it takes only feed its optional outputs, not used here.
        if (!f32_exact("eps")) return composed_batch_norm_train();
        if (opset_ < 14) unsupported("BatchNormalization's training_mode needs opset 14 or later");
        const int64_t c = n.input(0)->shape().at(1);
        const std::string zeros = constant(Tensor::zeros({c}, n.dtype()));
        const std::string ones = constant(Tensor::ones({c}, n.dtype()));
        // ONNX requires the running-statistics outputs in training mode; nothing reads them.
        out = fresh(n.name());
        p = add("BatchNormalization", {in(0), in(1), in(2), zeros, ones},
                {out, fresh(std::string(n.name()) + "_running_mean"), fresh(std::string(n.name()) + "_running_var")});
        attr(p, "epsilon", f32_attr("eps"));
        attr(p, "training_mode", int64_t{1});
        return out;
    }
    case Op::cross_entropy: {
        if (n.attrs.get_float("label_smoothing") != 0.0)
            unsupported("label_smoothing != 0: ONNX's SoftmaxCrossEntropyLoss has no label smoothing");
        std::vector<std::string> args = {in(0), in(1)};
        if (n.inputs.size() == 3) args.push_back(in(2));
        out = emit("SoftmaxCrossEntropyLoss", args, &p);
        attr(p, "reduction", n.attrs.get_str("reduction"));
        attr(p, "ignore_index", n.attrs.get_int("ignore_index"));
        return out;
    }
    default: break;
    }
    unsupported(n.info().forward ? "a gradient op has no ONNX counterpart; export the inference program"
                                 : "no ONNX export for this reduction");
}

std::string GraphWriter::conv() {
    const Node &n = *node_;
    if (n.info().forward) unsupported("a gradient op has no ONNX counterpart; export the inference program");
    const bool transposed = n.op == Op::conv_transpose1d || n.op == Op::conv_transpose2d;
    std::vector<std::string> args = {in(0), in(1)};
    if (n.inputs.size() == 3) args.push_back(in(2));
    ::onnx::NodeProto *p;
    const std::string out = emit(transposed ? "ConvTranspose" : "Conv", args, &p);
    const Shape &w = n.input(1)->shape();
    attr(p, "kernel_shape", Ints(w.begin() + 2, w.end()));
    attr(p, "strides", n.attrs.get_ints("stride"));
    Ints pads = n.attrs.get_ints("padding");
    pads.insert(pads.end(), pads.begin(), pads.end());
    attr(p, "pads", pads);
    attr(p, "dilations", n.attrs.get_ints("dilation"));
    attr(p, "group", n.attrs.get_int("groups"));
    if (transposed) attr(p, "output_padding", n.attrs.get_ints("output_padding"));
    return out;
}

Ints GraphWriter::pool_pads(const Ints &kernel, const Ints &stride, const Ints &padding, const Ints &dilation,
                            bool ceil_mode, bool count_include_pad, bool *onnx_ceil_mode) {
    // PyTorch drops a ceil_mode window that would start past the input and its left padding;
    // ONNX (opset <= 17) keeps it. Where they differ, floor mode with end pads that give exactly
    // PyTorch's windows says the same (those pads are -inf for max, uncounted for average).
    const Shape &xs = node_->input(0)->shape();
    const Shape &ys = node_->shape();
    const size_t spatial = kernel.size(), first = xs.size() - spatial;
    Ints begin = padding, end = padding;
    *onnx_ceil_mode = ceil_mode;
    if (!ceil_mode) {
        begin.insert(begin.end(), end.begin(), end.end());
        return begin;
    }
    bool differs = false;
    for (size_t d = 0; d < spatial; ++d) {
        const int64_t span = dilation[d] * (kernel[d] - 1) + 1;
        const int64_t total = xs[first + d] + 2 * padding[d] - span;
        const int64_t onnx_out = (total + stride[d] - 1) / stride[d] + 1;
        if (onnx_out != ys[first + d]) differs = true;
    }
    if (differs) {
        if (count_include_pad)
            unsupported("ceil_mode with count_include_pad where PyTorch drops the last window: ONNX's "
                        "AveragePool would count other padding");
        *onnx_ceil_mode = false;
        for (size_t d = 0; d < spatial; ++d) {
            const int64_t span = dilation[d] * (kernel[d] - 1) + 1;
            end[d] = (ys[first + d] - 1) * stride[d] + span - xs[first + d] - padding[d];
            if (end[d] < 0) unsupported("ceil_mode windows ONNX cannot express with non-negative pads");
        }
    }
    begin.insert(begin.end(), end.begin(), end.end());
    return begin;
}

std::string GraphWriter::pool() {
    const Node &n = *node_;
    if (n.info().forward) unsupported("a gradient op has no ONNX counterpart; export the inference program");
    switch (n.op) {
    case Op::max_pool1d_indices:
    case Op::max_pool2d_indices: return pool_indices();
    case Op::max_unpool1d:
    case Op::max_unpool2d: return unpool();
    case Op::adaptive_avg_pool1d:
    case Op::adaptive_avg_pool2d: return adaptive_avg_pool();
    case Op::upsample_nearest1d:
    case Op::upsample_nearest2d:
    case Op::upsample_linear1d:
    case Op::upsample_bilinear2d: return resize();
    default: break;
    }
    const bool is_max = n.op == Op::max_pool1d || n.op == Op::max_pool2d;
    const Ints &kernel = n.attrs.get_ints("kernel_size");
    const Ints dilation = is_max ? n.attrs.get_ints("dilation") : Ints(kernel.size(), 1);
    const bool count_include_pad = !is_max && n.attrs.get_bool("count_include_pad");
    if (!is_max && n.attrs.get_int("divisor_override") != 0)
        unsupported("divisor_override: ONNX's AveragePool divides by the window's count");
    bool onnx_ceil = false;
    const Ints pads = pool_pads(kernel, n.attrs.get_ints("stride"), n.attrs.get_ints("padding"), dilation,
                                n.attrs.get_bool("ceil_mode"), count_include_pad, &onnx_ceil);
    ::onnx::NodeProto *p;
    const std::string out = emit(is_max ? "MaxPool" : "AveragePool", {in(0)}, &p);
    attr(p, "kernel_shape", kernel);
    attr(p, "strides", n.attrs.get_ints("stride"));
    attr(p, "pads", pads);
    attr(p, "ceil_mode", int64_t{onnx_ceil});
    if (is_max) attr(p, "dilations", dilation);
    else attr(p, "count_include_pad", int64_t{count_include_pad});
    return out;
}

std::string GraphWriter::pool_indices() {
    const Node &n = *node_;
    const Ints &kernel = n.attrs.get_ints("kernel_size");
    bool onnx_ceil = false;
    const Ints pads = pool_pads(kernel, n.attrs.get_ints("stride"), n.attrs.get_ints("padding"),
                                n.attrs.get_ints("dilation"), n.attrs.get_bool("ceil_mode"), false, &onnx_ceil);
    const std::string values = fresh(std::string(n.name()) + "_values"), indices = fresh(std::string(n.name()) + "_i64");
    ::onnx::NodeProto *p = add("MaxPool", {in(0)}, {values, indices});
    attr(p, "kernel_shape", kernel);
    attr(p, "strides", n.attrs.get_ints("stride"));
    attr(p, "pads", pads);
    attr(p, "ceil_mode", int64_t{onnx_ceil});
    attr(p, "dilations", n.attrs.get_ints("dilation"));
    const Shape &xs = n.input(0)->shape();
    const int64_t plane = shape_numel(Shape(xs.begin() + 2, xs.end()));
    return cast(emit("Sub", {indices, plane_offsets(xs, plane)}), onnx_dtype(n.dtype(), "the indices"));
}

std::string GraphWriter::unpool() {
    const Node &n = *node_;
    const Shape &ys = n.shape();
    const int64_t plane = shape_numel(Shape(ys.begin() + 2, ys.end()));
    const std::string indices = emit("Add", {cast(in(1), ::onnx::TensorProto::INT64), plane_offsets(n.input(1)->shape(), plane)});
    ::onnx::NodeProto *p;
    const std::string out = emit("MaxUnpool", {in(0), indices, ints_constant(ys)}, &p);
    attr(p, "kernel_shape", n.attrs.get_ints("kernel_size"));
    attr(p, "strides", n.attrs.get_ints("stride"));
    Ints pads = n.attrs.get_ints("padding");
    pads.insert(pads.end(), pads.begin(), pads.end());
    attr(p, "pads", pads);
    return out;
}

std::string GraphWriter::adaptive_avg_pool() {
    const Node &n = *node_;
    const Shape &xs = n.input(0)->shape();
    const Ints &sizes = n.attrs.get_ints("output_size");
    const size_t spatial = sizes.size(), first = xs.size() - spatial;
    bool global = true, divides = true;
    for (size_t d = 0; d < spatial; ++d) {
        global = global && sizes[d] == 1;
        divides = divides && sizes[d] > 0 && xs[first + d] % sizes[d] == 0;
    }
    if (global && xs.size() == spatial + 2) return emit("GlobalAveragePool", {in(0)});
    if (divides && xs.size() == spatial + 2) {
        Ints kernel;
        for (size_t d = 0; d < spatial; ++d) kernel.push_back(xs[first + d] / sizes[d]);
        ::onnx::NodeProto *p;
        const std::string out = emit("AveragePool", {in(0)}, &p);
        attr(p, "kernel_shape", kernel);
        attr(p, "strides", kernel);
        return out;
    }
    // PyTorch's windows [floor(i in / out), ceil((i + 1) in / out)): one mean per output position.
    auto window = [&](size_t d, int64_t i) {
        const int64_t len = xs[first + d], out = sizes[d];
        return std::pair<int64_t, int64_t>{i * len / out, ((i + 1) * len + out - 1) / out};
    };
    Ints axes;
    for (size_t d = 0; d < spatial; ++d) axes.push_back(static_cast<int64_t>(first + d));
    std::vector<std::string> rows;
    const int64_t outer = spatial == 2 ? sizes[0] : 1, inner = sizes[spatial - 1];
    for (int64_t i = 0; i < outer; ++i) {
        std::vector<std::string> cells;
        for (int64_t j = 0; j < inner; ++j) {
            Ints starts, ends;
            if (spatial == 2) {
                const auto [s, e] = window(0, i);
                starts.push_back(s), ends.push_back(e);
            }
            const auto [s, e] = window(spatial - 1, j);
            starts.push_back(s), ends.push_back(e);
            const std::string part = emit("Slice", {in(0), ints_constant(starts), ints_constant(ends), ints_constant(axes)});
            ::onnx::NodeProto *p;
            cells.push_back(emit("ReduceMean", {part}, &p));
            attr(p, "axes", axes);
            attr(p, "keepdims", int64_t{1});
        }
        ::onnx::NodeProto *p;
        rows.push_back(cells.size() == 1 ? cells[0] : emit("Concat", cells, &p));
        if (cells.size() > 1) attr(p, "axis", axes.back());
    }
    if (rows.size() == 1) return rows[0];
    ::onnx::NodeProto *p;
    const std::string out = emit("Concat", rows, &p);
    attr(p, "axis", axes.front());
    return out;
}

std::string GraphWriter::resize() {
    // PyTorch's rules as ONNX names them (what torch.onnx.export writes): nearest is asymmetric +
    // floor; linear is align_corners, else pytorch_half_pixel (half-pixel, 0 for an output of 1).
    const Node &n = *node_;
    const bool nearest = n.op == Op::upsample_nearest1d || n.op == Op::upsample_nearest2d;
    const Shape &xs = n.input(0)->shape(), &ys = n.shape();
    const std::vector<std::string> scale_names =
        n.info().spatial_rank == 1 ? std::vector<std::string>{"scales"} : std::vector<std::string>{"scales_h", "scales_w"};
    // The user's scale factors, where every dim has one that gives its output size: PyTorch's
    // coordinates then use them (1 / scale), as ONNX's scales input does; else the output sizes.
    bool by_scales = true;
    std::vector<float> scales = {1.0f, 1.0f};
    for (size_t d = 0; d < scale_names.size(); ++d) {
        const double scale = n.attrs.get_float(scale_names[d]);
        const float f = static_cast<float>(scale);
        by_scales = by_scales && scale > 0.0 && static_cast<double>(f) == scale &&
                    static_cast<int64_t>(std::floor(static_cast<double>(xs[d + 2]) * f)) == ys[d + 2];
        scales.push_back(f);
    }
    std::vector<std::string> args = {in(0), ""};
    if (by_scales) {
        Tensor t = Tensor::empty({static_cast<int64_t>(scales.size())}, DType::f32);
        for (size_t i = 0; i < scales.size(); ++i) t.data<float>()[i] = scales[i];
        args.push_back(constant(t));
    } else {
        args.push_back("");
        args.push_back(ints_constant(ys));
    }
    ::onnx::NodeProto *p;
    const std::string out = emit("Resize", args, &p);
    attr(p, "mode", std::string(nearest ? "nearest" : "linear"));
    if (nearest) {
        attr(p, "coordinate_transformation_mode", std::string("asymmetric"));
        attr(p, "nearest_mode", std::string("floor"));
    } else {
        attr(p, "coordinate_transformation_mode",
             std::string(n.attrs.get_bool("align_corners") ? "align_corners" : "pytorch_half_pixel"));
    }
    return out;
}

std::string GraphWriter::layout() {
    const Node &n = *node_;
    ::onnx::NodeProto *p;
    std::string out;
    switch (n.op) {
    case Op::reshape: {
        const Ints &shape = n.attrs.get_ints("shape");
        out = emit("Reshape", {in(0), ints_constant(shape)}, &p);
        // A 0 in the shape is an empty extent in Strata; without allowzero ONNX would copy the input's.
        if (std::count(shape.begin(), shape.end(), 0)) {
            if (opset_ < 14) unsupported("an empty extent in the shape needs Reshape's allowzero (opset 14)");
            attr(p, "allowzero", int64_t{1});
        }
        return out;
    }
    case Op::permute:
        out = emit("Transpose", {in(0)}, &p);
        attr(p, "perm", n.attrs.get_ints("dims"));
        return out;
    case Op::expand: return emit("Expand", {in(0), ints_constant(n.attrs.get_ints("shape"))});
    case Op::slice:
        return emit("Slice", {in(0), ints_constant({n.attrs.get_int("start")}), ints_constant({n.attrs.get_int("end")}),
                              ints_constant({n.attrs.get_int("dim")}), ints_constant({n.attrs.get_int("step")})});
    case Op::concat: {
        std::vector<std::string> args;
        for (size_t i = 0; i < n.inputs.size(); ++i) args.push_back(in(i));
        out = emit("Concat", args, &p);
        attr(p, "axis", n.attrs.get_int("dim"));
        return out;
    }
    case Op::pad: return pad();
    default: break;
    }
    unsupported(n.info().forward ? "a gradient op has no ONNX counterpart; export the inference program"
                                 : "no ONNX export for this layout op");
}

std::string GraphWriter::pad() {
    const Node &n = *node_;
    const Ints &pad = n.attrs.get_ints("pad");
    const std::string &mode = n.attrs.get_str("mode");
    const size_t rank = n.shape().size();
    if (mode == "circular") {  // wrap: the last `lo` elements before, the first `hi` after, last dim first
        std::string x = in(0);
        Shape shape = n.input(0)->shape();
        for (size_t i = 0; i < pad.size() / 2; ++i) {
            const int64_t dim = static_cast<int64_t>(rank - 1 - i), len = shape[static_cast<size_t>(dim)];
            const int64_t lo = pad[2 * i], hi = pad[2 * i + 1];
            if (lo == 0 && hi == 0) continue;
            if (lo > len || hi > len)
                unsupported("circular padding wider than the dimension");
            std::vector<std::string> parts;
            if (lo > 0)
                parts.push_back(emit("Slice", {x, ints_constant({len - lo}), ints_constant({len}), ints_constant({dim})}));
            parts.push_back(x);
            if (hi > 0) parts.push_back(emit("Slice", {x, ints_constant({0}), ints_constant({hi}), ints_constant({dim})}));
            ::onnx::NodeProto *p;
            x = emit("Concat", parts, &p);
            attr(p, "axis", dim);
            shape[static_cast<size_t>(dim)] += lo + hi;
        }
        return x == in(0) ? emit("Identity", {x}) : x;
    }
    Ints pads(2 * rank, 0);
    for (size_t i = 0; i < pad.size() / 2; ++i) {
        pads[rank - 1 - i] = pad[2 * i];
        pads[2 * rank - 1 - i] = pad[2 * i + 1];
    }
    std::vector<std::string> args = {in(0), ints_constant(pads)};
    if (mode == "constant") args.push_back(scalar(n.attrs.get_float("value"), n.dtype()));
    ::onnx::NodeProto *p;
    const std::string out = emit("Pad", args, &p);
    attr(p, "mode", mode == "replicate" ? std::string("edge") : mode);
    return out;
}

}  // namespace

void check_model_bytes(const std::string &bytes, const std::string &where) {
    ::onnx::ModelProto model;
    if (!model.ParseFromString(bytes)) fail("{}: not an ONNX ModelProto (protobuf parse failed)", where);
    try {
        ::onnx::checker::check_model(model);
        ::onnx::ShapeInferenceOptions options;
        options.check_type = true;
        options.error_mode = 1;  // strict: an op whose shapes cannot be inferred is an error
        ::onnx::shape_inference::InferShapes(model, ::onnx::OpSchemaRegistry::Instance(), options);
    } catch (const std::exception &e) {
        fail("{}: the ONNX checker refuses the model: {}", where, e.what());
    }
}

std::string export_model_bytes(const ir::Program &program, const std::map<std::string, Tensor> &weights,
                             const ExportOptions &options) {
    if (options.opset < 13 || options.opset > 17)
        fail("onnx export: opset {} is not supported (13 to 17)", options.opset);
    ::onnx::ModelProto model;
    model.set_ir_version(8);
    model.set_producer_name("strata");
    model.set_producer_version(version());
    ::onnx::OperatorSetIdProto *opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(options.opset);
    ::onnx::GraphProto *graph = model.mutable_graph();
    graph->set_name(options.graph_name);
    GraphWriter(graph, program, weights, options.opset).write();
    if (model.ByteSizeLong() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
        fail("onnx export: the model is {} bytes, over protobuf's 2 GiB limit", model.ByteSizeLong());
    std::string bytes;
    if (!model.SerializeToString(&bytes)) fail("onnx export: protobuf could not serialize the model");
    check_model_bytes(bytes, "onnx export");
    return bytes;
}

void export_model(const ir::Program &program, const std::map<std::string, Tensor> &weights, const std::string &path,
               const ExportOptions &options) {
    write_file_atomically(path, export_model_bytes(program, weights, options));
}

}  // namespace strata::onnx
