// Checkpoints: resuming from one trains on bit for bit like a run that never stopped; the file is
// plain safetensors with PyTorch's names; every mismatch is an error naming the tensor and both shapes,
// and a failed load changes nothing.
#include "frontend/functional.h"
#include "frontend/nn.h"
#include "frontend/optim/adam.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/checkpoint.h"
#include "frontend/train/data_loader.h"
#include "frontend/train/train_step.h"
#include "runtime/random.h"

#include <catch2/catch.hpp>

#include "tests/support/synthetic_images.h"

#include "tests/support/temp_dir.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <vector>

using namespace strata;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

using strata::testing::TempDir;

using strata::testing::synthetic_images;

/// A small CNN with every kind of state: weights, batch-norm running statistics and dropout.
nn::Sequential make_net(uint64_t seed) {
    manual_seed(seed);
    return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::BatchNorm2d(4), nn::ReLU(),
                          nn::MaxPool2d(2), nn::Flatten(), nn::Dropout(0.3), nn::Linear(64, 3));
}

std::unique_ptr<TrainStep> make_step(nn::Module &net, optim::Optimizer &opt) {
    return std::make_unique<TrainStep>(
        net, opt, Shape{16, 1, 8, 8}, Shape{16}, DType::i32,
        [](const SymTensor &y, const SymTensor &t) { return cross_entropy(y, t); });
}

/// The losses of one epoch (3 batches, shuffled by `seed` and the epoch).
std::vector<double> train_epoch(TrainStep &step, const Dataset &data, uint64_t seed, int64_t epoch) {
    DataLoader loader(data, {16, true, seed, true});
    loader.set_epoch(epoch);
    std::vector<double> losses;
    for (int64_t i = 0; i < loader.num_batches(); ++i) {
        const Batch b = loader.batch(i);
        losses.push_back(step.step(b.inputs, b.targets).loss);
    }
    return losses;
}

/// Copies of every parameter, buffer and optimizer state tensor, by name.
NamedTensors snapshot(const nn::Module &model, const optim::Optimizer *opt = nullptr) {
    NamedTensors out;
    const auto params = model.named_parameters(), buffers = model.named_buffers();
    for (const auto &[name, t] : params.items()) out.emplace_back(name, t.clone());
    for (const auto &[name, t] : buffers.items()) out.emplace_back(name, t.clone());
    if (opt)
        for (const auto &[key, t] : opt->state()) out.emplace_back("optim." + key, t.clone());
    return out;
}

bool same_bits(const NamedTensors &a, const NamedTensors &b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        const Tensor &x = a[i].second, &y = b[i].second;
        if (a[i].first != b[i].first || x.dtype() != y.dtype() || x.shape() != y.shape() ||
            std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()) != 0)
            return false;
    }
    return true;
}

bool same_rng(const Generator::State &a, const Generator::State &b) {
    return a.words == b.words && a.has_spare == b.has_spare &&
           std::memcmp(&a.spare, &b.spare, sizeof a.spare) == 0;
}

/// Creates the optimizer's state (zeros) without compiling a training step.
void build_state(nn::Module &model, optim::Optimizer &opt) {
    Graph g;
    std::vector<optim::ParamSlot> slots;
    const auto params = model.named_parameters();
    for (const auto &[name, value] : params.items()) {
        SymTensor node = g.parameter(name, value);
        slots.push_back({name, value, node, node});  // any node of the parameter's shape serves as gradient
    }
    opt.build(g, slots);
}

/// A module with a parameter "w" and a buffer "b" of the given shapes and dtype
/// (with `swap`, "w" is the buffer and "b" the parameter).
struct PairImpl : nn::Module {
    PairImpl(const Shape &w, const Shape &b, DType dtype = DType::f32, bool swap = false)
        : nn::Module("Pair") {
        Generator gen(7);
        Tensor tw = Tensor::randn(w, gen, dtype), tb = Tensor::randn(b, gen, dtype);
        if (swap) {
            register_buffer("w", tw);
            register_parameter("b", tb);
        } else {
            register_parameter("w", tw);
            register_buffer("b", tb);
        }
    }
};
STRATA_MODULE(Pair);

/// The message of the strata::Error that `load_checkpoint` throws ("" when none).
std::string load_error(const std::string &path, nn::Module &model, optim::Optimizer *opt) {
    try {
        load_checkpoint(path, model, opt);
    } catch (const Error &e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("Resuming from a checkpoint trains on bit for bit like an uninterrupted run",
          "[train][checkpoint]") {
    TempDir dir;
    const uint64_t seed = 11;
    const Dataset data = synthetic_images();
    const auto adam_options = optim::AdamOptions(0.01).weight_decay(1e-3);

    // Two epochs without stopping.
    auto net = make_net(seed);
    optim::Adam adam(adam_options);
    auto step = make_step(*net, adam);
    std::vector<double> full = train_epoch(*step, data, seed, 0);
    for (double loss : train_epoch(*step, data, seed, 1)) full.push_back(loss);
    const NamedTensors full_state = snapshot(*net, &adam);

    // The same run stopped after one epoch and saved.
    auto first_net = make_net(seed);
    optim::Adam first_adam(adam_options);
    auto first_step = make_step(*first_net, first_adam);
    const std::vector<double> first = train_epoch(*first_step, data, seed, 0);
    REQUIRE(first == std::vector<double>(full.begin(), full.begin() + 3));
    const std::string path = dir / "epoch-1.safetensors";
    CheckpointInfo saved;
    saved.step = 3;
    saved.run_count = first_step->run_count();
    saved.ir = first_step->ir();
    saved.schedule = "default";
    saved.metadata["run"] = "resume-test";
    const Generator::State rng_at_save = default_generator().state();
    save_checkpoint(path, *first_net, &first_adam, saved);

    SECTION("loaded into a compiled training step") {
        auto net2 = make_net(seed);  // the same seed gives dropout the same per-layer seeds
        optim::Adam adam2(adam_options);
        auto step2 = make_step(*net2, adam2);
        manual_seed(999);  // the checkpoint restores the default generator
        const CheckpointInfo info = load_checkpoint(path, *net2, &adam2);
        CHECK(info.step == 3);
        CHECK(info.run_count == 3);
        CHECK(info.ir == first_step->ir());
        CHECK(info.schedule == "default");
        CHECK(info.metadata == std::map<std::string, std::string>{{"run", "resume-test"}});
        CHECK(adam2.step_count() == 3);
        CHECK(same_rng(default_generator().state(), rng_at_save));
        step2->set_run_count(info.run_count);
        CHECK(train_epoch(*step2, data, seed, 1) == std::vector<double>(full.begin() + 3, full.end()));
        CHECK(same_bits(snapshot(*net2, &adam2), full_state));
    }
    SECTION("loaded before the training step is built") {
        auto net3 = make_net(seed);
        optim::Adam adam3(adam_options);
        const CheckpointInfo info = load_checkpoint(path, *net3, &adam3);
        auto step3 = make_step(*net3, adam3);  // builds on the restored optimizer state
        step3->set_run_count(info.run_count);
        CHECK(train_epoch(*step3, data, seed, 1) == std::vector<double>(full.begin() + 3, full.end()));
        CHECK(same_bits(snapshot(*net3, &adam3), full_state));
    }
}

TEST_CASE("A checkpoint is a safetensors file with PyTorch's names and Strata's metadata",
          "[train][checkpoint]") {
    TempDir dir;
    nn::Sequential net(nn::Conv2d(1, 2, 3), nn::BatchNorm2d(2));
    optim::Adam adam(optim::AdamOptions(0.5));
    build_state(*net, adam);
    adam.set_step_count(7);
    adam.set_initial_lr(0.1);
    Tensor exp_avg = adam.state().at("1.weight.exp_avg");
    exp_avg.set_flat(1, 0.25);
    const std::string path = dir / "ck.safetensors";
    CheckpointInfo info;
    info.step = 42;
    save_checkpoint(path, *net, &adam, info);

    const SafetensorsFile file = read_safetensors(path);
    std::vector<std::string> names;
    for (const auto &named : file.tensors) names.push_back(named.first);
    CHECK(names == std::vector<std::string>{
                       "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                       "optim.0.bias.exp_avg", "optim.0.bias.exp_avg_sq", "optim.0.weight.exp_avg",
                       "optim.0.weight.exp_avg_sq", "optim.1.bias.exp_avg", "optim.1.bias.exp_avg_sq",
                       "optim.1.weight.exp_avg", "optim.1.weight.exp_avg_sq"});
    CHECK(file.find("optim.1.weight.exp_avg")->get_flat(1) == 0.25);
    CHECK(file.metadata.at("format") == "pt");
    CHECK(file.metadata.at("strata.step") == "42");
    CHECK(file.metadata.at("strata.optim.step") == "7");
    CHECK(file.metadata.at("strata.optim.lr") == "0.5");
    CHECK(file.metadata.at("strata.optim.initial_lr") == "0.1");
    CHECK(file.metadata.at("strata.checksum") == fmt::format("crc32:{:08x}", file.data_crc32));
    CHECK_THAT(file.metadata.at("strata.rng"), Contains("xoshiro256** "));
    CHECK(file.metadata.count("strata.ir") == 0);  // not given

    // Loading restores the optimizer's counters and state into a fresh one.
    nn::Sequential net2(nn::Conv2d(1, 2, 3), nn::BatchNorm2d(2));
    optim::Adam adam2(optim::AdamOptions(0.001));
    CHECK(load_checkpoint(path, *net2, &adam2).step == 42);
    CHECK(same_bits(snapshot(*net2, &adam2), snapshot(*net, &adam)));
    CHECK(adam2.step_count() == 7);
    CHECK(adam2.lr() == 0.5);
    CHECK(adam2.initial_lr() == 0.1);
    // Without an optimizer only the weights load (for inference).
    nn::Sequential net3(nn::Conv2d(1, 2, 3), nn::BatchNorm2d(2));
    load_checkpoint(path, *net3, nullptr);
    CHECK(same_bits(snapshot(*net3), snapshot(*net)));

    info.metadata["strata.mine"] = "x";
    CHECK_THROWS_WITH(save_checkpoint(dir / "bad.safetensors", *net, &adam, info),
                      Contains("metadata key 'strata.mine' is reserved"));
    CHECK(!fs::exists(dir / "bad.safetensors"));
}

TEST_CASE("A checkpoint that does not fit the model is an error and loads nothing",
          "[train][checkpoint][errors]") {
    TempDir dir;
    const std::string path = dir / "ck.safetensors";
    nn::Sequential one(nn::Linear(4, 3));
    nn::Sequential two(nn::Linear(4, 3), nn::Linear(3, 2));
    nn::Sequential wide(nn::Linear(4, 3), nn::Linear(3, 5));
    manual_seed(5);
    const Generator::State rng = default_generator().state();
    const NamedTensors one_before = snapshot(*one), two_before = snapshot(*two),
                       wide_before = snapshot(*wide);
    auto unchanged = [&] {
        return same_bits(snapshot(*one), one_before) && same_bits(snapshot(*two), two_before) &&
               same_bits(snapshot(*wide), wide_before) && same_rng(default_generator().state(), rng);
    };

    save_checkpoint(path, *one, nullptr);
    CHECK_THAT(load_error(path, *two, nullptr),
               Contains(path + ": the model's parameter '1.weight' [2, 3] (f32) is not in the checkpoint"));
    CHECK(unchanged());  // "0.weight" matched, yet was not loaded

    save_checkpoint(path, *two, nullptr);
    CHECK_THAT(load_error(path, *one, nullptr),
               Contains(path + ": unexpected tensor '1.weight' [2, 3] (f32) in the checkpoint"));
    CHECK_THAT(
        load_error(path, *wide, nullptr),
        Contains(path +
                 ": parameter '1.weight' is [2, 3] (f32) in the checkpoint but [5, 3] (f32) in the model"));
    CHECK(unchanged());

    Pair f32_pair(Shape{2}, Shape{3}), f64_pair(Shape{2}, Shape{3}, DType::f64),
        other_buffer(Shape{2}, Shape{4});
    save_checkpoint(path, *f32_pair, nullptr);
    CHECK_THAT(load_error(path, *f64_pair, nullptr),
               Contains("parameter 'w' is [2] (f32) in the checkpoint but [2] (f64) in the model"));
    CHECK_THAT(load_error(path, *other_buffer, nullptr),
               Contains("buffer 'b' is [3] (f32) in the checkpoint but [4] (f32) in the model"));

    // One flipped bit in the data.
    save_checkpoint(path, *two, nullptr);
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(-3, std::ios::end);
        const char c = static_cast<char>(f.get() ^ 0x10);
        f.seekp(-3, std::ios::end);
        f.put(c);
    }
    CHECK_THAT(load_error(path, *two, nullptr),
               Contains(path + ": checksum mismatch: the metadata says crc32:"));
    // Cut short: the safetensors reader's error.
    save_checkpoint(path, *two, nullptr);
    fs::resize_file(path, fs::file_size(path) - 5);
    CHECK_THAT(load_error(path, *two, nullptr), Contains("past the end of the data"));
    // A safetensors file that is not a Strata checkpoint.
    save_safetensors(path, {{"0.weight", Tensor::zeros({3, 4})}});
    CHECK_THAT(
        load_error(path, *one, nullptr),
        Contains(path + ": not a complete Strata checkpoint: the metadata has no 'strata.checkpoint'"));
    CHECK(unchanged());
}

TEST_CASE("Optimizer state that does not fit is an error and loads nothing", "[train][checkpoint][errors]") {
    TempDir dir;
    const std::string path = dir / "ck.safetensors";
    nn::Sequential net(nn::Linear(4, 3));
    optim::Adam adam(optim::AdamOptions(0.1));
    build_state(*net, adam);
    adam.set_step_count(4);
    optim::SGD sgd(optim::SGDOptions(0.1).momentum(0.9));
    build_state(*net, sgd);
    const NamedTensors before = snapshot(*net, &sgd);

    save_checkpoint(path, *net, nullptr);
    CHECK_THAT(load_error(path, *net, &sgd), Contains(path + ": the checkpoint has no optimizer state"));
    save_checkpoint(path, *net, &adam);
    CHECK_THAT(
        load_error(path, *net, &sgd),
        Contains("optimizer state 'optim.0.bias.exp_avg' [3] (f32) in the checkpoint is not a slot of this "
                 "optimizer"));
    CHECK(same_bits(snapshot(*net, &sgd), before));
    CHECK(sgd.step_count() == 0);

    // State of a tensor that is a buffer, not a parameter, of the loading model.
    Pair pair(Shape{2}, Shape{2});
    optim::Adam pair_adam(optim::AdamOptions(0.1));
    build_state(*pair, pair_adam);
    save_checkpoint(path, *pair, &pair_adam);
    Pair swapped(Shape{2}, Shape{2}, DType::f32, true);
    optim::Adam swapped_adam(optim::AdamOptions(0.1));
    CHECK_THAT(
        load_error(path, *swapped, &swapped_adam),
        Contains(path +
                 ": optimizer state 'optim.w.exp_avg' [2] (f32) belongs to no parameter of the model"));
    CHECK(swapped_adam.state().empty());
}

TEST_CASE("A checkpoint holding a NaN or infinite weight is an error naming the tensor and element",
          "[train][checkpoint][errors]") {
    TempDir dir;
    nn::Sequential net(nn::Linear(4, 3));
    for (const double bad : {std::nan(""), HUGE_VAL}) {
        const std::string path = dir / "diverged.safetensors";
        Tensor weight = net->named_parameters()["0.weight"];
        weight.data<float>()[5] = static_cast<float>(bad);
        save_checkpoint(path, *net, nullptr);
        nn::Sequential fresh(nn::Linear(4, 3));
        const std::string message = load_error(path, *fresh, nullptr);
        CHECK_THAT(message, Contains(path + ": tensor '0.weight' [3, 4] (f32) holds " + (std::isnan(bad) ? "nan" : "inf") +
                                     " at flat index 5"));
        CHECK_THAT(message, Contains("must be finite"));
        CHECK_THROWS_WITH(read_checkpoint(path), Contains("holds"));
        weight.data<float>()[5] = 0.5f;
    }
}
