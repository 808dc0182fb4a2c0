// PyTorch <-> ONNX <-> Strata: every PyTorch-exported fixture of tests/fixtures/onnx/
// (make_models.py) imports and matches PyTorch's saved outputs at batch 2 and 3; Strata models
// exported with export_model_bytes and imported again give the same outputs, bit for bit where
// the importer maps each exported op back to the Strata op it came from.
#include "frontend/nn.h"
#include "frontend/onnx/onnx_export.h"
#include "frontend/onnx/onnx_import.h"
#include "runtime/safetensors.h"
#include "ir/node.h"
#include "ir/program.h"
#include "tests/support/temp_dir.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <cmath>
#include <cstring>
#include <fstream>
#include <string>

using namespace strata;
using strata::testing::TempDir;

namespace {

const std::string kFixtures = std::string(STRATA_SOURCE_DIR) + "/tests/fixtures/onnx/";

/// max |a - b| / max(max |b|, 1e-6): the error relative to the output's scale.
double relative_error(const Tensor &a, const Tensor &b) {
    REQUIRE(a.shape() == b.shape());
    double diff = 0, scale = 1e-6;
    for (int64_t i = 0; i < a.numel(); ++i) {
        diff = std::max(diff, std::abs(a.get_flat(i) - b.get_flat(i)));
        scale = std::max(scale, std::abs(b.get_flat(i)));
    }
    return diff / scale;
}

/// Number of elements whose f32 bits differ (0: bit-identical).
int64_t differing_elements(const Tensor &a, const Tensor &b) {
    REQUIRE(a.shape() == b.shape());
    REQUIRE(a.dtype() == DType::f32);
    REQUIRE(b.dtype() == DType::f32);
    const Tensor ca = a.contiguous(), cb = b.contiguous();
    const float *pa = ca.data<float>(), *pb = cb.data<float>();
    int64_t n = 0;
    for (int64_t i = 0; i < a.numel(); ++i) n += std::memcmp(pa + i, pb + i, sizeof(float)) != 0;
    return n;
}

/// `model` exported (at the batch of `example`) and imported again from the file.
strata::onnx::OnnxModel reimported(nn::Module &model, const Tensor &example, const TempDir &dir,
                                   const std::string &name) {
    Graph g;
    g.output("output", model.forward(g.input("input", example.shape())));
    const std::string bytes = strata::onnx::export_model_bytes(g.program(), g.parameter_values());
    const std::string path = dir / (name + ".onnx");
    std::ofstream(path, std::ios::binary) << bytes;
    return strata::onnx::OnnxModel(path);
}

/// `model` on `x`, compiled alone.
Tensor run_alone(nn::Module &model, const Tensor &x) {
    Graph g;
    g.output("output", model.forward(g.input("input", x.shape())));
    return g.compile().run(x);
}

struct Fixture {
    std::string onnx;  ///< NAME.onnx
    std::string io;    ///< NAME_io.safetensors: input/output (batch 2), input_b3/output_b3
};

// picker1d: conv+BN folded by PyTorch's exporter except bn2; picker1d_keep_bn: every
// BatchNormalization node kept (TrainingMode.PRESERVE), same weights and outputs.
const std::vector<Fixture> kPytorchModels = {{"lenet5", "lenet5"},     {"picker1d", "picker1d"},
                                             {"picker1d_keep_bn", "picker1d"}, {"resnet20", "resnet20"},
                                             {"unet1d", "unet1d"},     {"unet2d", "unet2d"}};

// PyTorch computes in f32 with other summation orders (oneDNN/MKL kernels): 1e-5 of the
// output's largest magnitude (measured at most 4.4e-7, LeNet-5 at batch 3).
constexpr double kPytorchTolerance = 1e-5;

}  // namespace

TEST_CASE("PyTorch's ONNX exports import and match PyTorch's outputs at batch 2 and 3, and re-exported they round-trip") {
    TempDir dir;
    for (const Fixture &fixture : kPytorchModels) {
        INFO("fixture " << fixture.onnx);
        const SafetensorsFile io = read_safetensors(kFixtures + fixture.io + "_io.safetensors");
        for (const char *key : {"input", "output", "input_b3", "output_b3"}) REQUIRE(io.find(key) != nullptr);
        const Tensor x2 = *io.find("input"), y2 = *io.find("output");
        const Tensor x3 = *io.find("input_b3"), y3 = *io.find("output_b3");
        strata::onnx::OnnxModel model(kFixtures + fixture.onnx + ".onnx");

        // Both batches in one compiled graph (one compile per model).
        Graph g;
        g.output("y2", model(g.input("x2", x2.shape())));
        g.output("y3", model(g.input("x3", x3.shape())));
        const auto out = g.compile().run({{"x2", x2}, {"x3", x3}});
        const double error2 = relative_error(out.at("y2"), y2), error3 = relative_error(out.at("y3"), y3);
        CHECK(error2 < kPytorchTolerance);
        CHECK(error3 < kPytorchTolerance);
        WARN(fixture.onnx << " vs PyTorch: relative error " << error2 << " (batch 2), " << error3 << " (batch 3)");

        // Strata -> ONNX -> Strata: the same program again, so the same kernels and bits.
        strata::onnx::OnnxModel again = reimported(*model, x2, dir, fixture.onnx);
        const Tensor direct = run_alone(*model, x2), round_trip = run_alone(*again, x2);
        CHECK(differing_elements(round_trip, direct) == 0);
        CHECK(relative_error(direct, y2) < kPytorchTolerance);
    }
}

namespace {

/// Deterministic values in [-scale, scale] (sin of the index), so weights and inputs are not
/// the initializers' and BatchNorm's running statistics are not 0 and 1.
void fill_wave(Tensor &t, double scale, double phase) {
    for (int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, scale * std::sin(0.37 * static_cast<double>(i) + phase));
}

void perturb(nn::Module &model) {
    double phase = 0.1;
    const auto parameters = model.named_parameters(), buffers = model.named_buffers();  // items() refers into them
    for (const auto &[name, value] : parameters.items()) {
        Tensor t = value;  // a handle on the model's storage
        fill_wave(t, 0.5, phase += 0.7);
    }
    for (const auto &[name, value] : buffers.items()) {
        Tensor t = value;
        fill_wave(t, 0.3, phase += 0.7);
        if (name.find("running_var") != std::string::npos)
            for (int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, 1.0 + t.get_flat(i));
    }
}

struct RoundTrip {
    int64_t differing;  ///< output elements whose bits differ
    double error;       ///< relative_error of the round trip's output to the model's
};

/// `model` (weights perturbed, eval mode) on an input of `shape`, and the same model exported
/// and imported again, on the same input.
RoundTrip round_trip(const std::string &name, nn::Module &model, const Shape &shape, const TempDir &dir) {
    perturb(model);
    model.eval();
    Tensor x = Tensor::empty(shape);
    fill_wave(x, 2.0, 0.3);
    strata::onnx::OnnxModel again = reimported(model, x, dir, name);
    const Tensor direct = run_alone(model, x), round_trip = run_alone(*again, x);
    return {differing_elements(round_trip, direct), relative_error(round_trip, direct)};
}

}  // namespace

TEST_CASE("Strata models exported to ONNX and imported again give the same outputs") {
    TempDir dir;
    // Each op exports to one ONNX op that imports back to the same Strata op: the same bits.
    nn::Sequential conv1d(nn::Conv1d(nn::Conv1dOptions(3, 8, 5).padding(2)), nn::BatchNorm1d(8), nn::LeakyReLU(0.1),
                          nn::MaxPool1d(2), nn::ConvTranspose1d(nn::ConvTranspose1dOptions(8, 4, 2).stride(2)),
                          nn::Sigmoid(), nn::Flatten(), nn::Linear(4 * 16, 5), nn::Tanh());
    CHECK(round_trip("conv1d", *conv1d, {2, 3, 16}, dir).differing == 0);
    nn::Sequential conv2d(nn::Conv2d(nn::Conv2dOptions(3, 4, 3).padding(1)), nn::ReLU(), nn::AvgPool2d(2),
                          nn::Upsample(nn::UpsampleOptions().scale_factor({2}).mode("bilinear")), nn::ELU());
    CHECK(round_trip("conv2d", *conv2d, {2, 3, 8, 8}, dir).differing == 0);
    // Ops ONNX spells differently come back as the same Strata ops (frontend/onnx/onnx_patterns.h):
    // linear on a 3-D input (Transpose + MatMul + Add), gelu (0.5 x (1 + erf(x / sqrt 2))), layer
    // norm's rsqrt (1 / Sqrt), softplus with its threshold (Where); adaptive_avg_pool1d dividing
    // its input comes back as avg_pool1d, which sums in the same order.
    nn::Sequential composed(nn::Linear(16, 16), nn::GELU(), nn::LayerNorm(nn::LayerNormOptions({16})), nn::Softplus(),
                            nn::AdaptiveAvgPool1d(8));
    CHECK(round_trip("composed", *composed, {2, 3, 16}, dir).differing == 0);
}

namespace {

/// A parameter of `shape` with deterministic values in [-scale, scale].
SymTensor wave_parameter(Graph &g, const std::string &name, const Shape &shape, double scale, double phase) {
    Tensor t = Tensor::empty(shape);
    fill_wave(t, scale, phase);
    return g.parameter(name, t);
}

/// The ops of every node an output reaches (sources left out: constants may come back as
/// buffers), by name, with their counts.
std::multiset<std::string> ops_reaching_outputs(const ir::Program &program) {
    std::multiset<std::string> ops;
    std::set<const ir::Node *> seen;
    std::vector<const ir::Node *> stack;
    for (const ir::Output &o : program.outputs()) stack.push_back(o.node);
    while (!stack.empty()) {
        const ir::Node *n = stack.back();
        stack.pop_back();
        if (!seen.insert(n).second) continue;
        if (n->info().op_class != ir::OpClass::source && n->op != ir::Op::input && n->op != ir::Op::parameter)
            ops.insert(ir::op_name(n->op));
        for (const ir::Node *i : n->inputs) stack.push_back(i);
    }
    return ops;
}

/// Every op Strata's ONNX export writes, each as its own output (several forms where the
/// export writes them differently), on a 1-D input x [2, 4, 8], a 2-D input image [2, 3, 6, 6]
/// and class labels [2].
/// With `only` set, the graph gets that output alone (each op compiled on its own, as a model
/// of it would be: the partition into kernels depends on the whole graph).
std::vector<std::string> add_every_exported_op(Graph &g, const std::string &only = "") {
    const SymTensor x = g.input("x", {2, 4, 8});
    const SymTensor image = g.input("image", {2, 3, 6, 6});
    const SymTensor labels = g.input("labels", {2}, DType::i32);
    const SymTensor y = wave_parameter(g, "y", {2, 4, 8}, 1.5, 0.2);
    const SymTensor positive = abs(x) + 0.25;
    std::vector<std::string> names;
    auto out = [&](const std::string &name, const SymTensor &value) {
        names.push_back(name);
        if (only.empty() || only == name) g.output(name, value);
    };
    // pointwise
    out("neg", -x), out("exp", exp(x)), out("log", log(positive)), out("sqrt", sqrt(positive));
    out("rsqrt", rsqrt(positive)), out("abs", abs(x)), out("relu", relu(x)), out("sigmoid", sigmoid(x));
    out("tanh", tanh(x)), out("erf", erf(x)), out("add", x + y), out("sub", x - y), out("mul", x * y);
    out("div", x / positive), out("pow", pow(positive, y)), out("maximum", maximum(x, y));
    out("minimum", minimum(x, y)), out("eq", eq(x, y)), out("ne", ne(x, relu(x))), out("lt", lt(x, y));
    out("le", le(x, y)), out("gt", gt(x, y)), out("ge", ge(x, y));
    out("and_or_not", (gt(x, y) && lt(x, positive)) || !ge(x, relu(y))), out("where", where(gt(x, y), x, y));
    out("leaky_relu", leaky_relu(x, 0.125)), out("elu", elu(x, 0.7)), out("cast", cast(x, DType::f64));
    out("leaky_relu_f64", leaky_relu(cast(x, DType::f64), 0.1));  // a slope f32 cannot hold
    out("gelu", gelu(x)), out("gelu_tanh", gelu(x, "tanh")), out("softplus", softplus(x, 2.0, 3.0));
    out("dropout_eval", dropout(x, 0.5, false));
    // reductions and normalisation
    out("sum", sum(x, {2})), out("mean", mean(x, {1}, true)), out("max", max(x, {2}));
    out("argmax", argmax(x, 2)), out("softmax", softmax(x, 1)), out("log_softmax", log_softmax(x, 2));
    const SymTensor logits = linear(flatten(x, 1), wave_parameter(g, "head.weight", {5, 32}, 0.3, 0.4),
                                    wave_parameter(g, "head.bias", {5}, 0.2, 0.9));
    out("linear_2d", logits), out("cross_entropy", cross_entropy(logits, labels));
    const SymTensor gamma = wave_parameter(g, "bn.weight", {4}, 0.5, 1.3) + 1.0;
    const SymTensor beta = wave_parameter(g, "bn.bias", {4}, 0.5, 1.7);
    out("batch_norm_train", batch_norm(x, {}, {}, gamma, beta, true).output);
    out("layer_norm", layer_norm(x, {8}, wave_parameter(g, "ln.weight", {8}, 0.5, 2.1),
                                 wave_parameter(g, "ln.bias", {8}, 0.5, 2.5)));
    // linear algebra
    out("matmul", matmul(x, wave_parameter(g, "m", {8, 5}, 0.5, 2.9)));
    out("linear_3d", linear(x, wave_parameter(g, "fc.weight", {5, 8}, 0.5, 3.3), wave_parameter(g, "fc.bias", {5}, 0.5, 3.7)));
    out("linear_3d_no_bias", linear(x, wave_parameter(g, "proj.weight", {3, 8}, 0.5, 4.1)));
    // convolutions
    ConvOptions strided;
    strided.stride = {2};
    strided.padding = Padding(1);
    out("conv1d", conv1d(x, wave_parameter(g, "c1.weight", {6, 4, 3}, 0.4, 4.5), wave_parameter(g, "c1.bias", {6}, 0.2, 4.9), strided));
    ConvOptions dilated;
    dilated.padding = Padding(2);
    dilated.dilation = {2};
    dilated.groups = 3;
    out("conv2d", conv2d(image, wave_parameter(g, "c2.weight", {6, 1, 3, 3}, 0.4, 5.3), {}, dilated));
    ConvTransposeOptions up;
    up.stride = {2};
    up.padding = {1};
    up.output_padding = {1};
    out("conv_transpose1d", conv_transpose1d(x, wave_parameter(g, "t1.weight", {4, 3, 4}, 0.4, 5.7), wave_parameter(g, "t1.bias", {3}, 0.2, 6.1), up));
    out("conv_transpose2d", conv_transpose2d(image, wave_parameter(g, "t2.weight", {3, 2, 2, 2}, 0.4, 6.5), {}, ConvTransposeOptions{{2}}));
    // pooling and resampling
    out("max_pool1d", max_pool1d(x, {2}));
    MaxPoolOptions ceil;
    ceil.stride = {2};
    ceil.padding = {1};
    ceil.ceil_mode = true;
    out("max_pool2d_ceil", max_pool2d(image, {3}, ceil));
    AvgPoolOptions uncounted;
    uncounted.stride = {2};
    uncounted.padding = {1};
    uncounted.count_include_pad = false;
    out("avg_pool1d", avg_pool1d(x, {3}, uncounted)), out("avg_pool2d", avg_pool2d(image, {2}));
    // Not here: max_poolNd_with_indices' indices and max_unpoolNd export (MaxPool's second
    // output, MaxUnpool), but Strata's import does not read them back yet.
    out("adaptive_1d_dividing", adaptive_avg_pool1d(x, {4})), out("adaptive_1d_global", adaptive_avg_pool1d(x, {1}));
    out("adaptive_2d_global", adaptive_avg_pool2d(image, {1, 1})), out("adaptive_2d", adaptive_avg_pool2d(image, {4, 4}));
    out("adaptive_1d", adaptive_avg_pool1d(x, {3}));
    InterpolateOptions nearest;
    nearest.scale_factor = {2};
    out("upsample_nearest1d", interpolate(x, nearest)), out("upsample_nearest2d", interpolate(image, nearest));
    InterpolateOptions linear_to;
    linear_to.size = {11};
    linear_to.mode = "linear";
    linear_to.align_corners = true;
    out("upsample_linear1d", interpolate(x, linear_to));
    InterpolateOptions bilinear;
    bilinear.size = {9, 10};
    bilinear.mode = "bilinear";
    out("upsample_bilinear2d", interpolate(image, bilinear));
    // layout
    out("reshape", reshape(x, {2, 32})), out("permute", permute(x, {0, 2, 1}));
    out("expand", expand(wave_parameter(g, "row", {1, 4, 1}, 0.5, 6.9), {2, 4, 8}));
    out("slice", slice(x, 2, 1, 7, 2)), out("concat", concat({x, y}, 1));
    out("pad_constant", pad(x, {1, 2}, "constant", 0.5)), out("pad_reflect", pad(x, {2, 1}, "reflect"));
    out("pad_replicate", pad(image, {1, 1, 2, 0}, "replicate")), out("pad_circular", pad(x, {2, 3}, "circular"));
    out("full_iota", x + g.constant(3.0, {2, 4, 8}) + cast(g.iota(2, {2, 4, 8}), DType::f32));
    return names;
}

}  // namespace

/// Bits of `a` and `b` differ (dtype and shape must agree).
bool differ(const Tensor &a, const Tensor &b) {
    REQUIRE(a.dtype() == b.dtype());
    REQUIRE(a.shape() == b.shape());
    const Tensor ca = a.contiguous(), cb = b.contiguous();
    return std::memcmp(ca.raw_data(), cb.raw_data(), ca.nbytes()) != 0;
}

TEST_CASE("Every op Strata exports to ONNX comes back as the same Strata op, with bit-identical outputs") {
    TempDir dir;
    std::map<std::string, Tensor> feed;
    for (const auto &[name, shape] : std::vector<std::pair<std::string, Shape>>{{"x", {2, 4, 8}}, {"image", {2, 3, 6, 6}}}) {
        Tensor t = Tensor::empty(shape);
        fill_wave(t, 2.0, static_cast<double>(name.size()));
        feed[name] = t;
    }
    feed["labels"] = Tensor::from_vector(std::vector<int32_t>{3, 1}, {2});
    // What does not come back as it went out, and why.
    const std::set<std::string> same_bits_other_ops = {
        "pad_circular",          // Slice + Concat (ONNX's Pad has no wrap mode) -> slice + concat
        "adaptive_1d_dividing",  // AveragePool -> avg_pool1d (PyTorch's avg_pool exports alike)
        "full_iota",             // iota's Constant comes back as a buffer
    };
    // Non-dividing adaptive pooling exports as a Slice/ReduceMean/Concat per output cell, which
    // comes back as slice/mean/concat: the means sum in another order (to an f32 rounding).
    const std::set<std::string> other_bits = {"adaptive_1d", "adaptive_2d", "full_iota"};
    Graph all;
    const std::vector<std::string> names = add_every_exported_op(all);
    for (const std::string &name : names) {
        INFO("output " << name);
        Graph g;
        add_every_exported_op(g, name);
        const std::string path = dir / (name + ".onnx");
        std::ofstream(path, std::ios::binary) << strata::onnx::export_model_bytes(g.program(), g.parameter_values());
        strata::onnx::OnnxModel model(path);
        Graph again;
        std::map<std::string, SymTensor> inputs;
        std::map<std::string, Tensor> given;
        for (const strata::onnx::ModelInput &in : model->inputs()) {
            inputs[in.name] = again.input(in.name, in.shape, in.dtype);
            given[in.name] = feed.at(in.name);
        }
        again.output(name, model->forward(inputs).at(name));

        // The same ops (constants aside), so the same kernels.
        const std::multiset<std::string> ops = ops_reaching_outputs(g.program());
        const std::multiset<std::string> ops_again = ops_reaching_outputs(again.program());
        std::vector<std::string> lost, gained;
        std::set_difference(ops.begin(), ops.end(), ops_again.begin(), ops_again.end(), std::back_inserter(lost));
        std::set_difference(ops_again.begin(), ops_again.end(), ops.begin(), ops.end(), std::back_inserter(gained));
        INFO("ops only in the model: " << fmt::format("{}", fmt::join(lost, ", ")));
        INFO("ops only in the re-imported model: " << fmt::format("{}", fmt::join(gained, ", ")));
        const bool other_ops = same_bits_other_ops.count(name) || other_bits.count(name);
        CHECK((ops == ops_again) != other_ops);
        const Tensor direct = g.compile().run(given).at(name), round_trip = again.compile().run(given).at(name);
        if (!other_bits.count(name)) CHECK_FALSE(differ(direct, round_trip));
        else CHECK(relative_error(round_trip, direct) < 1e-6);
    }
}
