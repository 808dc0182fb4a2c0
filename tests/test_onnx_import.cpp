// ONNX import: models written here with libonnx's classes, checked against naive loops; bad
// files and unsupported ops/attributes give errors naming them; checkpoints of imported models
// run; a few cases of ONNX's own backend test data pass.

#include "frontend/onnx/onnx_conformance.h"
#include "frontend/onnx/onnx_import.h"
#include "frontend/train/checkpoint.h"
#include "codegen/compiler.h"
#include "ir/parser.h"
#include "tests/support/error_message.h"
#include "tests/support/onnx_model_builder.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"

#include <strata/error.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

using namespace strata;
using strata::testing::OnnxModelBuilder;
using strata::testing::TempDir;

namespace {

const std::string kTestData = "/usr/share/libonnx-testdata/data";

/// fc: Gemm(transB) + Relu over x [N, 4] with weights "fc.weight" [3, 4] and "fc.bias" [3].
OnnxModelBuilder linear_relu_model() {
    OnnxModelBuilder b;
    b.input("x", {-1, 4});
    std::vector<float> w(12), bias = {0.5f, -1.0f, 0.25f};
    for (int i = 0; i < 12; ++i) w[i] = 0.1f * static_cast<float>(i) - 0.5f;
    b.initializer("fc.weight", {3, 4}, w);
    b.initializer("fc.bias", {3}, bias);
    auto &gemm = b.node("Gemm", {"x", "fc.weight", "fc.bias"}, {"h"}, "fc");
    OnnxModelBuilder::attr(gemm, "transB", int64_t{1});
    b.node("Relu", {"h"}, {"y"}, "relu");
    b.output("y", {-1, 3});
    return b;
}

Tensor ramp(const Shape &shape, double scale) {
    Tensor t = Tensor::empty(shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, std::sin(0.7 * static_cast<double>(i)) * scale);
    return t;
}

/// relu(x W^T + b) in double.
std::vector<double> linear_relu_reference(const Tensor &x, const Tensor &w, const Tensor &b) {
    const int64_t n = x.size(0), in = x.size(1), out = w.size(0);
    std::vector<double> y(n * out);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t o = 0; o < out; ++o) {
            double s = b.get_flat(o);
            for (int64_t k = 0; k < in; ++k) s += x.get_flat(i * in + k) * w.get_flat(o * in + k);
            y[i * out + o] = std::max(s, 0.0);
        }
    return y;
}

}  // namespace

TEST_CASE("an imported Gemm + Relu keeps the ONNX initializer names and runs at any batch") {
    TempDir dir;
    const std::string path = linear_relu_model().save(dir / "fc.onnx");
    strata::onnx::OnnxModel model(path);
    const auto params = model->named_parameters();
    REQUIRE(params.keys() == std::vector<std::string>{"fc.weight", "fc.bias"});
    REQUIRE(model->inputs().at(0).shape == Shape{1, 4});  // the symbolic batch at import
    for (int64_t batch : {2, 5}) {
        Graph g;
        g.output("y", model(g.input("x", {batch, 4})));
        const Tensor x = ramp({batch, 4}, 2.0);
        const Tensor y = g.compile().run(x);
        const auto want = linear_relu_reference(x, *params.find("fc.weight"), *params.find("fc.bias"));
        REQUIRE(y.shape() == Shape{batch, 3});
        for (int64_t i = 0; i < y.numel(); ++i) CHECK(y.get_flat(i) == Approx(want[i]).margin(1e-6));
    }
}

TEST_CASE("PyTorch's flatten export (Shape, Gather, Unsqueeze, Concat, Reshape) folds at import for each batch") {
    OnnxModelBuilder b;
    b.input("x", {-1, 2, 3});
    b.int_initializer("zero", {0});
    b.int_initializer("minus_one", {-1});
    b.node("Shape", {"x"}, {"shape"});
    auto &gather = b.node("Gather", {"shape", "zero"}, {"batch"});
    OnnxModelBuilder::attr(gather, "axis", int64_t{0});
    OnnxModelBuilder::attr(b.node("Concat", {"batch", "minus_one"}, {"target"}), "axis", int64_t{0});
    b.node("Reshape", {"x", "target"}, {"flat"});
    b.node("Sigmoid", {"flat"}, {"y"});
    b.output("y", {-1, 6});
    TempDir dir;
    strata::onnx::OnnxModel model(b.save(dir / "flatten.onnx"));
    for (int64_t batch : {1, 3}) {
        Graph g;
        g.output("y", model(g.input("x", {batch, 2, 3})));
        const Tensor x = ramp({batch, 2, 3}, 3.0);
        const Tensor y = g.compile().run(x);
        REQUIRE(y.shape() == Shape{batch, 6});
        for (int64_t i = 0; i < y.numel(); ++i) CHECK(y.get_flat(i) == Approx(1 / (1 + std::exp(-x.get_flat(i)))).margin(1e-6));
    }
}

TEST_CASE("an imported model saves as a checkpoint that runs as its IR with its weights") {
    TempDir dir;
    const std::string path = linear_relu_model().save(dir / "fc.onnx");
    strata::onnx::import_to_checkpoint(path, dir / "fc.safetensors", {.batch = 2});
    const Checkpoint ck = read_checkpoint(dir / "fc.safetensors");
    REQUIRE(ck.file.find("fc.weight") != nullptr);
    const ir::Program program = ir::parse(ck.info.ir, "strata.ir");
    std::map<std::string, Tensor> sources;
    for (const auto &[name, t] : ck.file.tensors) sources[name] = t;
    const Tensor x = ramp({2, 4}, 1.5);
    sources["x"] = x;
    const Tensor y = codegen::compile(program).run(sources).at(0);
    const auto want = linear_relu_reference(x, *ck.file.find("fc.weight"), *ck.file.find("fc.bias"));
    for (int64_t i = 0; i < y.numel(); ++i) CHECK(y.get_flat(i) == Approx(want[i]).margin(1e-6));
}

TEST_CASE("Resize as PyTorch exports it maps onto interpolate: nearest (asymmetric, floor) and linear (align_corners)") {
    TempDir dir;
    OnnxModelBuilder nearest;
    nearest.input("x", {1, 1, 2, 2});
    nearest.initializer("scales", {4}, {1, 1, 2, 2});
    auto &n = nearest.node("Resize", {"x", "", "scales"}, {"y"}, "up");
    OnnxModelBuilder::attr(n, "mode", std::string("nearest"));
    OnnxModelBuilder::attr(n, "coordinate_transformation_mode", std::string("asymmetric"));
    OnnxModelBuilder::attr(n, "nearest_mode", std::string("floor"));
    nearest.output("y", {1, 1, 4, 4});
    strata::onnx::OnnxModel up(nearest.save(dir / "nearest.onnx"));
    {
        Graph g;
        g.output("y", up(g.input("x", {1, 1, 2, 2})));
        const Tensor x = ramp({1, 1, 2, 2}, 1.0);
        const Tensor y = g.compile().run(x);
        REQUIRE(y.shape() == Shape{1, 1, 4, 4});
        for (int64_t i = 0; i < 4; ++i)
            for (int64_t j = 0; j < 4; ++j) CHECK(y.get_flat(i * 4 + j) == x.get_flat((i / 2) * 2 + j / 2));
    }
    OnnxModelBuilder linear;
    linear.input("x", {1, 1, 3});
    linear.int_initializer("sizes", {1, 1, 5});
    auto &l = linear.node("Resize", {"x", "", "", "sizes"}, {"y"}, "up");
    OnnxModelBuilder::attr(l, "mode", std::string("linear"));
    OnnxModelBuilder::attr(l, "coordinate_transformation_mode", std::string("align_corners"));
    linear.output("y", {1, 1, 5});
    strata::onnx::OnnxModel up1(linear.save(dir / "linear.onnx"));
    Graph g;
    g.output("y", up1(g.input("x", {1, 1, 3})));
    const Tensor y = g.compile().run(Tensor::from_vector<float>({0, 1, 4}, {1, 1, 3}));
    const std::vector<double> want = {0, 0.5, 1, 2.5, 4};
    for (int64_t i = 0; i < 5; ++i) CHECK(y.get_flat(i) == Approx(want[i]).margin(1e-6));
    // A coordinate rule PyTorch has no counterpart for is refused, naming the attribute.
    OnnxModelBuilder cubic;
    cubic.input("x", {1, 1, 3});
    cubic.int_initializer("sizes", {1, 1, 5});
    OnnxModelBuilder::attr(cubic.node("Resize", {"x", "", "", "sizes"}, {"y"}, "up"), "mode", std::string("cubic"));
    cubic.output("y", {1, 1, 5});
    CHECK_THAT(strata::testing::error_message([&] { strata::onnx::OnnxModel m(cubic.save(dir / "cubic.onnx")); }),
               Catch::Contains("node 'up' (Resize)") && Catch::Contains("attribute 'mode'") && Catch::Contains("cubic"));
}

TEST_CASE("ONNX import errors name the file, or the node, the op and the attribute") {
    TempDir dir;
    const std::string garbage = dir.write("garbage.onnx", "this is not protobuf \x01\x02\x03");
    CHECK_THAT(strata::testing::error_message([&] { strata::onnx::OnnxModel m(garbage); }),
               Catch::Contains("garbage.onnx") && Catch::Contains("not an ONNX model"));
    CHECK_THAT(strata::testing::error_message([&] { strata::onnx::OnnxModel m(dir / "missing.onnx"); }),
               Catch::Contains("missing.onnx"));

    OnnxModelBuilder pad;
    pad.input("x", {1, 2, 5});
    pad.int_initializer("pads", {0, 0, 1, 0, 0, 1});
    auto &node = pad.node("Pad", {"x", "pads"}, {"y"}, "pad0");
    OnnxModelBuilder::attr(node, "mode", std::string("wrap"));
    pad.output("y", {1, 2, 7});
    const std::string pad_path = pad.save(dir / "pad.onnx");
    CHECK_THROWS_AS(strata::onnx::OnnxModel(pad_path), strata::onnx::Unsupported);
    CHECK_THAT(strata::testing::error_message([&] { strata::onnx::OnnxModel m(pad_path); }),
               Catch::Contains("node 'pad0' (Pad)") && Catch::Contains("attribute 'mode'") && Catch::Contains("wrap"));

    OnnxModelBuilder det;
    det.input("x", {3, 3});
    det.node("Det", {"x"}, {"y"}, "det0");
    det.output("y", {});
    const std::string det_path = det.save(dir / "det.onnx");
    CHECK_THAT(strata::testing::error_message([&] { strata::onnx::OnnxModel m(det_path); }),
               Catch::Contains("node 'det0' (Det)") && Catch::Contains("operator Det is not supported"));
}

TEST_CASE("cases of ONNX's backend test data pass, and an unsupported one says so") {
    if (!std::filesystem::is_directory(kTestData)) STRATA_SKIP("libonnx-testdata is not installed");
    for (const char *name : {"test_conv_with_strides_and_asymmetric_padding", "test_gemm_default_single_elem_vector_bias",
                             "test_softmax_axis_0", "test_reshape_negative_dim", "test_maxpool_2d_pads"}) {
        const strata::onnx::CaseResult r = strata::onnx::run_conformance_case(kTestData + "/node/" + name);
        INFO(name << ": " << r.message);
        CHECK(r.status == strata::onnx::CaseStatus::pass);
    }
    const strata::onnx::CaseResult det = strata::onnx::run_conformance_case(kTestData + "/node/test_det_2d");
    CHECK(det.status == strata::onnx::CaseStatus::unsupported);
    CHECK_THAT(det.message, Catch::Contains("Det"));
}
