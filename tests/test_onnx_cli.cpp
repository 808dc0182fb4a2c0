// `strata import`, `strata emit --train` and `strata run` on an imported ONNX classifier:
// the checkpoint `strata import` writes is one `strata emit --train` accepts (its output the
// logits), the emitted training step trains the parameters alone (not BatchNormalization's
// statistics, not constants computed at import) and takes the in-process TrainStep's steps;
// `strata run --input NAME=FILE.safetensors` reads the tensor NAME (or the file's only tensor),
// and bad files are errors that name the file, the tensor and what was expected.
#include "frontend/functional.h"
#include "frontend/onnx/onnx_import.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/train_step.h"
#include "runtime/safetensors.h"

#include <catch2/catch.hpp>

#include "tests/support/onnx_model_builder.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace strata;
namespace fs = std::filesystem;
using strata::testing::CommandResult;
using strata::testing::OnnxModelBuilder;
using strata::testing::run_command;
using strata::testing::run_ok;
using strata::testing::TempDir;

namespace {

constexpr int64_t kBatch = 4, kChannels = 2, kLength = 6, kFeatures = 4, kClasses = 3;

std::string strata_binary() {
    const std::string path = std::string(STRATA_BINARY_DIR) + "/bin/strata";
    INFO("build the strata command line (target strata_cli) before running this test");
    REQUIRE(fs::exists(path));
    return path;
}

std::vector<float> wave(int64_t n, double scale, double phase) {
    std::vector<float> v;
    for (int64_t i = 0; i < n; ++i) v.push_back(static_cast<float>(scale * std::sin(0.61 * static_cast<double>(i) + phase)));
    return v;
}

/// A PyTorch-style classifier on [N, 2, 6] -> logits [N, 3]: Conv, BatchNormalization (its
/// statistics named unlike PyTorch's), a Mul by a Constant node of per-channel values (a
/// constant the import keeps as a buffer), Relu, Flatten, Gemm (nn.Linear).
std::string write_classifier(const TempDir &dir) {
    OnnxModelBuilder b;
    b.input("x", {-1, kChannels, kLength});
    b.output("logits", {-1, kClasses});
    b.initializer("conv.weight", {kFeatures, kChannels, 3}, wave(kFeatures * kChannels * 3, 0.5, 0.1));
    b.initializer("conv.bias", {kFeatures}, wave(kFeatures, 0.2, 0.7));
    b.initializer("norm.scale", {kFeatures}, {1.1f, 0.9f, 1.3f, 0.8f});
    b.initializer("norm.shift", {kFeatures}, wave(kFeatures, 0.3, 1.1));
    b.initializer("statistics.mean", {kFeatures}, wave(kFeatures, 0.2, 2.0));
    b.initializer("statistics.var", {kFeatures}, {0.7f, 1.4f, 1.1f, 0.9f});
    b.initializer("fc.weight", {kClasses, kFeatures * kLength}, wave(kClasses * kFeatures * kLength, 0.3, 0.4));
    b.initializer("fc.bias", {kClasses}, wave(kClasses, 0.1, 0.9));
    auto &conv = b.node("Conv", {"x", "conv.weight", "conv.bias"}, {"c"}, "conv");
    conv.add_attribute()->CopyFrom([] {
        ::onnx::AttributeProto a;
        a.set_name("pads");
        a.set_type(::onnx::AttributeProto::INTS);
        a.add_ints(1);
        a.add_ints(1);
        return a;
    }());
    b.node("BatchNormalization", {"c", "norm.scale", "norm.shift", "statistics.mean", "statistics.var"}, {"n"}, "norm");
    auto &constant = b.node("Constant", {}, {"gain"}, "gain");
    ::onnx::AttributeProto *value = constant.add_attribute();
    value->set_name("value");
    value->set_type(::onnx::AttributeProto::TENSOR);
    ::onnx::TensorProto *t = value->mutable_t();
    t->set_data_type(::onnx::TensorProto::FLOAT);
    for (int64_t d : {int64_t{1}, kFeatures, int64_t{1}}) t->add_dims(d);
    for (float g : {1.5f, 0.5f, 2.0f, 1.0f}) t->add_float_data(g);
    b.node("Mul", {"n", "gain"}, {"g"}, "scale");
    b.node("Relu", {"g"}, {"r"}, "relu");
    b.node("Flatten", {"r"}, {"f"}, "flatten");
    auto &gemm = b.node("Gemm", {"f", "fc.weight", "fc.bias"}, {"logits"}, "fc");
    OnnxModelBuilder::attr(gemm, "transB", int64_t{1});
    return b.save(dir / "classifier.onnx");
}

Tensor batch_input(int64_t i) {
    const std::vector<float> v = wave(kBatch * kChannels * kLength, 1.5, 0.3 + static_cast<double>(i));
    return Tensor::from_vector(v, {kBatch, kChannels, kLength});
}

Tensor batch_labels(int64_t i) {
    std::vector<int32_t> v;
    for (int64_t n = 0; n < kBatch; ++n) v.push_back(static_cast<int32_t>((n + i) % kClasses));
    return Tensor::from_vector(v, {kBatch});
}

/// Two SGD steps of the emitted library (cls.h / cls.a) on batch_input/batch_labels 0 and 1,
/// read from batches.bin; prints each loss, then every state tensor.
const char *train_program = R"(#include "cls.h"
#include <stdio.h>
int main(void) {
    static float inputs[2 * cls_BATCH * 2 * 6];
    static int32_t labels[2 * cls_BATCH];
    float loss;
    int i, k;
    cls_state *s = cls_state_new();
    FILE *f = fopen("batches.bin", "rb");
    if (!s || !f || fread(inputs, sizeof inputs, 1, f) != 1 || fread(labels, sizeof labels, 1, f) != 1) return 2;
    fclose(f);
    for (k = 0; k < 2; ++k) {
        if (cls_train_step(s, inputs + k * cls_BATCH * 2 * 6, labels + k * cls_BATCH, &loss) != 0) return 3;
        printf("loss %.9g\n", loss);
    }
    for (i = 0; i < cls_TENSOR_COUNT; ++i) {
        printf("tensor %s", cls_tensor_names[i]);
        for (k = 0; k < cls_tensor_numel[i]; ++k) printf(" %.9g", s->tensor[i][k]);
        printf("\n");
    }
    cls_state_free(s);
    return 0;
}
)";

}  // namespace

TEST_CASE("strata import of a classifier gives a checkpoint strata emit --train accepts, whose step trains its "
          "parameters alone, as TrainStep does",
          "[onnx][cli][emit]") {
    TempDir dir;
    const std::string onnx_path = write_classifier(dir);
    run_ok(strata_binary() + " import " + onnx_path + " --out " + (dir / "classifier.safetensors"));
    run_ok(strata_binary() + " emit " + (dir / "classifier.safetensors") + " --out " + dir.path.string() +
           " --name cls --train --batch 4 --lr 0.05 --momentum 0.9");

    // The C program's batches: both inputs, then both label vectors.
    {
        std::ofstream out(dir / "batches.bin", std::ios::binary);
        for (const Tensor &t : {batch_input(0), batch_input(1), batch_labels(0), batch_labels(1)})
            out.write(static_cast<const char *>(t.raw_data()), static_cast<std::streamsize>(t.nbytes()));
    }
    std::ofstream(dir / "main.c") << train_program;
    run_ok("cd " + dir.path.string() + " && cc -std=c99 -O1 main.c -I . cls.a -lpthread -ldl -lm -o main");
    const std::string printed = run_ok("cd " + dir.path.string() + " && ./main");
    std::vector<double> losses;
    std::map<std::string, std::vector<double>> tensors;
    std::istringstream lines(printed);
    for (std::string word; lines >> word;) {
        if (word == "loss") {
            double v = 0;
            lines >> v;
            losses.push_back(v);
        } else if (word == "tensor") {
            std::string name, rest;
            lines >> name;
            std::getline(lines, rest);
            std::istringstream values(rest);
            for (double v = 0; values >> v;) tensors[name].push_back(v);
        }
    }

    // Momentum buffers for the parameters alone: the statistics and the constant are held, not trained.
    const std::vector<std::string> trained = {"conv.weight", "conv.bias", "norm.scale", "norm.shift", "fc.weight", "fc.bias"};
    int momentum_buffers = 0;
    for (const auto &[name, values] : tensors) momentum_buffers += name.rfind("optim.", 0) == 0;
    CHECK(momentum_buffers == static_cast<int>(trained.size()));
    for (const std::string &name : trained) {
        CHECK(tensors.count(name) == 1);
        CHECK(tensors.count("optim." + name + ".momentum_buffer") == 1);
    }
    REQUIRE(tensors.count("statistics.var") == 1);
    const std::vector<float> variances = {0.7f, 1.4f, 1.1f, 0.9f};
    REQUIRE(tensors.at("statistics.var").size() == variances.size());
    for (size_t i = 0; i < variances.size(); ++i)  // printed with 9 digits: an f32 exactly
        CHECK(static_cast<float>(tensors.at("statistics.var")[i]) == variances[i]);

    // The same two steps in process, on the model imported in C++.
    strata::onnx::OnnxModel model(onnx_path);
    optim::SGD sgd(optim::SGDOptions(0.05).momentum(0.9));
    TrainStep step(*model, sgd, {kBatch, kChannels, kLength}, {kBatch}, DType::i32,
                   [](const SymTensor &y, const SymTensor &t) { return cross_entropy(y, t); });
    REQUIRE(losses.size() == 2);
    for (int64_t i = 0; i < 2; ++i) {
        const double loss = step.step(batch_input(i), batch_labels(i)).loss;
        CHECK(losses[static_cast<size_t>(i)] == Approx(loss).epsilon(1e-5));
    }
    const auto parameters = model->named_parameters();
    REQUIRE(parameters.size() == trained.size());
    for (const auto &[name, value] : parameters.items()) {
        INFO("parameter " << name);
        REQUIRE(tensors.count(name) == 1);
        const std::vector<double> &emitted = tensors.at(name);
        REQUIRE(static_cast<int64_t>(emitted.size()) == value.numel());
        for (int64_t i = 0; i < value.numel(); ++i)
            CHECK(emitted[static_cast<size_t>(i)] == Approx(value.get_flat(i)).margin(1e-5));
    }
}

TEST_CASE("strata run --input NAME=FILE.safetensors reads the tensor NAME or the file's only tensor, and bad files are "
          "errors naming them",
          "[onnx][cli][run]") {
    TempDir dir;
    const std::string onnx_path = write_classifier(dir);
    const std::string checkpoint = dir / "classifier.safetensors";
    run_ok(strata_binary() + " import " + onnx_path + " --out " + checkpoint);

    // What the model computes in process on the same input, at batch 4 (the checkpoint's IR is at batch 1).
    strata::onnx::OnnxModel model(onnx_path);
    Graph g;
    g.output("logits", model(g.input("x", {kBatch, kChannels, kLength})));
    const Tensor x = batch_input(0);
    const Tensor expected = g.compile().run(x);

    const std::string run = strata_binary() + " run " + checkpoint;
    // The tensor named after the input, among others; the output written as safetensors.
    save_safetensors(dir / "batch.safetensors", {{"labels", batch_labels(0)}, {"x", x}});
    run_ok(run + " --input x=" + (dir / "batch.safetensors") + " --output " + (dir / "out.safetensors"));
    const SafetensorsFile out = read_safetensors(dir / "out.safetensors");
    REQUIRE(out.tensors.size() == 1);
    const Tensor *logits = out.find("logits");
    REQUIRE(logits != nullptr);
    REQUIRE(logits->shape() == expected.shape());
    for (int64_t i = 0; i < expected.numel(); ++i) CHECK(logits->get_flat(i) == expected.get_flat(i));

    // A file of one tensor, whatever its name; F64 data for an f32 input is a dtype error.
    save_safetensors(dir / "only.safetensors", {{"waveform", x}});
    const std::string printed = run_ok(run + " --input x=" + (dir / "only.safetensors"));
    CHECK(printed.find("logits = ") != std::string::npos);

    save_safetensors(dir / "f64.safetensors", {{"x", x.to(DType::f64)}});
    save_safetensors(dir / "i64.safetensors", {{"x", Tensor::full({kBatch, kChannels, kLength}, 3e9, DType::i64)}});
    std::ofstream(dir / "broken.safetensors", std::ios::binary) << "not a safetensors file";
    struct Case {
        std::string arguments, message;
    };
    for (const Case &c : std::vector<Case>{
             {" --input x=" + (dir / "batch.txt"), "batch.txt: unknown tensor file type (expected .npy, .pb or .safetensors)"},
             {" --input y=" + (dir / "only.safetensors"), "the model has no input 'y'"},
             {" --input x=" + (dir / "missing.safetensors"), "missing.safetensors"},
             {" --input x=" + (dir / "broken.safetensors"), "broken.safetensors"},
             {" --input x=" + (dir / "f64.safetensors"), "f64 [4, 2, 6] given, the model takes f32"},
             {" --input x=" + (dir / "i64.safetensors"), "3000000000"},
         }) {
        const CommandResult r = run_command(run + c.arguments);
        INFO(c.arguments << "\n" << r.output);
        CHECK(r.status != 0);
        CHECK(r.output.find(c.message) != std::string::npos);
    }
    // Two tensors, neither named after the input: which one is meant is not guessed.
    save_safetensors(dir / "two.safetensors", {{"a", x}, {"b", x}});
    const CommandResult r = run_command(run + " --input x=" + (dir / "two.safetensors"));
    INFO(r.output);
    CHECK(r.status != 0);
    CHECK(r.output.find("two.safetensors: no tensor named 'x' (the file holds 2 tensors: a, b)") != std::string::npos);
}
