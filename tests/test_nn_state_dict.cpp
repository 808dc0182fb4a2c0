// PyTorch state dicts by name: fixtures made by Debian's python3-torch
// (tests/fixtures/pytorch/make_fixtures.py) load into the same architectures written with
// Strata's nn modules and give PyTorch's recorded outputs; strict and non-strict loads follow
// PyTorch; save_state_dict writes PyTorch's keys and dtypes (checked by torch itself where it
// is installed).
#include "frontend/nn.h"
#include "frontend/nn/state_dict.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/train_step.h"

#include <catch2/catch.hpp>

#include "tests/support/pytorch_lenet5.h"
#include "tests/support/run_command.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"

#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <unistd.h>

using namespace strata;
using Catch::Matchers::Contains;
using strata::testing::PyTorchLeNet5;
using strata::testing::TempDir;

namespace {

const std::string fixtures = std::string(STRATA_SOURCE_DIR) + "/tests/fixtures/pytorch/";

/// The 1-D CNN with batch norm of make_fixtures.py.
struct Cnn1dBnImpl : nn::Module {
    Cnn1dBnImpl() : nn::Module("Cnn1dBn") {
        features = register_module(
            "features", nn::Sequential(nn::Conv1d(nn::Conv1dOptions(3, 8, 7).padding(3)), nn::BatchNorm1d(8),
                                       nn::ReLU(), nn::MaxPool1d(2), nn::Conv1d(nn::Conv1dOptions(8, 16, 5).padding(2)),
                                       nn::BatchNorm1d(16), nn::ReLU(), nn::AdaptiveAvgPool1d(1)));
        head = register_module("head", nn::Linear(16, 3));
    }
    SymTensor forward(const SymTensor &x) override { return head(flatten(features(x), 1)); }
    nn::BatchNorm1dImpl &bn(size_t index) { return *features->ptr<nn::BatchNorm1dImpl>(index); }
    nn::Sequential features{nullptr};
    nn::Linear head{nullptr};
};
STRATA_MODULE(Cnn1dBn);

/// Zoo2d of make_fixtures.py: grouped and transposed 2-D convolutions, BatchNorm2d, LayerNorm, Linear without bias.
struct Zoo2dImpl : nn::Module {
    Zoo2dImpl() : nn::Module("Zoo2d") {
        body = register_module(
            "body", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(3, 8, 3).padding(1)), nn::BatchNorm2d(8), nn::ReLU(),
                                   nn::Conv2d(nn::Conv2dOptions(8, 8, 3).padding(1).groups(4).bias(false)),
                                   nn::ConvTranspose2d(nn::ConvTranspose2dOptions(8, 4, 2).stride(2)),
                                   nn::LayerNorm(nn::LayerNormOptions({16})), nn::Tanh(), nn::AdaptiveAvgPool2d(1),
                                   nn::Flatten(), nn::Linear(nn::LinearOptions(4, 5).bias(false))));
    }
    SymTensor forward(const SymTensor &x) override { return body(x); }
    nn::Sequential body{nullptr};
};
STRATA_MODULE(Zoo2d);

/// Zoo1d of make_fixtures.py: a grouped ConvTranspose1d with output padding, an affine-free BatchNorm1d.
struct Zoo1dImpl : nn::Module {
    Zoo1dImpl() : nn::Module("Zoo1d") {
        conv = register_module("conv", nn::Conv1d(nn::Conv1dOptions(2, 4, 5).padding(2)));
        up = register_module(
            "up",
            nn::ConvTranspose1d(nn::ConvTranspose1dOptions(4, 4, 3).stride(2).padding(1).output_padding(1).groups(2)));
        norm = register_module("norm", nn::BatchNorm1d(nn::BatchNormOptions(4).affine(false)));
        head = register_module("head", nn::Linear(4 * 16, 3));
    }
    SymTensor forward(const SymTensor &x) override {
        return head(flatten(avg_pool1d(gelu(norm(up(conv(x)))), {2}), 1));
    }
    nn::Conv1d conv{nullptr};
    nn::ConvTranspose1d up{nullptr};
    nn::BatchNorm1d norm{nullptr};
    nn::Linear head{nullptr};
};
STRATA_MODULE(Zoo1d);

/// Runs `module` on `x` in a fresh graph and returns the output.
Tensor run_module(nn::Module &module, const Tensor &x) {
    Graph g;
    g.output("y", module.forward(g.input("x", x.shape(), x.dtype())));
    return g.compile().run(x);
}

bool same_bytes(const Tensor &a, const Tensor &b) {
    const Tensor ca = a.contiguous(), cb = b.contiguous();
    return a.dtype() == b.dtype() && a.shape() == b.shape() &&
           std::memcmp(ca.raw_data(), cb.raw_data(), ca.nbytes()) == 0;
}

/// Every tensor of `file` (read in its natural dtypes) equals the module's tensor of that name.
void check_module_holds(const nn::Module &module, const std::string &file) {
    const NamedTensors own = nn::state_dict(module);
    // In the module's dtypes: PyTorch's I64 num_batches_tracked is the module's i32 counter.
    const SafetensorsFile loaded = read_safetensors(file, [&](const SafetensorsEntry &e) {
        for (const auto &[name, t] : own)
            if (name == e.name) return std::optional<DType>(t.dtype());
        return std::optional<DType>(e.dtype);
    });
    REQUIRE(loaded.tensors.size() == own.size());
    for (const auto &[name, t] : own) {
        INFO(name);
        const Tensor *expected = loaded.find(name);
        REQUIRE(expected != nullptr);
        CHECK(same_bytes(t, *expected));
    }
}

/// Largest |a - b| relative to max(1, |b|), elementwise.
double max_relative_error(const Tensor &a, const Tensor &b) {
    REQUIRE(a.shape() == b.shape());
    double worst = 0.0;
    for (int64_t i = 0; i < a.numel(); ++i)
        worst = std::max(worst, std::fabs(a.get_flat(i) - b.get_flat(i)) / std::max(1.0, std::fabs(b.get_flat(i))));
    return worst;
}

std::string load_error(nn::Module &module, const std::string &path, nn::LoadStateDictOptions options = {}) {
    try {
        nn::load_state_dict(module, path, options);
    } catch (const Error &e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("A PyTorch LeNet-5 state_dict loads by name and gives PyTorch's output", "[nn][state_dict]") {
    PyTorchLeNet5 net;
    const nn::IncompatibleKeys keys = nn::load_state_dict(*net, fixtures + "lenet5.safetensors");
    CHECK(keys.empty());
    check_module_holds(*net, fixtures + "lenet5.safetensors");
    net->eval();
    const SafetensorsFile io = read_safetensors(fixtures + "lenet5_io.safetensors");
    const Tensor y = run_module(*net, *io.find("input"));
    // f32 throughout, summed in different orders: PyTorch's own f32 noise.
    CHECK(max_relative_error(y, *io.find("output")) < 1e-5);
    // The check can fail: Strata's default weights give another output.
    PyTorchLeNet5 fresh;
    fresh->eval();
    CHECK(max_relative_error(run_module(*fresh, *io.find("input")), *io.find("output")) > 1e-2);
}

TEST_CASE("A 1-D CNN with BatchNorm loads running statistics and num_batches_tracked", "[nn][state_dict]") {
    Cnn1dBn net;
    net->eval();
    CHECK(net->bn(1).num_batches_tracked.get_flat(0) == 0.0);
    CHECK(nn::load_state_dict(*net, fixtures + "cnn1d_bn.safetensors").empty());
    check_module_holds(*net, fixtures + "cnn1d_bn.safetensors");
    // PyTorch's I64 counter, after the fixture's three training batches.
    CHECK(net->bn(1).num_batches_tracked.dtype() == DType::i32);
    CHECK(net->bn(1).num_batches_tracked.get_flat(0) == 3.0);
    CHECK(net->bn(5).num_batches_tracked.get_flat(0) == 3.0);
    CHECK(net->bn(1).running_var.get_flat(0) != 1.0);  // moved by the training batches
    const SafetensorsFile io = read_safetensors(fixtures + "cnn1d_bn_io.safetensors");
    CHECK(max_relative_error(run_module(*net, *io.find("input")), *io.find("output")) < 1e-5);
    // reset_parameters zeroes the counter, as PyTorch's reset_running_stats does.
    net->bn(1).reset_parameters();
    CHECK(net->bn(1).num_batches_tracked.get_flat(0) == 0.0);
}

TEST_CASE("save_state_dict writes PyTorch's keys and dtypes and loads back", "[nn][state_dict]") {
    TempDir dir;
    Cnn1dBn net;
    nn::load_state_dict(*net, fixtures + "cnn1d_bn.safetensors");
    const std::string saved = dir / "saved.safetensors";
    nn::save_state_dict(*net, saved);

    // The same keys, dtypes (num_batches_tracked as I64), shapes and bytes as PyTorch's own file.
    const SafetensorsHeader theirs = read_safetensors_header(fixtures + "cnn1d_bn.safetensors");
    const SafetensorsHeader ours = read_safetensors_header(saved);
    CHECK(ours.metadata == std::map<std::string, std::string>{{"format", "pt"}});
    std::set<std::string> their_keys, our_keys;
    for (const SafetensorsEntry &e : theirs.entries) their_keys.insert(e.name);
    for (const SafetensorsEntry &e : ours.entries) {
        our_keys.insert(e.name);
        INFO(e.name);
        const auto match = std::find_if(theirs.entries.begin(), theirs.entries.end(),
                                        [&](const SafetensorsEntry &t) { return t.name == e.name; });
        REQUIRE(match != theirs.entries.end());
        CHECK(match->stored == e.stored);
        CHECK(match->shape == e.shape);
    }
    CHECK(our_keys == their_keys);
    CHECK(our_keys.count("features.5.num_batches_tracked") == 1);
    Cnn1dBn again;
    CHECK(nn::load_state_dict(*again, saved).empty());
    check_module_holds(*again, fixtures + "cnn1d_bn.safetensors");
}

TEST_CASE("PyTorch's load_file and strict load_state_dict accept what save_state_dict writes", "[nn][state_dict]") {
    if (access("/usr/bin/python3", X_OK) != 0 ||
        strata::testing::run_command("/usr/bin/python3 -c 'import torch'").status != 0)
        STRATA_SKIP("Debian's python3-torch is not installed");
    TempDir dir;
    Cnn1dBn net;
    nn::load_state_dict(*net, fixtures + "cnn1d_bn.safetensors");
    const std::string saved = dir / "saved.safetensors";
    nn::save_state_dict(*net, saved);
    const std::string output =
        strata::testing::run_ok("/usr/bin/python3 " + fixtures + "make_fixtures.py --check-cnn1d " + saved);
    CHECK_THAT(output, Contains("<All keys matched successfully>"));
    CHECK_THAT(output, Contains("pytorch accepted"));
}

namespace {

/// cnn1d_bn.safetensors with `drop` left out, and `extra` added or replacing tensors; the
/// tensors kept keep their stored dtype (I64 counters), and those named in `as_i64` become I64.
std::string edited_fixture(const TempDir &dir, const std::string &name, const std::set<std::string> &drop,
                           const NamedTensors &extra, const std::set<std::string> &as_i64 = {}) {
    const std::string source = fixtures + "cnn1d_bn.safetensors";
    const SafetensorsFile original = read_safetensors(source);
    NamedTensors tensors;
    std::map<std::string, StoredDType> stored_as;
    for (const SafetensorsEntry &e : read_safetensors_header(source).entries) {
        const auto replaced =
            std::find_if(extra.begin(), extra.end(), [&](const auto &x) { return x.first == e.name; });
        if (drop.count(e.name) || replaced != extra.end()) continue;
        tensors.emplace_back(e.name, *original.find(e.name));
        stored_as[e.name] = e.stored;
    }
    for (const auto &named : extra) tensors.push_back(named);
    for (const std::string &wide : as_i64) stored_as[wide] = StoredDType::i64;
    const std::string path = dir / name;
    save_safetensors(path, tensors, {}, stored_as);
    return path;
}

}  // namespace

TEST_CASE("A strict load lists every missing, unexpected and mismatched key in one message",
          "[nn][state_dict][errors]") {
    TempDir dir;
    const std::string path = edited_fixture(dir, "bad.safetensors", {"head.bias", "features.4.bias"},
                                            {{"features.0.weight", Tensor::ones({8, 3, 5})},
                                             {"features.1.running_mean", Tensor::ones({9})},
                                             {"extra.weight", Tensor::ones({2})}});
    Cnn1dBn net;
    const Tensor before = net->features->ptr<nn::Conv1dImpl>(0)->weight.clone();
    const Tensor head_before = net->head->weight.clone();
    CHECK(load_error(*net, path) ==
          path + ": Error(s) in loading state_dict for Cnn1dBn:\n"
                 "\tMissing key(s) in state_dict: \"features.4.bias\", \"head.bias\".\n"
                 "\tUnexpected key(s) in state_dict: \"extra.weight\".\n"
                 "\tsize mismatch for features.0.weight: copying a param with shape [8, 3, 5] from checkpoint, the "
                 "shape in current model is [8, 3, 7].\n"
                 "\tsize mismatch for features.1.running_mean: copying a param with shape [9] from checkpoint, the "
                 "shape in current model is [8].");
    // Nothing changed: the load is all or nothing.
    CHECK(same_bytes(net->features->ptr<nn::Conv1dImpl>(0)->weight, before));
    CHECK(same_bytes(net->head->weight, head_before));
    // A shape mismatch fails a non-strict load too, as in PyTorch.
    CHECK_THAT(load_error(*net, path, {.strict = false}), Contains("size mismatch for features.0.weight"));
    CHECK_THAT(load_error(*net, path, {.strict = false}), !Contains("Missing key(s)"));
    CHECK_THAT(load_error(*net, fixtures + "lenet5.safetensors"),
               Contains("Unexpected key(s) in state_dict: \"conv1.weight\", \"conv1.bias\", \"conv2.weight\""));
    CHECK_THAT(load_error(*net, dir / "absent.safetensors"), Contains("absent.safetensors: cannot open"));
}

TEST_CASE("A non-strict load returns the missing and unexpected keys and loads the rest", "[nn][state_dict]") {
    TempDir dir;
    // Without head.bias and every num_batches_tracked, with a key the model does not have.
    const std::string path = edited_fixture(
        dir, "partial.safetensors", {"head.bias", "features.1.num_batches_tracked", "features.5.num_batches_tracked"},
        {{"extra.scale", Tensor::ones({})}});
    Cnn1dBn net;
    net->bn(5).num_batches_tracked.set_flat(0, 7.0);
    const Tensor bias_before = net->head->bias.clone();
    CHECK_THAT(load_error(*net, path), Contains("Missing key(s) in state_dict: \"head.bias\".\n"
                                                "\tUnexpected key(s) in state_dict: \"extra.scale\"."));
    const nn::IncompatibleKeys keys = nn::load_state_dict(*net, path, {.strict = false});
    // A missing num_batches_tracked is not reported (PyTorch fills it in): the module keeps its own.
    CHECK(keys.missing_keys == std::vector<std::string>{"head.bias"});
    CHECK(keys.unexpected_keys == std::vector<std::string>{"extra.scale"});
    CHECK(same_bytes(net->head->bias, bias_before));
    CHECK(same_bytes(net->head->weight, *read_safetensors(fixtures + "cnn1d_bn.safetensors").find("head.weight")));
    CHECK(net->bn(5).num_batches_tracked.get_flat(0) == 7.0);
    CHECK(net->bn(1).num_batches_tracked.get_flat(0) == 0.0);
    // The same holds strictly once the unexpected and missing keys are gone.
    const std::string counters_only = edited_fixture(
        dir, "no_counters.safetensors", {"features.1.num_batches_tracked", "features.5.num_batches_tracked"}, {});
    CHECK(nn::load_state_dict(*net, counters_only).empty());
}

TEST_CASE("Weights are converted to the model's dtype, and refused when that would lose information",
          "[nn][state_dict][errors]") {
    TempDir dir;
    Cnn1dBn net;
    const Tensor before = net->head->weight.clone();
    // A model trained in double: f32 rounds its weights.
    const std::string doubles = fixtures + "cnn1d_bn_f64.safetensors";
    const std::string message = load_error(*net, doubles);
    CHECK_THAT(message, Contains(doubles + ": tensor 'features.0.weight' (F64 [8, 3, 7]): element 0 is "));
    CHECK_THAT(message, Contains("which f32 rounds to"));
    CHECK_THAT(message, Contains("set allow_rounding to accept it"));
    CHECK(same_bytes(net->head->weight, before));
    CHECK(nn::load_state_dict(*net, doubles, {.allow_rounding = true}).empty());
    const SafetensorsFile wide = read_safetensors(doubles);
    for (const auto &[name, t] : nn::state_dict(*net)) {
        INFO(name);
        const Tensor *w = wide.find(name);
        REQUIRE(w != nullptr);
        for (int64_t i = 0; i < t.numel(); ++i)
            CHECK(t.get_flat(i) == static_cast<double>(static_cast<float>(w->get_flat(i))));
    }

    // An I64 counter beyond what the model's i32 holds.
    const std::string huge = edited_fixture(dir, "huge.safetensors", {},
                                            {{"features.5.num_batches_tracked", Tensor::full({}, 3e9, DType::f64)}},
                                            {"features.5.num_batches_tracked"});
    CHECK_THAT(load_error(*net, huge),
               Contains(huge + ": tensor 'features.5.num_batches_tracked' (I64 []): element 0 is 3000000000, which "
                               "i32 cannot hold (its range is -2147483648 to 2147483647)"));
}

TEST_CASE("Every dtype PyTorch writes reads as PyTorch converts it", "[nn][state_dict]") {
    // x_<dtype> as stored; x_<dtype>_f64 as PyTorch's .to(torch.float64) gave it.
    const std::string path = fixtures + "dtypes.safetensors";
    const SafetensorsFile as_f64 =
        read_safetensors(path, [](const SafetensorsEntry &) { return std::optional<DType>(DType::f64); });
    const SafetensorsHeader header = read_safetensors_header(path);
    int checked = 0;
    for (const SafetensorsEntry &e : header.entries) {
        if (e.name.size() > 4 && e.name.compare(e.name.size() - 4, 4, "_f64") == 0) continue;
        INFO(e.name);
        const Tensor &ours = *as_f64.find(e.name);
        const Tensor &theirs = *as_f64.find(e.name + "_f64");
        CHECK(same_bytes(ours, theirs));
        ++checked;
    }
    CHECK(checked == 7);  // F16 BF16 I64 I16 I8 U8 BOOL
}

TEST_CASE("state_dict has PyTorch's keys for a root batch norm, with or without running statistics",
          "[nn][state_dict]") {
    TempDir dir;
    auto keys_of = [](const nn::Module &m) {
        std::vector<std::string> out;
        for (const auto &named : nn::state_dict(m)) out.push_back(named.first);
        return out;
    };
    nn::BatchNorm2d bn(4);
    CHECK(keys_of(*bn) ==
          std::vector<std::string>{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"});
    nn::BatchNorm2d untracked(nn::BatchNormOptions(4).track_running_stats(false));
    CHECK(keys_of(*untracked) == std::vector<std::string>{"weight", "bias"});
    nn::BatchNorm2d bare(nn::BatchNormOptions(4).affine(false));
    CHECK(keys_of(*bare) == std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"});

    bn->num_batches_tracked.set_flat(0, 5.0);
    bn->running_var.set_flat(2, 0.25);
    const std::string path = dir / "bn.safetensors";
    nn::save_state_dict(*bn, path);
    const SafetensorsHeader header = read_safetensors_header(path);
    REQUIRE(header.entries.size() == 5);
    CHECK(header.entries.back().name == "num_batches_tracked");
    CHECK(header.entries.back().stored == StoredDType::i64);
    nn::BatchNorm2d again(4);
    CHECK(nn::load_state_dict(*again, path).empty());
    CHECK(again->num_batches_tracked.get_flat(0) == 5.0);
    CHECK(again->running_var.get_flat(2) == 0.25);
    // Running statistics where the module keeps none are unexpected keys.
    CHECK_THAT(
        load_error(*untracked, path),
        Contains("Unexpected key(s) in state_dict: \"running_mean\", \"running_var\", \"num_batches_tracked\"."));
}

TEST_CASE("A state dict in memory loads as a file does, checked the same way", "[nn][state_dict]") {
    Cnn1dBn net;
    const NamedTensors tensors = read_safetensors(fixtures + "cnn1d_bn.safetensors").tensors;
    CHECK(nn::load_state_dict(*net, tensors).empty());
    check_module_holds(*net, fixtures + "cnn1d_bn.safetensors");
    CHECK(net->bn(1).num_batches_tracked.get_flat(0) == 3.0);

    Cnn1dBn other;
    const Tensor before = other->head->weight.clone();
    NamedTensors edited = tensors;
    edited[0].second = Tensor::ones({8, 3, 5});
    edited.emplace_back("extra", Tensor::ones({1}));
    CHECK_THROWS_WITH(nn::load_state_dict(*other, edited),
                      "Error(s) in loading state_dict for Cnn1dBn:\n"
                      "\tUnexpected key(s) in state_dict: \"extra\".\n"
                      "\tsize mismatch for features.0.weight: copying a param with shape [8, 3, 5] from checkpoint, "
                      "the shape in current model is [8, 3, 7].");
    NamedTensors doubles = tensors;
    for (auto &named : doubles)
        if (named.first == "head.bias") named.second = Tensor::full({3}, 0.1, DType::f64);
    CHECK_THROWS_WITH(nn::load_state_dict(*other, doubles),
                      Contains("tensor 'head.bias' (f64 [3]): element 0 is 0.1, which f32 rounds to 0.1"));
    CHECK(same_bytes(other->head->weight, before));  // nothing changed
    CHECK(nn::load_state_dict(*other, doubles, {.allow_rounding = true}).empty());
    CHECK(other->head->bias.data<float>()[2] == 0.1f);
    doubles.push_back(doubles[0]);
    CHECK_THROWS_WITH(nn::load_state_dict(*other, doubles), Contains("tensor 'features.0.weight' is given twice"));
}

TEST_CASE("state_dict lists keys in PyTorch's order, and tied weights under every name", "[nn][state_dict]") {
    // make_fixtures.py writes model.state_dict() in its own order.
    std::vector<std::string> theirs, ours;
    for (const SafetensorsEntry &e : read_safetensors_header(fixtures + "cnn1d_bn.safetensors").entries)
        theirs.push_back(e.name);
    Cnn1dBn net;
    for (const auto &named : nn::state_dict(*net)) ours.push_back(named.first);
    CHECK(ours == theirs);

    // One Linear registered twice: PyTorch's state_dict has both paths (named_parameters has one).
    TempDir dir;
    nn::Sequential tied;
    nn::Linear shared(3, 3);
    tied->push_back("encoder", shared);
    tied->push_back("decoder", shared);
    std::vector<std::string> keys;
    for (const auto &named : nn::state_dict(*tied)) keys.push_back(named.first);
    CHECK(keys == std::vector<std::string>{"encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias"});
    CHECK(tied->named_parameters().size() == 2);
    const std::string path = dir / "tied.safetensors";
    nn::save_state_dict(*tied, path);
    nn::Sequential other;
    nn::Linear again(3, 3);
    other->push_back("encoder", again);
    other->push_back("decoder", again);
    CHECK(nn::load_state_dict(*other, path).empty());
    CHECK(same_bytes(again->weight, shared->weight));
}

TEST_CASE("Every kind of module with weights loads PyTorch's and gives PyTorch's output", "[nn][state_dict]") {
    Zoo2d zoo2d;
    Zoo1d zoo1d;
    const std::pair<nn::Module *, std::string> models[] = {{zoo2d.get(), "zoo2d"}, {zoo1d.get(), "zoo1d"}};
    for (const auto &[model, name] : models) {
        INFO(name);
        model->eval();
        CHECK(nn::load_state_dict(*model, fixtures + name + ".safetensors").empty());
        check_module_holds(*model, fixtures + name + ".safetensors");
        const SafetensorsFile io = read_safetensors(fixtures + name + "_io.safetensors");
        CHECK(max_relative_error(run_module(*model, *io.find("input")), *io.find("output")) < 1e-5);
    }
    CHECK(zoo1d->norm->num_batches_tracked.get_flat(0) == 2.0);
}

TEST_CASE("SGD steps from PyTorch's weights follow PyTorch's losses, with its int64 targets", "[nn][state_dict]") {
    const SafetensorsFile record = read_safetensors(fixtures + "cnn1d_bn_sgd.safetensors");
    Cnn1dBn net;
    net->train();
    nn::load_state_dict(*net, fixtures + "cnn1d_bn.safetensors");
    optim::SGD sgd(optim::SGDOptions(0.05).momentum(0.9));
    TrainStep step(*net, sgd, {4, 3, 64}, {4}, DType::i64,
                   [](const SymTensor &y, const SymTensor &t) { return cross_entropy(y, t); });
    for (int i = 0; i < 3; ++i) {
        INFO("step " << i);
        // PyTorch's targets are I64: read and trained on as i64, unconverted.
        const Tensor &targets = *record.find("target_" + std::to_string(i));
        REQUIRE(targets.dtype() == DType::i64);
        const double loss = step.step(*record.find("input_" + std::to_string(i)), targets).loss;
        CHECK(loss == Approx(record.find("loss_" + std::to_string(i))->item()).epsilon(1e-5));
    }
    // Weights, running statistics and the batch counters (3 loaded + 3 steps) after the steps.
    for (const auto &[name, t] : nn::state_dict(*net)) {
        INFO(name);
        const Tensor *theirs = record.find("after." + name);
        REQUIRE(theirs != nullptr);
        if (name.find("num_batches_tracked") != std::string::npos) {
            CHECK(theirs->item() == 6.0);
            CHECK(t.item() == theirs->item());
            continue;
        }
        CHECK(max_relative_error(t, *theirs) < 1e-5);
    }
}
