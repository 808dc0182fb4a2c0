// DistributedTrainer has what Trainer has: a named model streamed from a data::DatasetPtr with
// metrics and validation on 2 ranks reports what Trainer reports in one process (the gradients
// averaged across the ranks); a 2-rank run stopped mid-epoch resumes from its checkpoint to the
// bit-identical end of an unbroken run (and on 1 rank to the same end, to float32 rounding); a
// metric failing on one rank stops both. The jobs run
// tests/distributed_driver under mpirun (skipped without MPI or mpirun).
#include "frontend/distributed/process_group.h"
#include "frontend/train/checkpoint.h"
#include "frontend/train/trainer.h"
#include "runtime/random.h"

#include <catch2/catch.hpp>

#include "tests/support/distributed_setup.h"
#include "tests/support/mpi_job.h"
#include "tests/support/temp_dir.h"

#include <cmath>
#include <cstring>
#include <map>
#include <sstream>

using namespace strata;
namespace setup = strata::testing::distributed_setup;
using strata::testing::Job;
using strata::testing::mpirun_or_skip;
using strata::testing::run_job;
using strata::testing::TempDir;

namespace {

/// setup::history_text back into {"epoch:key": value}.
std::map<std::string, double> parse_history(const std::string &text) {
    std::map<std::string, double> out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ';');) {
        const size_t eq = item.rfind('=');
        REQUIRE(eq != std::string::npos);
        out[item.substr(0, eq)] = std::stod(item.substr(eq + 1));
    }
    return out;
}

std::map<std::string, double> job_history(const std::string &checkpoint) {
    return parse_history(read_checkpoint(checkpoint).info.metadata.at("history"));
}

}  // namespace

TEST_CASE("DistributedTrainer on 2 ranks streams a named model with metrics and reports what Trainer reports") {
    const std::string mpirun = mpirun_or_skip();
    if (mpirun.empty()) return;
    TempDir dir;
    const Job job = run_job(mpirun, 2, fmt::format("--out {} --named-fit 2", dir / "named.safetensors"));
    INFO(job.output);
    REQUIRE(job.status == 0);
    const Checkpoint saved = read_checkpoint(dir / "named.safetensors");
    CHECK(saved.info.metadata.at("ranks_agree") == "yes");
    const auto got = job_history(dir / "named.safetensors");

    // One process, the same global batches (seeded as the driver's rank 0).
    manual_seed(100);
    nn::Sequential net = setup::make_model();
    auto sgd = setup::make_optimizer("sgd");
    Trainer trainer(*net, *sgd, setup::named_forward(net), setup::named_loss, setup::named_options(2));
    setup::add_named_metrics(trainer);
    const auto history =
        trainer.fit(setup::named_dataset(false), setup::named_stream(), setup::named_dataset(true));
    const auto want = parse_history(setup::history_text(history));
    REQUIRE(got.size() == want.size());
    for (const char *key : {"loss", "val_loss", "logits.accuracy", "val_logits.accuracy",
                            "val_logits.precision/macro", "logits.f1/macro"})
        for (int epoch : {0, 1}) {
            const std::string k = fmt::format("{}:{}", epoch, key);
            INFO(k);
            REQUIRE(got.count(k));
            // Losses to float32 reduction order (the shards add in another order); the metrics
            // count the same right answers.
            CHECK(got.at(k) == Approx(want.at(k)).epsilon(2e-5));
        }
    // The weights too: the gradients were averaged across the ranks.
    const auto params = net->named_parameters();
    for (const auto &[name, t] : params.items()) {
        const Tensor *other = saved.file.find(name);
        REQUIRE(other != nullptr);
        for (int64_t i = 0; i < t.numel(); ++i) CHECK(other->get_flat(i) == Approx(t.get_flat(i)).margin(1e-5));
    }
}

TEST_CASE("a 2-rank DistributedTrainer run stopped mid-epoch resumes to the end of an unbroken run, bit for bit") {
    const std::string mpirun = mpirun_or_skip();
    if (mpirun.empty()) return;
    TempDir dir;
    const Job whole = run_job(mpirun, 2, fmt::format("--out {} --named-fit 3", dir / "whole.safetensors"));
    INFO(whole.output);
    REQUIRE(whole.status == 0);
    // 3 batches per epoch: step 5 is the second batch of epoch 2; the last checkpoint is step 4's.
    const std::string ck = dir / "run.safetensors";
    const Job stopped = run_job(mpirun, 2,
                                fmt::format("--out {} --named-fit 3 --checkpoint {} --checkpoint-every 1 --stop-step 5",
                                            dir / "unused.safetensors", ck));
    INFO(stopped.output);
    REQUIRE(stopped.status != 0);
    CHECK_THAT(stopped.output, Catch::Contains("stopped after step 5"));
    CHECK(read_checkpoint(ck).info.step == 4);
    const Job resumed =
        run_job(mpirun, 2, fmt::format("--out {} --named-fit 3 --resume {}", dir / "resumed.safetensors", ck));
    INFO(resumed.output);
    REQUIRE(resumed.status == 0);

    const Checkpoint a = read_checkpoint(dir / "whole.safetensors"), b = read_checkpoint(dir / "resumed.safetensors");
    CHECK(a.info.step == b.info.step);
    REQUIRE(a.file.tensors.size() == b.file.tensors.size());
    for (const auto &[name, t] : a.file.tensors) {
        INFO("tensor " << name);
        const Tensor *other = b.file.find(name);
        REQUIRE(other != nullptr);
        REQUIRE(other->nbytes() == t.nbytes());
        CHECK(std::memcmp(other->raw_data(), t.raw_data(), t.nbytes()) == 0);
    }
    // The resumed run's epochs (1 and 2) report exactly what the unbroken run's did, metrics included.
    const auto want = job_history(dir / "whole.safetensors"), got = job_history(dir / "resumed.safetensors");
    for (const auto &[key, value] : got) {
        INFO(key);
        REQUIRE(want.count(key));
        CHECK(value == want.at(key));
    }
    CHECK(got.count("2:val_logits.precision/macro"));

    // On 1 rank the same checkpoint continues the same run (to float32 rounding: one shard sums
    // in another order), rank 0 taking the metric sums of both.
    const Job one = run_job(mpirun, 1, fmt::format("--out {} --named-fit 3 --resume {}", dir / "one.safetensors", ck));
    INFO(one.output);
    REQUIRE(one.status == 0);
    const Checkpoint c = read_checkpoint(dir / "one.safetensors");
    for (const auto &[name, t] : a.file.tensors) {
        INFO("tensor " << name);
        const Tensor *other = c.file.find(name);
        REQUIRE(other != nullptr);
        for (int64_t i = 0; i < t.numel(); ++i) CHECK(other->get_flat(i) == Approx(t.get_flat(i)).margin(1e-5));
    }
    const auto on_one = job_history(dir / "one.safetensors");
    for (const char *key : {"1:loss", "1:logits.accuracy", "2:val_loss", "2:val_logits.f1/macro"}) {
        INFO(key);
        CHECK(on_one.at(key) == Approx(want.at(key)).epsilon(2e-5));
    }
}

TEST_CASE("a metric failing on one rank stops every rank at that step with its error") {
    const std::string mpirun = mpirun_or_skip();
    if (mpirun.empty()) return;
    TempDir dir;
    const Job job =
        run_job(mpirun, 2, fmt::format("--out {} --named-fit 1 --metric-fail-rank 1 --timeout 60", dir / "x.safetensors"));
    CHECK(job.status != 0);
    CHECK_THAT(job.output, Catch::Contains("epoch 1, batch 1 of 3: training step 1: rank 1 of 2 failed: FailingMetric") &&
                               Catch::Contains("injected metric failure"));
    CHECK(job.seconds < 60);  // agreed at once, not by the 60 s watchdog
}
