// Trainer fed by data::DataLoader: a streamed fit trains exactly as the in-memory loop always
// did (same shuffle, same losses, whatever the number of workers); a file-backed run with
// workers and a seeded transform, killed at a random step, resumes from the trainer's checkpoint
// (which holds the loader's position) to the same end, bit for bit; bad fields, corrupt examples
// and another data set's checkpoint are errors that say what was wrong.
#include "frontend/functional.h"
#include "frontend/nn.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/callbacks.h"
#include "frontend/train/checkpoint.h"
#include "frontend/train/train_step.h"
#include "frontend/train/trainer.h"
#include "runtime/data/raw_file_dataset.h"
#include "runtime/data/tensor_dataset.h"
#include "runtime/random.h"

#include <catch2/catch.hpp>

#include "tests/support/child_process.h"
#include "tests/support/error_message.h"
#include "tests/support/example_datasets.h"
#include "tests/support/synthetic_images.h"
#include "tests/support/temp_dir.h"
#include "tests/support/trainer_probes.h"

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

using namespace strata;
using Catch::Matchers::Contains;
using strata::testing::Child;
using strata::testing::error_message;
using strata::testing::TempDir;
using strata::testing::StepReporter;
using strata::testing::state_bytes;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kSeed = 5;

SymTensor loss(const SymTensor &y, const SymTensor &t) { return cross_entropy(y, t); }

/// The synthetic images as a dataset of examples {"image": f32[1, 8, 8], "label": i32[]}.
data::DatasetPtr image_dataset(const Dataset &d) {
    return std::make_shared<data::TensorDataset>(data::Example{{"image", d.inputs}, {"label", d.targets}}, "images");
}

/// Seeded Gaussian noise on "image": the batches depend on the loader's per-example generators.
class ImageNoise : public data::Transform {
public:
    void apply(data::Example &example, Generator &rng) const override {
        Tensor &x = example.at("image");
        for (int64_t i = 0; i < x.numel(); ++i) x.set_flat(i, x.get_flat(i) + 0.3 * rng.normal());
    }
    std::string describe() const override { return "image_noise(0.3)"; }
};

nn::Sequential make_net(bool dropout) {
    manual_seed(kSeed);
    if (dropout)
        return nn::Sequential(nn::Flatten(), nn::Linear(64, 16), nn::ReLU(), nn::Dropout(0.2), nn::Linear(16, 3));
    return nn::Sequential(nn::Flatten(), nn::Linear(64, 16), nn::ReLU(), nn::Linear(16, 3));
}

TrainerOptions options(const std::string &checkpoint = "") {
    TrainerOptions o;
    o.epochs = 3;
    o.batch_size = 8;
    o.seed = kSeed;
    o.progress = false;
    o.checkpoint_path = checkpoint;
    o.checkpoint_every = checkpoint.empty() ? 0 : 1;
    return o;
}

/// A streamed run from a file with two workers, seeded noise, dropout, momentum and metrics.
struct FileRun {
    nn::Sequential net = make_net(true);
    optim::SGD sgd{optim::SGDOptions(0.05).momentum(0.9)};
    Trainer trainer;
    StreamOptions stream;

    FileRun(TrainerOptions o, int report_fd = -1) : trainer(*net, sgd, loss, o) {
        trainer.add_metric(metrics::Accuracy());
        trainer.add_callback(StepReporter(report_fd));
        stream.inputs = {"image"};
        stream.num_workers = 2;
        stream.transforms = {std::make_shared<ImageNoise>()};
    }
};

}  // namespace

TEST_CASE("A streamed fit trains exactly as the in-memory training loop, with or without workers",
          "[train][trainer][data]") {
    const Dataset data = strata::testing::synthetic_images(), validation = data.slice(0, 21);  // 21: a short batch

    // The reference: the in-memory loader's batches fed to a TrainStep by hand.
    nn::Sequential ref_net = make_net(false);
    optim::SGD ref_sgd(optim::SGDOptions(0.05).momentum(0.9));
    TrainStep ref_step(*ref_net, ref_sgd, {8, 1, 8, 8}, {8}, DType::i32, loss);
    DataLoader ref_loader(data, {8, true, kSeed, true});
    std::vector<double> ref_losses;
    for (int64_t epoch = 0; epoch < 3; ++epoch) {
        ref_loader.set_epoch(epoch);
        double sum = 0;
        for (int64_t b = 0; b < ref_loader.num_batches(); ++b) {
            const Batch batch = ref_loader.batch(b);
            sum += ref_step.step(batch.inputs, batch.targets).loss;
        }
        ref_losses.push_back(sum / static_cast<double>(ref_loader.num_batches()));
    }

    for (int64_t workers : {0, 2}) {
        INFO(workers << " workers");
        nn::Sequential net = make_net(false);
        optim::SGD sgd(optim::SGDOptions(0.05).momentum(0.9));
        Trainer trainer(*net, sgd, loss, options());
        StreamOptions stream;
        stream.inputs = {"image"};
        stream.num_workers = workers;
        const auto history = trainer.fit(image_dataset(data), stream, image_dataset(validation));
        REQUIRE(history.size() == 3);
        for (size_t e = 0; e < 3; ++e) CHECK(history[e].train_loss == ref_losses[e]);
        CHECK(state_bytes(*net, sgd) == state_bytes(*ref_net, ref_sgd));

        // The streamed validation (21 examples: batches of 8, 8, 5) is the in-memory one.
        const EvalStats streamed = trainer.evaluate(image_dataset(validation), stream);
        const EvalStats in_memory = trainer.evaluate(validation);
        CHECK(streamed.examples == 21);
        CHECK(streamed.loss == in_memory.loss);
        CHECK(streamed.accuracy == in_memory.accuracy);
        CHECK(history.back().validation_loss == in_memory.loss);
    }

    // The in-memory API goes the same way and ends the same.
    nn::Sequential net = make_net(false);
    optim::SGD sgd(optim::SGDOptions(0.05).momentum(0.9));
    Trainer trainer(*net, sgd, loss, options());
    const auto history = trainer.fit(data);
    for (size_t e = 0; e < 3; ++e) CHECK(history[e].train_loss == ref_losses[e]);
    CHECK(state_bytes(*net, sgd) == state_bytes(*ref_net, ref_sgd));
}

TEST_CASE("A file-backed run with workers and a seeded transform, killed at a random step, resumes bit for bit",
          "[train][trainer][data][checkpoint][faults]") {
    TempDir dir;
    const std::string file = dir / "train.strata", path = dir / "run.safetensors";
    const Dataset images = strata::testing::synthetic_images();
    data::write_raw_dataset(file, *image_dataset(images));
    const auto train = std::make_shared<data::RawFileDataset>(file);
    const auto validation = image_dataset(images.slice(0, 20));
    const int64_t total_steps = 3 * (images.size() / 8);
    const uint64_t seed = std::random_device{}();
    std::mt19937_64 rng(seed);
    const int64_t kill_after = std::uniform_int_distribution<int64_t>(2, total_steps - 1)(rng);
    INFO("random seed " << seed << ": kill after " << kill_after << " of " << total_steps << " steps");

    Child child = Child::start([&](int out) {
        FileRun run(options(path), out);
        run.trainer.fit(train, run.stream, validation);
        ::pause();  // finished before the kill came: wait for it
    });
    int64_t seen = 0;
    char c;
    while (seen < kill_after && ::read(child.from_child, &c, 1) == 1) seen += c == 's';
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 3000)(rng)));
    ::kill(child.pid, SIGKILL);
    int status = 0;
    const std::string report = child.finish(&status);
    INFO(report);
    REQUIRE(seen == kill_after);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(fs::exists(path));
    const Checkpoint saved = read_checkpoint(path);
    CHECK(saved.info.step >= kill_after - 1);
    CHECK_THAT(saved.info.metadata.at("trainer.data"), Contains("48 examples") && Contains("image_noise(0.3)"));

    FileRun resumed(options(path));
    const auto tail = resumed.trainer.fit(train, resumed.stream, {.resume = path}, validation);
    FileRun full(options());
    full.stream.num_workers = 0;  // the batches do not depend on the number of workers
    const auto history = full.trainer.fit(train, full.stream, validation);

    REQUIRE(history.size() == 3);
    REQUIRE(!tail.empty());
    REQUIRE(tail.size() <= history.size());
    for (size_t i = 0; i < tail.size(); ++i) {
        const EpochStats &a = tail[i], &b = history[history.size() - tail.size() + i];
        INFO("epoch " << b.epoch);
        CHECK(a.epoch == b.epoch);
        CHECK(a.train_loss == b.train_loss);
        CHECK(a.validation_loss == b.validation_loss);
        CHECK(a.metrics == b.metrics);
    }
    CHECK(resumed.trainer.step()->run_count() == full.trainer.step()->run_count());
    CHECK(state_bytes(*resumed.net, resumed.sgd) == state_bytes(*full.net, full.sgd));

    // The noise matters: without it the run ends elsewhere (the check above could not pass by chance).
    FileRun clean(options());
    clean.stream.transforms.clear();
    clean.trainer.fit(train, clean.stream);
    CHECK(state_bytes(*clean.net, clean.sgd) != state_bytes(*full.net, full.sgd));
}

TEST_CASE("Streamed fits name the field, example or checkpoint that is wrong", "[train][trainer][data][errors]") {
    TempDir dir;
    const Dataset images = strata::testing::synthetic_images();
    const data::DatasetPtr data = image_dataset(images);
    nn::Sequential net = make_net(false);
    optim::SGD sgd(optim::SGDOptions(0.05));
    Trainer trainer(*net, sgd, loss, options());

    StreamOptions stream;
    CHECK_THAT(error_message([&] { trainer.fit(data, stream); }),
               Contains("the training set has no field 'input' (StreamOptions::inputs); its examples are"));
    stream.inputs = {"waveform"};
    CHECK_THAT(error_message([&] { trainer.fit(data, stream); }), Contains("no field 'waveform'"));
    stream.inputs = {"image", "label"};
    CHECK_THAT(error_message([&] { trainer.fit(data, stream); }), Contains("reads one field"));
    stream.inputs = {"image"};
    const auto three_fields = std::make_shared<data::TensorDataset>(
        data::Example{{"image", images.inputs}, {"label", images.targets}, {"weight", Tensor::ones({48})}});
    CHECK_THAT(error_message([&] { trainer.fit(three_fields, stream); }), Contains("needs examples of two fields"));

    // A named trainer must be told which fields are inputs.
    Trainer named(*net, sgd, [&](const SymMap &in) { return SymMap{{"logits", net->forward(in.at("image"))}}; },
                  [](const SymMap &out, const SymMap &t) { return cross_entropy(out.at("logits"), t.at("label")); },
                  options());
    CHECK_THAT(error_message([&] { named.fit(data, StreamOptions{}); }),
               Contains("StreamOptions::inputs must name the fields the model reads"));

    // A corrupt example stops the fit with its file and item, or is replaced and counted.
    const auto faulty = std::make_shared<strata::testing::FaultyDataset>(data, std::set<int64_t>{7});
    stream.inputs = {"image"};
    stream.num_workers = 2;
    const std::string message = error_message([&] { trainer.fit(faulty, stream); });
    CHECK_THAT(message, Contains("faulty.h5: trace 'T7'") && Contains("epoch 1, batch"));
    stream.skip_corrupt = true;
    Trainer lenient(*net, sgd, loss, options());
    lenient.fit(faulty, stream);
    CHECK(lenient.skipped_examples() == 3);  // example 7 is in every epoch's full batches

    // A checkpoint of a run on other data (here: without the transform) is refused.
    const std::string path = dir / "run.safetensors";
    TrainerOptions saving = options(path);
    saving.epochs = 1;
    Trainer first(*net, sgd, loss, saving);
    StreamOptions plain;
    plain.inputs = {"image"};
    first.fit(data, plain);
    Trainer other(*net, sgd, loss, saving);
    StreamOptions noisy = plain;
    noisy.transforms = {std::make_shared<ImageNoise>()};
    CHECK_THAT(error_message([&] { other.fit(data, noisy, {.resume = path}); }),
               Contains(path + ": the checkpoint's run read 48 examples") && Contains("transforms []; this fit reads") &&
                   Contains("transforms [image_noise(0.3)]"));
}
