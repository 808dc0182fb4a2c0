// ONNX export: programs using every forward op export to models that onnx's own checker and
// strict shape inference accept (so ONNX's shape rules give Strata's output shapes: ceil-mode
// pooling, padding, adaptive pooling); initializers carry the weights bit for bit under their
// names; what ONNX cannot express is an error naming the node and op; `strata export` writes a
// checked file from a checkpoint.
#include "frontend/nn.h"
#include "frontend/onnx/onnx_export.h"
#include "frontend/train/checkpoint.h"

#include <catch2/catch.hpp>

#include "tests/support/error_message.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace strata;
using Catch::Matchers::Contains;
using strata::testing::error_message;
using strata::testing::run_command;
using strata::testing::run_ok;
using strata::testing::TempDir;

namespace {

/// onnx.checker.check_model(model, full_check=True), with onnx's C++ API directly (not through
/// the exporter's own check): throws onnx's error when the model is refused.
void full_check(const ::onnx::ModelProto &model) {
    ::onnx::checker::check_model(model);
    ::onnx::ModelProto inferred = model;
    ::onnx::ShapeInferenceOptions options;
    options.check_type = true;
    options.error_mode = 1;
    ::onnx::shape_inference::InferShapes(inferred, ::onnx::OpSchemaRegistry::Instance(), options);
}

::onnx::ModelProto parse(const std::string &bytes) {
    ::onnx::ModelProto model;
    REQUIRE(model.ParseFromString(bytes));
    return model;
}

/// Exports g's program with its parameter values, checks the model and returns it. With
/// STRATA_ONNX_EXPORT_DUMP=DIR set, also writes it there as N.onnx, to check by hand with Python:
///   /usr/bin/python3 -c 'import onnx,sys; [onnx.checker.check_model(f, full_check=True) for f in sys.argv[1:]]' DIR/*.onnx
::onnx::ModelProto export_checked(const Graph &g, const strata::onnx::ExportOptions &options = {}) {
    const std::string bytes = strata::onnx::export_model_bytes(g.program(), g.parameter_values(), options);
    static int dumped = 0;
    if (const char *dir = std::getenv("STRATA_ONNX_EXPORT_DUMP"))
        std::ofstream(std::filesystem::path(dir) / (std::to_string(dumped++) + ".onnx"), std::ios::binary) << bytes;
    const ::onnx::ModelProto model = parse(bytes);
    INFO(model.graph().DebugString());
    REQUIRE_NOTHROW(full_check(model));
    return model;
}

std::multiset<std::string> op_types(const ::onnx::ModelProto &model) {
    std::multiset<std::string> ops;
    for (const ::onnx::NodeProto &n : model.graph().node()) ops.insert(n.op_type());
    return ops;
}

const ::onnx::NodeProto &only_node(const ::onnx::ModelProto &model, const std::string &op_type) {
    const ::onnx::NodeProto *found = nullptr;
    for (const ::onnx::NodeProto &n : model.graph().node())
        if (n.op_type() == op_type) {
            REQUIRE(found == nullptr);
            found = &n;
        }
    REQUIRE(found != nullptr);
    return *found;
}

std::vector<int64_t> ints_attr(const ::onnx::NodeProto &node, const std::string &name) {
    for (const ::onnx::AttributeProto &a : node.attribute())
        if (a.name() == name) return {a.ints().begin(), a.ints().end()};
    FAIL("no attribute " << name << " on " << node.op_type());
    return {};
}

int64_t int_attr(const ::onnx::NodeProto &node, const std::string &name) {
    for (const ::onnx::AttributeProto &a : node.attribute())
        if (a.name() == name) return a.i();
    FAIL("no attribute " << name << " on " << node.op_type());
    return 0;
}

std::vector<int64_t> shape_of(const ::onnx::ValueInfoProto &value) {
    std::vector<int64_t> shape;
    for (const auto &d : value.type().tensor_type().shape().dim()) shape.push_back(d.dim_value());
    return shape;
}

Tensor random(const Shape &shape, uint64_t seed) {
    Generator gen(seed);
    return Tensor::randn(shape, gen);
}

}  // namespace

TEST_CASE("A CNN exports with its inputs, weights (bit for bit, by name) and outputs", "[onnx][export]") {
    Graph g;
    const SymTensor x = g.input("image", {2, 3, 8, 8});
    const SymTensor w = g.parameter("conv.weight", random({4, 3, 3, 3}, 1));
    const SymTensor b = g.parameter("conv.bias", random({4}, 2));
    const SymTensor fw = g.parameter("fc.weight", random({5, 64}, 3));
    SymTensor h = max_pool2d(relu(conv2d(x, w, b, {.stride = {1}, .padding = 1})), {2});
    h = linear(flatten(h, 1), fw);
    g.output("logits", h);
    g.output("probabilities", softmax(h, 1));
    const ::onnx::ModelProto model = export_checked(g);

    CHECK(model.opset_import(0).version() == 17);
    REQUIRE(model.graph().input_size() == 1);
    CHECK(model.graph().input(0).name() == "image");
    CHECK(shape_of(model.graph().input(0)) == std::vector<int64_t>{2, 3, 8, 8});
    REQUIRE(model.graph().output_size() == 2);
    CHECK(model.graph().output(0).name() == "logits");
    CHECK(shape_of(model.graph().output(0)) == std::vector<int64_t>{2, 5});
    CHECK(model.graph().output(1).name() == "probabilities");
    std::map<std::string, const ::onnx::TensorProto *> inits;
    for (const ::onnx::TensorProto &t : model.graph().initializer()) inits[t.name()] = &t;
    REQUIRE(inits.size() == 3);
    for (const auto &[name, value] : g.parameter_values()) {
        REQUIRE(inits.count(name));
        const ::onnx::TensorProto &t = *inits[name];
        CHECK(t.data_type() == ::onnx::TensorProto::FLOAT);
        CHECK(std::vector<int64_t>(t.dims().begin(), t.dims().end()) == value.shape());
        REQUIRE(t.raw_data().size() == value.nbytes());
        CHECK(std::memcmp(t.raw_data().data(), value.raw_data(), value.nbytes()) == 0);
    }
    const ::onnx::NodeProto &conv = only_node(model, "Conv");
    CHECK(ints_attr(conv, "pads") == std::vector<int64_t>{1, 1, 1, 1});
    CHECK(ints_attr(conv, "kernel_shape") == std::vector<int64_t>{3, 3});
    CHECK(int_attr(only_node(model, "Gemm"), "transB") == 1);  // x w^T, as nn.Linear
    CHECK(op_types(model).count("Softmax") == 1);
}

TEST_CASE("Pointwise ops, comparisons, casts and constants export and pass the checker", "[onnx][export]") {
    for (DType dtype : {DType::f32, DType::f64}) {
        Graph g;
        const SymTensor x = g.input("x", {2, 3}, dtype), y = g.input("y", {3}, dtype);
        const SymTensor c = g.constant(0.25, {2, 3}, dtype);
        g.output("unary", neg(exp(log(sqrt(abs(x) + 1.0)))) + rsqrt(abs(x) + 1.0) + erf(x) + tanh(x) + sigmoid(x));
        g.output("activations", relu(x) + leaky_relu(x, 0.2) + elu(x, 0.5) + gelu(x) + gelu(x, "tanh") +
                                    softplus(x, 2.0, 3.0));
        g.output("binary", pow(abs(x) + c, y) / (x - y) * maximum(x, y) + minimum(x, c));
        g.output("compare", where(((x < y) && (x <= y)) || !(x > y), x, y));
        g.output("equal", cast(x == y, DType::i32) + cast(x != y, DType::i32) + cast(x >= c, DType::i32));
        g.output("positions", g.iota(1, {2, 3}, dtype) + g.constant(1.5, {}, dtype));
        // eps = 1e-5 is not an f32: in f64 training-mode batch norm is spelled out, in f32 it is one node.
        const SymTensor w = g.parameter("w", Tensor::ones({3}, dtype)), b = g.parameter("b", Tensor::zeros({3}, dtype));
        g.output("normalised", batch_norm(x, {}, {}, w, b, true).output);
        const ::onnx::ModelProto model = export_checked(g);
        const std::multiset<std::string> ops = op_types(model);
        for (const char *op : {"Neg", "Exp", "Log", "Sqrt", "Abs", "Div", "Erf", "Tanh", "Sigmoid", "Relu", "Elu", "Softplus", "Where", "Pow", "Max", "Min", "Less", "LessOrEqual", "Greater",
                               "GreaterOrEqual", "Equal", "Not", "And", "Or", "Cast", "Constant", "ConstantOfShape"}) {
            INFO(op);
            CHECK(ops.count(op) >= 1);
        }
        CHECK(model.graph().output(4).type().tensor_type().elem_type() == ::onnx::TensorProto::INT32);
        CHECK(ops.count("BatchNormalization") == (dtype == DType::f32 ? 1 : 0));
        CHECK(ops.count("LeakyRelu") == (dtype == DType::f32 ? 1 : 0));  // 0.2 is no f32: x > 0 ? x : x * 0.2
    }
}

TEST_CASE("Convolutions, pooling and normalisation export with ONNX shapes equal to Strata's", "[onnx][export]") {
    Graph g;
    const SymTensor x1 = g.input("signal", {2, 4, 17});
    const SymTensor x2 = g.input("image", {2, 4, 9, 7});
    // Grouped, strided, dilated 1-D convolution; transposed convolutions with output_padding.
    const SymTensor w1 = g.parameter("c1.weight", random({6, 2, 3}, 4));
    g.output("conv1d", conv1d(x1, w1, {}, {.stride = {2}, .padding = 2, .dilation = {2}, .groups = 2}));
    const SymTensor wt1 = g.parameter("t1.weight", random({4, 3, 4}, 5)), bt1 = g.parameter("t1.bias", random({3}, 6));
    g.output("conv_transpose1d", conv_transpose1d(x1, wt1, bt1, {.stride = {3}, .padding = {1}, .output_padding = {2}}));
    const SymTensor wt2 = g.parameter("t2.weight", random({4, 2, 3, 2}, 7));
    g.output("conv_transpose2d",
             conv_transpose2d(x2, wt2, {}, {.stride = {2, 1}, .padding = {1, 0}, .output_padding = {1, 0}, .groups = 2}));
    // ceil_mode where PyTorch drops the last window (it would start in the padding): 9 -> 5 rows, not 6.
    g.output("max_pool2d", max_pool2d(x2, {2, 3}, {.stride = {2, 2}, .padding = {1, 1}, .ceil_mode = true}));
    g.output("max_pool1d", max_pool1d(x1, {3}, {.stride = {2}, .padding = {1}, .dilation = {2}}));
    g.output("avg_pool2d", avg_pool2d(x2, {3, 3}, {.stride = {2, 2}, .padding = {1, 1}, .count_include_pad = false}));
    g.output("avg_pool1d_ceil", avg_pool1d(x1, {4}, {.stride = {4}, .ceil_mode = true, .count_include_pad = false}));
    g.output("global", adaptive_avg_pool2d(x2, {1, 1}));
    g.output("adaptive_to_one", adaptive_avg_pool1d(x1, {1}));
    g.output("adaptive_divides", adaptive_avg_pool2d(x2, {3, 7}));
    g.output("adaptive_windows", adaptive_avg_pool2d(x2, {4, 3}));
    const SymTensor mean = g.parameter("bn.running_mean", random({4}, 8));
    const SymTensor var = g.parameter("bn.running_var", Tensor::full({4}, 1.5));
    const SymTensor gamma = g.parameter("bn.weight", random({4}, 9)), beta = g.parameter("bn.bias", random({4}, 10));
    g.output("bn_eval", batch_norm(x2, mean, var, gamma, beta, false).output);
    g.output("bn_train", batch_norm(x1, mean, var, gamma, beta, true).output);
    g.output("layer_norm", layer_norm(x2, {7}, g.parameter("ln.weight", random({7}, 11))));
    const ::onnx::ModelProto model = export_checked(g);
    for (const ::onnx::ValueInfoProto &out : model.graph().output()) {
        const ir::Node *node = g.program().find_output(out.name());
        REQUIRE(node != nullptr);
        INFO(out.name());
        CHECK(shape_of(out) == node->shape());
    }
    const std::multiset<std::string> ops = op_types(model);
    for (const char *op : {"Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "Slice",
                           "ReduceMean", "Concat", "BatchNormalization"}) {
        INFO(op);
        CHECK(ops.count(op) >= 1);
    }
}

TEST_CASE("Pooling indices, unpooling, reductions, losses and layout ops export", "[onnx][export]") {
    Graph g;
    const SymTensor x = g.input("x", {2, 3, 6, 4});
    const MaxPoolWithIndices pooled = max_pool2d_with_indices(x, {2, 2});
    g.output("indices", pooled.indices);
    g.output("unpooled", max_unpool2d(pooled.output, pooled.indices, {2, 2}));
    g.output("sum", sum(x, {1, 3}, true));
    g.output("mean", mean(x, {0}));
    g.output("max", max(x, {2, 3}));
    g.output("argmax", argmax(x, 2, true));
    g.output("log_softmax", log_softmax(x, 3));
    g.output("permuted", permute(reshape(x, {2, 3, 24}), {2, 0, 1}));
    g.output("expanded", expand(slice(x, 1, 0, 1), {2, 5, 6, 4}));
    g.output("strided", slice(x, 2, 1, 6, 2));
    g.output("joined", concat({x, x * 2.0}, 3));
    g.output("padded", pad(x, {1, 2, 0, 1}, "constant", -3.5));
    g.output("reflected", pad(x, {2, 1, 1, 1}, "reflect"));
    g.output("replicated", pad(x, {0, 3}, "replicate"));
    g.output("circular", pad(x, {1, 2, 2, 0}, "circular"));
    g.output("cropped", pad(x, {-1, 0, 0, -2}));
    const SymTensor logits = g.input("logits", {4, 3}), target = g.input("target", {4}, DType::i32);
    g.output("loss", cross_entropy(logits, target, {.ignore_index = 1}));
    g.output("loss_none", cross_entropy(logits, target, {.reduction = "none"}));
    const ::onnx::ModelProto model = export_checked(g);
    for (const ::onnx::ValueInfoProto &out : model.graph().output()) {
        INFO(out.name());
        CHECK(shape_of(out) == g.program().find_output(out.name())->shape());
    }
    const std::multiset<std::string> ops = op_types(model);
    for (const char *op : {"MaxPool", "MaxUnpool", "ReduceSum", "ReduceMean", "ReduceMax", "ArgMax", "LogSoftmax",
                           "Reshape", "Transpose", "Expand", "Slice", "Concat", "Pad", "SoftmaxCrossEntropyLoss"}) {
        INFO(op);
        CHECK(ops.count(op) >= 1);
    }
}

TEST_CASE("Upsampling exports as Resize with PyTorch's coordinate rules, and i64 values as INT64", "[onnx][export]") {
    Graph g;
    const SymTensor x1 = g.input("signal", {2, 3, 5}), x2 = g.input("image", {1, 2, 4, 3});
    g.output("nearest1d", interpolate(x1, {.scale_factor = {2.0}}));
    g.output("nearest2d_size", interpolate(x2, {.size = {7, 5}}));
    g.output("linear1d", interpolate(x1, {.size = {9}, .mode = "linear", .align_corners = true}));
    g.output("bilinear2d", interpolate(x2, {.scale_factor = {2.0, 3.0}, .mode = "bilinear"}));
    g.output("bilinear2d_odd", interpolate(x2, {.scale_factor = {1.7, 0.6}, .mode = "bilinear"}));
    const SymTensor t = g.input("target", {2}, DType::i64);
    g.output("loss", cross_entropy(g.input("logits", {2, 4}), t));
    g.output("target_plus_one", t + g.constant(1.0, {}, DType::i64));
    const ::onnx::ModelProto model = export_checked(g);
    for (const ::onnx::ValueInfoProto &out : model.graph().output()) {
        INFO(out.name());
        CHECK(shape_of(out) == g.program().find_output(out.name())->shape());
    }
    std::map<std::string, int64_t> modes;
    for (const ::onnx::NodeProto &n : model.graph().node())
        if (n.op_type() == "Resize")
            for (const ::onnx::AttributeProto &a : n.attribute())
                if (a.name() == "coordinate_transformation_mode") ++modes[a.s()];
    CHECK(modes == std::map<std::string, int64_t>{{"asymmetric", 2}, {"align_corners", 1}, {"pytorch_half_pixel", 2}});
    CHECK(model.graph().input(2).type().tensor_type().elem_type() == ::onnx::TensorProto::INT64);
}

TEST_CASE("Opset 13 exports too, and what it lacks is named", "[onnx][export]") {
    Graph g;
    const SymTensor x = g.input("x", {2, 3, 5});
    g.output("y", max_pool1d(relu(x), {2}) + 1.0);
    CHECK(export_checked(g, {.opset = 13}).opset_import(0).version() == 13);
    Graph bn;
    const SymTensor v = bn.input("x", {2, 3, 5});
    const SymTensor w = bn.parameter("w", Tensor::ones({3})), b = bn.parameter("b", Tensor::zeros({3}));
    bn.output("y", batch_norm(v, {}, {}, w, b, true).output);
    CHECK_THAT(error_message([&] { strata::onnx::export_model_bytes(bn.program(), bn.parameter_values(), {.opset = 13}); }),
               Contains("batch_norm_train") && Contains("opset 14"));
    CHECK_THAT(error_message([&] { strata::onnx::export_model_bytes(g.program(), g.parameter_values(), {.opset = 12}); }),
               Contains("opset 12"));
}

TEST_CASE("What ONNX cannot express is an error naming the node and op", "[onnx][export]") {
    {
        Graph g;
        const SymTensor x = g.input("x", {2, 3, 8});
        const SymTensor w = g.parameter("w", random({4, 3, 3}, 12));
        const SymTensor loss = sum(conv1d(x, w), {0, 1, 2});
        g.output("grad", g.gradients(loss, {w})[0]);
        CHECK_THAT(error_message([&] { strata::onnx::export_model_bytes(g.program(), g.parameter_values()); }),
                   Contains("conv1d_grad_weight") && Contains("gradient op"));
    }
    {
        Graph g;
        g.output("y", dropout(g.input("x", {4, 4}), 0.5, true, 7));
        CHECK_THAT(error_message([&] { strata::onnx::export_model_bytes(g.program(), g.parameter_values()); }),
                   Contains("(dropout)") && Contains("eval mode"));
    }
    {
        Graph g;
        g.output("loss", cross_entropy(g.input("x", {4, 3}), g.input("t", {4}, DType::i32), {.label_smoothing = 0.1}));
        CHECK_THAT(error_message([&] { strata::onnx::export_model_bytes(g.program(), g.parameter_values()); }),
                   Contains("cross_entropy") && Contains("label_smoothing"));
    }
    {
        Graph g;
        g.output("y", avg_pool1d(g.input("x", {1, 1, 8}), {2}, {.divisor_override = 3}));
        CHECK_THAT(error_message([&] { strata::onnx::export_model_bytes(g.program(), g.parameter_values()); }),
                   Contains("avg_pool1d") && Contains("divisor_override"));
    }
    {
        Graph g;
        const SymTensor x = g.input("x", {2, 3});
        g.output("y", linear(x, g.parameter("fc.weight", random({4, 3}, 13))));
        std::map<std::string, Tensor> weights;  // missing, then of another shape
        CHECK_THAT(error_message([&] { strata::onnx::export_model_bytes(g.program(), weights); }),
                   Contains("no weight for parameter 'fc.weight'"));
        weights["fc.weight"] = Tensor::zeros({3, 4});
        CHECK_THAT(error_message([&] { strata::onnx::export_model_bytes(g.program(), weights); }),
                   Contains("'fc.weight'") && Contains("f32[3,4]") && Contains("f32[4,3]"));
    }
    CHECK_THAT(error_message([] { strata::onnx::check_model_bytes("not a model", "junk.onnx"); }), Contains("junk.onnx"));
}

TEST_CASE("strata export writes a checked ONNX file from a checkpoint", "[onnx][export][cli]") {
    const std::string strata = std::string(STRATA_BINARY_DIR) + "/bin/strata";
    INFO("build the strata command line (target strata_cli) before running this test");
    REQUIRE(std::filesystem::exists(strata));
    TempDir work;
    manual_seed(3);
    nn::Sequential net(nn::Conv1d(nn::Conv1dOptions(3, 8, 5).padding(2)), nn::BatchNorm1d(8), nn::ReLU(),
                       nn::MaxPool1d(2), nn::Flatten(), nn::Linear(8 * 16, 3));
    net->eval();
    Graph g;
    g.output("logits", net->forward(g.input("waveform", {4, 3, 32})));
    CheckpointInfo info;
    info.ir = g.to_string();
    const std::string checkpoint = (work.path / "picker.safetensors").string();
    const std::string onnx_file = (work.path / "picker.onnx").string();
    save_checkpoint(checkpoint, *net, nullptr, info);
    CHECK_THAT(run_ok(strata + " export " + checkpoint + " --out " + onnx_file + " --batch 2"),
               Contains("picker.onnx"));
    std::ifstream in(onnx_file, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    const ::onnx::ModelProto model = parse(bytes.str());
    REQUIRE_NOTHROW(full_check(model));
    CHECK(shape_of(model.graph().input(0)) == std::vector<int64_t>{2, 3, 32});  // --batch 2
    std::set<std::string> names;
    for (const ::onnx::TensorProto &t : model.graph().initializer()) names.insert(t.name());
    for (const auto &[name, value] : net->named_parameters()) CHECK(names.count(name));
    CHECK(names.count("1.running_mean"));

    const auto refused = run_command(strata + " export " + (work.path / "missing.safetensors").string() + " --out " +
                                     (work.path / "x.onnx").string());
    CHECK(refused.status != 0);
    CHECK_THAT(refused.output, Contains("missing.safetensors"));
    CHECK_FALSE(std::filesystem::exists(work.path / "x.onnx"));
    CHECK(run_command(strata + " export " + checkpoint + " --out " + onnx_file + " --opset 12").status != 0);
}
