// PyTorch <-> ONNX <-> Strata: every PyTorch-exported fixture of tests/fixtures/onnx/
// (make_models.py) imports and matches PyTorch's saved outputs at batch 2 and 3; Strata models
// exported with export_model_bytes and imported again give the same outputs, bit for bit where
// the importer maps each exported op back to the Strata op it came from.
#include "frontend/nn.h"
#include "frontend/onnx/onnx_export.h"
#include "frontend/onnx/onnx_import.h"
#include "runtime/safetensors.h"
#include "tests/support/temp_dir.h"

#include <catch2/catch.hpp>

#include <algorithm>
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
    // Ops ONNX spells differently come back as other Strata ops, rounding in another order:
    // linear on a 3-D input -> MatMul + Add -> matmul + add; gelu -> 0.5 x (1 + erf(x / sqrt 2));
    // layer norm's rsqrt -> 1 / Sqrt; adaptive_avg_pool1d (dividing) -> AveragePool -> avg_pool1d.
    // Within a few f32 roundings (measured 1.2e-7 of the output's scale).
    nn::Sequential composed(nn::Linear(16, 16), nn::GELU(), nn::LayerNorm(nn::LayerNormOptions({16})), nn::Softplus(),
                            nn::AdaptiveAvgPool1d(8));
    const RoundTrip composed_trip = round_trip("composed", *composed, {2, 3, 16}, dir);
    CHECK(composed_trip.error < 1e-6);
    WARN("composed: " << composed_trip.differing << " of 48 elements differ, relative error " << composed_trip.error);
}
