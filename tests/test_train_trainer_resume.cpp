// Exact resume through Trainer: a run killed with SIGKILL at a random step and resumed from the
// checkpoint the trainer kept ends bit for bit where an uninterrupted run ends (weights, optimizer
// state, LR schedule, dropout's counter, the last epochs' losses and metrics); a checkpoint of
// another run is refused and loads nothing. Early stopping and best-checkpoint keeping.
#include "frontend/functional.h"
#include "frontend/nn.h"
#include "frontend/optim/lr_scheduler.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/callbacks.h"
#include "frontend/train/checkpoint.h"
#include "runtime/random.h"

#include <catch2/catch.hpp>

#include "tests/support/child_process.h"
#include "tests/support/error_message.h"
#include "tests/support/synthetic_images.h"
#include "tests/support/temp_dir.h"
#include "tests/support/trainer_probes.h"

#include <chrono>
#include <csignal>
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

constexpr uint64_t kSeed = 21;

SymTensor loss(const SymTensor &y, const SymTensor &t) { return cross_entropy(y, t); }

/// A run with every kind of state a resume must restore: dropout, SGD momentum, a schedule,
/// metrics and a callback that remembers the best validation loss.
struct Run {
    nn::Sequential net = [] {
        manual_seed(kSeed);
        return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
                              nn::Flatten(), nn::Dropout(0.2), nn::Linear(64, 3));
    }();
    optim::SGD sgd{optim::SGDOptions(0.05).momentum(0.9)};
    optim::StepLR schedule{sgd, 1, 0.7};
    Trainer trainer;
    EarlyStopping *stopper = nullptr;

    explicit Run(TrainerOptions options, int report_fd = -1) : trainer(*net, sgd, loss, options) {
        trainer.set_scheduler(&schedule);
        trainer.add_metric(metrics::Accuracy());
        trainer.add_metric(metrics::ConfusionMatrix(3));
        stopper = &trainer.add_callback(EarlyStopping("val_loss", 100));
        trainer.add_callback(StepReporter(report_fd));
    }
};

TrainerOptions run_options(const std::string &checkpoint = "") {
    TrainerOptions o;
    o.epochs = 3;
    o.batch_size = 16;
    o.seed = kSeed;
    o.progress = false;
    o.checkpoint_path = checkpoint;
    o.checkpoint_every = checkpoint.empty() ? 0 : 1;
    return o;
}

void check_same_epoch(const EpochStats &a, const EpochStats &b) {
    INFO("epoch " << a.epoch << " and " << b.epoch);
    CHECK(a.epoch == b.epoch);
    CHECK(a.train_loss == b.train_loss);
    CHECK(a.train_accuracy == b.train_accuracy);
    CHECK(a.validation_loss == b.validation_loss);
    CHECK(a.lr == b.lr);
    CHECK(a.metrics == b.metrics);
}

}  // namespace

TEST_CASE("A Trainer run killed at a random step resumes from its checkpoint to the same end, bit for bit",
          "[train][trainer][checkpoint][faults]") {
    TempDir dir;
    const std::string path = dir / "run.safetensors";
    const Dataset data = strata::testing::synthetic_images(), validation = data.slice(0, 24);
    const int64_t total_steps = 3 * (data.size() / 16);
    const uint64_t seed = std::random_device{}();
    std::mt19937_64 rng(seed);
    const int64_t kill_after = std::uniform_int_distribution<int64_t>(2, total_steps - 1)(rng);
    INFO("random seed " << seed << ": kill after " << kill_after << " of " << total_steps << " steps");

    // The child checkpoints after every step; the parent kills it a random moment after its
    // `kill_after`-th step (mid-step, mid-save or mid-validation).
    Child child = Child::start([&](int out) {
        Run run(run_options(path), out);
        run.trainer.fit(data, &validation);
        ::pause();  // finished before the kill came: wait for it, so every run ends the same way
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
    REQUIRE(fs::exists(path));  // the step before the kill_after-th was saved
    CHECK(read_checkpoint(path).info.step >= kill_after - 1);

    Run resumed(run_options(path));
    const std::vector<EpochStats> tail = resumed.trainer.fit(data, {.resume = path}, &validation);
    Run full(run_options());
    const std::vector<EpochStats> history = full.trainer.fit(data, &validation);

    REQUIRE(history.size() == 3);
    REQUIRE(!tail.empty());
    REQUIRE(tail.size() <= history.size());
    for (size_t i = 0; i < tail.size(); ++i) check_same_epoch(tail[i], history[history.size() - tail.size() + i]);
    CHECK(resumed.trainer.epochs_done() == 3);
    CHECK(resumed.sgd.step_count() == full.sgd.step_count());
    CHECK(resumed.schedule.last_epoch() == full.schedule.last_epoch());
    CHECK(resumed.trainer.step()->run_count() == full.trainer.step()->run_count());
    CHECK(resumed.stopper->best() == full.stopper->best());  // the callback's state came back too
    CHECK(state_bytes(*resumed.net, resumed.sgd) == state_bytes(*full.net, full.sgd));
}

TEST_CASE("Resuming from a checkpoint of another run is an error that says what differs and loads nothing",
          "[train][trainer][checkpoint][errors]") {
    TempDir dir;
    const std::string path = dir / "run.safetensors";
    const Dataset data = strata::testing::synthetic_images(), validation = data.slice(0, 24);
    TrainerOptions options = run_options(path);
    options.epochs = 1;
    Run first(options);
    first.trainer.fit(data, &validation);
    REQUIRE(read_checkpoint(path).info.metadata.at("trainer.epoch") == "1");

    TrainerOptions other_seed = run_options();
    other_seed.seed = kSeed + 1;
    Run other(other_seed);
    const std::string before = state_bytes(*other.net, other.sgd);
    CHECK_THAT(error_message([&] { other.trainer.resume(path); }),
               Contains(path + ": the checkpoint's run had shuffle seed 21, this trainer has 22"));
    CHECK(state_bytes(*other.net, other.sgd) == before);

    Run fewer_metrics(run_options());
    fewer_metrics.trainer.add_metric(metrics::MeanAbsoluteError());
    CHECK_THAT(error_message([&] { fewer_metrics.trainer.resume(path); }),
               Contains("the checkpoint's run had number of metrics 2, this trainer has 3"));

    CHECK_THAT(error_message([&] { first.trainer.save_checkpoint(dir / "x.safetensors", {{"trainer.mine", "1"}}); }),
               Contains("metadata key 'trainer.mine' is reserved"));
    TrainerOptions no_path = run_options();
    no_path.checkpoint_every = 2;
    CHECK_THAT(error_message([&] { Run run(no_path); }), Contains("checkpoint_every is 2 but checkpoint_path is empty"));

    nn::Sequential net(nn::Linear(4, 3));
    save_checkpoint(path, *net, nullptr);
    CHECK_THAT(error_message([&] { other.trainer.resume(path); }), Contains("not a Trainer checkpoint"));

    // A run that has trained all its epochs trains no more when resumed.
    options.checkpoint_path = dir / "done.safetensors";
    Run done(options);
    done.trainer.fit(data, &validation);
    Run again(options);
    CHECK(again.trainer.fit(data, {.resume = options.checkpoint_path}, &validation).empty());
    CHECK(state_bytes(*again.net, again.sgd) == state_bytes(*done.net, done.sgd));
}

TEST_CASE("EarlyStopping ends fit when the monitored value stops improving", "[train][trainer][callbacks]") {
    const Dataset data = strata::testing::synthetic_images();
    manual_seed(1);
    nn::Sequential net(nn::Flatten(), nn::Linear(64, 3));
    optim::SGD sgd(optim::SGDOptions(1e-12));  // nothing changes: the loss never improves after epoch 1
    TrainerOptions options = run_options();
    options.epochs = 10;
    Trainer trainer(*net, sgd, loss, options);
    EarlyStopping &stopper = trainer.add_callback(EarlyStopping("val_loss", 2, 1e-6));
    const std::vector<EpochStats> history = trainer.fit(data, &data);
    CHECK(history.size() == 3);  // epoch 1 sets the best, 2 and 3 do not improve it
    CHECK(stopper.stopped_epoch() == 2);
    CHECK(stopper.best() == history[0].validation_loss);

    Trainer unknown(*net, sgd, loss, options);
    unknown.add_callback(EarlyStopping("val_f1/macro"));
    CHECK_THAT(error_message([&] { unknown.fit(data, &data); }),
               Contains("EarlyStopping: no metric 'val_f1/macro' after epoch 1 (there are: loss, val_loss;"));
    CHECK_THAT(error_message([] { EarlyStopping bad("val_loss", 0); }), Contains("patience must be at least 1"));
}

TEST_CASE("BestCheckpoint keeps the checkpoint of the best epoch, which resumes", "[train][trainer][callbacks]") {
    TempDir dir;
    const std::string best = dir / "best.safetensors";
    const Dataset data = strata::testing::synthetic_images(), validation = data.slice(0, 24);
    TrainerOptions options = run_options();
    options.epochs = 4;
    Run run(options);
    BestCheckpoint &keeper = run.trainer.add_callback(BestCheckpoint(best, "val_accuracy", Mode::max));
    const std::vector<EpochStats> history = run.trainer.fit(data, &validation);
    size_t best_epoch = 0;
    for (size_t e = 1; e < history.size(); ++e)
        if (history[e].metrics.at("val_accuracy") > history[best_epoch].metrics.at("val_accuracy")) best_epoch = e;
    CHECK(keeper.best_epoch() == static_cast<int64_t>(best_epoch));
    const Checkpoint ck = read_checkpoint(best);
    CHECK(ck.info.metadata.at("best.monitor") == "val_accuracy");
    CHECK(ck.info.metadata.at("best.epoch") == std::to_string(best_epoch));
    CHECK(ck.info.metadata.at("best.value") == fmt::format("{}", history[best_epoch].metrics.at("val_accuracy")));
    CHECK(ck.info.metadata.at("trainer.batch") == "3");  // saved at the end of its epoch's batches

    // Resuming from it finishes that epoch (schedule step) and trains the rest to the same end.
    Run resumed(options);
    resumed.trainer.add_callback(BestCheckpoint(dir / "best2.safetensors", "val_accuracy", Mode::max));
    const std::vector<EpochStats> tail = resumed.trainer.fit(data, {.resume = best}, &validation);
    REQUIRE(tail.size() == history.size() - best_epoch);
    for (size_t i = 0; i < tail.size(); ++i) check_same_epoch(tail[i], history[best_epoch + i]);
    CHECK(state_bytes(*resumed.net, resumed.sgd) == state_bytes(*run.net, run.sgd));
}
