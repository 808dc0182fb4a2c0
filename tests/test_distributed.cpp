// Data-parallel training over MPI: tests/distributed_driver runs under `mpirun -np N`
// and is checked against the same training in this process with the one-program
// TrainStep: same global batches -> same losses and weights (float32 reduction-order
// tolerance); a failing, dead or hanging rank ends the job with an error in bounded
// time; a checkpoint resumes on another number of ranks. Skipped (with a warning)
// when Strata was built without MPI or mpirun is missing.
#include "frontend/distributed/process_group.h"
#include "frontend/train/checkpoint.h"
#include "frontend/train/train_step.h"
#include "frontend/train/trainer.h"
#include "runtime/random.h"

#include <catch2/catch.hpp>

#include "tests/support/distributed_setup.h"
#include "tests/support/error_message.h"
#include "tests/support/mpi_job.h"
#include "tests/support/temp_dir.h"

#include <cmath>
#include <filesystem>

using namespace strata;
namespace setup = strata::testing::distributed_setup;
using strata::testing::Job;
using strata::testing::mpirun_or_skip;
using strata::testing::numbers;
using strata::testing::run_job;
using strata::testing::TempDir;

namespace {

/// The same steps in this process: the one-program TrainStep on whole global batches
/// (seeded as rank 0 of the driver), saved as the driver saves.
void reference_run(const std::string &out, const std::string &optimizer_name, int64_t steps, double clip = 0,
                   const std::string &resume = "") {
    manual_seed(100);
    nn::Sequential net = setup::make_model();
    auto optimizer = setup::make_optimizer(optimizer_name);
    if (!resume.empty()) load_checkpoint(resume, *net, optimizer.get());
    TrainStepOptions options;
    options.clip_grad_norm = clip;
    TrainStep step(*net, *optimizer, {setup::kGlobalBatch, 1, 8, 8}, {setup::kGlobalBatch}, DType::i32, setup::loss,
                   options);
    DataLoader loader(testing::synthetic_images(), {setup::kGlobalBatch, true, setup::kShuffleSeed, true});
    const int64_t batches = setup::batches_per_epoch(), first = optimizer->step_count();
    std::vector<double> losses, norms;
    for (int64_t s = first; s < first + steps; ++s) {
        loader.set_epoch(s / batches);
        const Batch b = loader.batch(s % batches);
        const TrainStep::Result r = step.step(b.inputs, b.targets);
        losses.push_back(r.loss);
        norms.push_back(r.grad_norm);
    }
    CheckpointInfo info;
    info.step = optimizer->step_count();
    auto join = [](const std::vector<double> &v) {
        std::string s;
        for (double x : v) s += (s.empty() ? "" : ",") + fmt::format("{:.9g}", x);
        return s;
    };
    info.metadata = {{"losses", join(losses)}, {"grad_norms", join(norms)}};
    save_checkpoint(out, *net, optimizer.get(), info);
}

/// Every tensor (weights and optimizer state) and the numbers recorded under `key` agree
/// within float32 reduction-order tolerance; `expected` may have recorded `skip` more steps
/// first (a run that was resumed from a checkpoint records only its own).
void check_same_training(const std::string &actual_path, const std::string &expected_path, const char *key,
                         size_t skip = 0) {
    const Checkpoint actual = read_checkpoint(actual_path), expected = read_checkpoint(expected_path);
    CHECK(actual.info.step == expected.info.step);
    const std::vector<double> a = numbers(actual.info.metadata.at(key)), e = numbers(expected.info.metadata.at(key));
    REQUIRE(a.size() + skip == e.size());
    for (size_t i = 0; i < a.size(); ++i) {
        INFO(key << " at step " << i + skip);
        if (std::isnan(e[i + skip])) CHECK(std::isnan(a[i]));
        else CHECK(a[i] == Approx(e[i + skip]).epsilon(2e-5));
    }
    REQUIRE(actual.file.tensors.size() == expected.file.tensors.size());
    for (const auto &[name, want] : expected.file.tensors) {
        const Tensor *got = actual.file.find(name);
        INFO("tensor " << name);
        REQUIRE(got != nullptr);
        REQUIRE(got->shape() == want.shape());
        double worst = 0, scale = 0;
        for (int64_t i = 0; i < want.numel(); ++i) {
            worst = std::max(worst, std::abs(got->get_flat(i) - want.get_flat(i)));
            scale = std::max(scale, std::abs(want.get_flat(i)));
        }
        INFO("largest difference " << worst << ", largest value " << scale);
        CHECK(worst <= 1e-5 * std::max(scale, 1.0));
    }
}

}  // namespace

TEST_CASE("distributed: 1 and 2 ranks give the losses and weights of one process with SGD momentum and clipping") {
    const std::string mpirun = mpirun_or_skip();
    if (mpirun.empty()) return;
    TempDir dir;
    reference_run(dir / "reference.safetensors", "sgd", 8, 0.5);
    for (int ranks : {1, 2}) {
        INFO(ranks << " ranks");
        const std::string out = dir / fmt::format("ranks{}.safetensors", ranks);
        const Job job = run_job(mpirun, ranks, fmt::format("--out {} --optimizer sgd --steps 8 --clip 0.5", out));
        INFO(job.output);
        REQUIRE(job.status == 0);
        check_same_training(out, dir / "reference.safetensors", "losses");
        check_same_training(out, dir / "reference.safetensors", "grad_norms");
        CHECK(read_checkpoint(out).info.metadata.at("ranks_agree") == "yes");
    }
}

TEST_CASE("distributed: ranks keep identical weights and batch-norm statistics from different initial weights") {
    const std::string mpirun = mpirun_or_skip();
    if (mpirun.empty()) return;
    TempDir dir;
    // Each rank draws other initial weights and sees other shards (so other batch statistics):
    // the broadcasts from rank 0 and the summed gradients must keep them equal bit for bit.
    const std::string out = dir / "bn.safetensors";
    const Job job = run_job(mpirun, 2, fmt::format("--out {} --optimizer adam --steps 5 --batch-norm 1", out));
    INFO(job.output);
    REQUIRE(job.status == 0);
    const Checkpoint saved = read_checkpoint(out);
    CHECK(saved.info.metadata.at("ranks_agree") == "yes");
    CHECK(saved.file.find("1.running_mean") != nullptr);
}

TEST_CASE("distributed: 2 ranks give the losses and weights of one process with Adam") {
    const std::string mpirun = mpirun_or_skip();
    if (mpirun.empty()) return;
    TempDir dir;
    reference_run(dir / "reference.safetensors", "adam", 8);
    const Job job = run_job(mpirun, 2, fmt::format("--out {} --optimizer adam --steps 8", dir / "ranks2.safetensors"));
    INFO(job.output);
    REQUIRE(job.status == 0);
    check_same_training(dir / "ranks2.safetensors", dir / "reference.safetensors", "losses");
    CHECK(read_checkpoint(dir / "ranks2.safetensors").info.metadata.at("ranks_agree") == "yes");
}

TEST_CASE("distributed: DistributedTrainer on 2 ranks reports the epoch losses and validation of Trainer") {
    const std::string mpirun = mpirun_or_skip();
    if (mpirun.empty()) return;
    TempDir dir;
    const Job job = run_job(mpirun, 2, fmt::format("--out {} --fit 2", dir / "fit.safetensors"));
    INFO(job.output);
    REQUIRE(job.status == 0);

    manual_seed(100);
    nn::Sequential net = setup::make_model();
    auto sgd = setup::make_optimizer("sgd");
    TrainerOptions options;
    options.epochs = 2;
    options.batch_size = setup::kGlobalBatch;
    options.seed = setup::kShuffleSeed;
    options.progress = false;
    Trainer trainer(*net, *sgd, setup::loss, options);
    const Dataset data = testing::synthetic_images(), validation = data.slice(0, 21);
    const auto history = trainer.fit(data, &validation);
    const auto meta = read_checkpoint(dir / "fit.safetensors").info.metadata;
    const auto train_loss = numbers(meta.at("train_loss")), train_acc = numbers(meta.at("train_accuracy"));
    const auto val_loss = numbers(meta.at("validation_loss")), val_acc = numbers(meta.at("validation_accuracy"));
    REQUIRE(train_loss.size() == 2);
    for (size_t e = 0; e < 2; ++e) {
        CHECK(train_loss[e] == Approx(history[e].train_loss).epsilon(2e-5));
        CHECK(train_acc[e] == Approx(history[e].train_accuracy).epsilon(1e-9));
        CHECK(val_loss[e] == Approx(history[e].validation_loss).epsilon(2e-5));
        CHECK(val_acc[e] == Approx(history[e].validation_accuracy).epsilon(1e-9));
    }
}

TEST_CASE("distributed: a global batch that does not split across the ranks is an error") {
    const std::string mpirun = mpirun_or_skip();
    if (mpirun.empty()) return;
    TempDir dir;
    const Job job = run_job(mpirun, 2, fmt::format("--out {} --fit 1 --batch 9", dir / "fit.safetensors"));
    CHECK(job.status != 0);
    CHECK_THAT(job.output, Catch::Contains("global batch of 9 examples does not split evenly across 2 ranks"));
}

TEST_CASE("distributed: a data loader failing on one rank stops every rank at that step with its error") {
    const std::string mpirun = mpirun_or_skip();
    if (mpirun.empty()) return;
    TempDir dir;
    const Job job = run_job(mpirun, 2,
                            fmt::format("--out {} --steps 6 --fail-rank 1 --fail-step 3 --timeout 60",
                                        dir / "out.safetensors"));
    CHECK(job.status != 0);
    CHECK_THAT(job.output, Catch::Contains("training step 4: rank 1 of 2 failed: injected data loader failure on "
                                           "rank 1 at step 3"));
    CHECK(job.seconds < 60);  // agreed at once, not by the 60 s watchdog
    CHECK_FALSE(std::filesystem::exists(dir / "out.safetensors"));
}

TEST_CASE("distributed: a rank that dies ends the job") {
    const std::string mpirun = mpirun_or_skip();
    if (mpirun.empty()) return;
    TempDir dir;
    const Job job = run_job(mpirun, 2,
                            fmt::format("--out {} --steps 6 --die-rank 1 --die-step 2 --timeout 120",
                                        dir / "out.safetensors"));
    CHECK(job.status != 0);
    CHECK_THAT(job.output, Catch::Contains("exited") && Catch::Contains("non-zero status"));
    CHECK(job.seconds < 60);  // mpirun ends the job, well before the 120 s watchdog
}

TEST_CASE("distributed: a rank that hangs makes the others end the job after the timeout") {
    const std::string mpirun = mpirun_or_skip();
    if (mpirun.empty()) return;
    TempDir dir;
    const Job job = run_job(mpirun, 2,
                            fmt::format("--out {} --steps 6 --hang-rank 1 --hang-step 2 --timeout 5",
                                        dir / "out.safetensors"));
    CHECK(job.status != 0);
    CHECK_THAT(job.output, Catch::Contains("rank 0 of 2: no answer from the other ranks for 5 s in MPI allreduce"));
    CHECK(job.seconds < 60);  // the hung rank sleeps 10 minutes
}

TEST_CASE("distributed: a checkpoint of 2 ranks resumes on 1 rank and one of 1 rank on 2 like an unbroken run") {
    const std::string mpirun = mpirun_or_skip();
    if (mpirun.empty()) return;
    TempDir dir;
    reference_run(dir / "reference.safetensors", "adam", 10);
    for (const auto &[first, second] : {std::pair{2, 1}, std::pair{1, 2}}) {
        INFO(first << " ranks, then " << second);
        const std::string half = dir / "half.safetensors", whole = dir / "whole.safetensors";
        const Job a = run_job(mpirun, first, fmt::format("--out {} --optimizer adam --steps 4", half));
        REQUIRE(a.status == 0);
        const Job b = run_job(mpirun, second,
                              fmt::format("--out {} --optimizer adam --steps 6 --resume {}", whole, half));
        INFO(b.output);
        REQUIRE(b.status == 0);
        check_same_training(whole, dir / "reference.safetensors", "losses", 4);
    }
}

TEST_CASE("distributed: without MPI asking for the process group is an error that says so") {
    if (distributed::mpi_available()) {
        WARN("SKIPPED: this build has MPI (the message is checked in builds without it)");
        return;
    }
    const std::string message = testing::error_message([] { distributed::ProcessGroup::world(); });
    CHECK_THAT(message, Catch::Contains("Strata was built without MPI"));
}
