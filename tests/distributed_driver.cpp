// The program tests/test_distributed*.cpp start under `mpirun -np N`: trains the
// tiny model of tests/support/distributed_setup.h with DistributedTrainStep (or
// DistributedTrainer with --fit, or its named, streaming form with metrics with
// --named-fit) and has rank 0 save a checkpoint whose metadata holds the global
// losses. Faults can be injected on one rank.
//
//   distributed_driver --out FILE [--steps N] [--optimizer sgd|adam] [--clip X]
//                      [--resume FILE] [--timeout S] [--fit EPOCHS] [--batch B] [--batch-norm 1]
//                      [--named-fit EPOCHS [--checkpoint FILE] [--checkpoint-every N] [--stop-step S]
//                                          [--metric-fail-rank R]]
//                      [--fail-rank R --fail-step S]   data loader throws on rank R at step S
//                      [--die-rank R --die-step S]     rank R exits (status 3) at step S
//                      [--hang-rank R --hang-step S]   rank R stops answering at step S
//
// --named-fit resumes with --resume FILE (a checkpoint the trainer saved), stops every rank
// after global step S with --stop-step (as a crash would, after the last saved checkpoint), and
// with --metric-fail-rank gives rank R a metric whose update fails.
//
// Each rank seeds its initial weights with its own rank, so only the broadcast from
// rank 0 makes them equal. At the end the ranks compare their parameters, buffers and
// optimizer state bit for bit ("ranks_agree" in the metadata).
#include "frontend/distributed/distributed_trainer.h"
#include "frontend/train/checkpoint.h"
#include "runtime/random.h"

#include "tests/support/distributed_setup.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>

using namespace strata;

// Under `make test-sanitize`: Open MPI and the components it dlopens leave
// allocations behind at MPI_Finalize, which LeakSanitizer reports from unknown
// modules (no suppression can name them). Leak checking is off in this MPI
// program only; every other AddressSanitizer and UBSan check stays on.
extern "C" const char *__asan_default_options() { return "detect_leaks=0"; }

namespace setup = strata::testing::distributed_setup;

namespace {

std::map<std::string, std::string> parse_options(int argc, char **argv) {
    std::map<std::string, std::string> options;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i];
        if (key.rfind("--", 0) != 0) fail("distributed_driver: expected an option, got '{}'", key);
        options[key.substr(2)] = argv[i + 1];
    }
    return options;
}

/// Whether every rank holds exactly rank 0's tensors (they must never diverge).
bool ranks_agree(distributed::ProcessGroup &group, const std::vector<Tensor> &tensors) {
    double differing = 0;
    for (const Tensor &mine : tensors) {
        Tensor theirs = mine.clone();
        group.broadcast(theirs, 0);
        differing += std::memcmp(theirs.raw_data(), mine.raw_data(), mine.nbytes()) != 0;
    }
    group.allreduce_sum(&differing, 1);
    return differing == 0;
}

/// A metric that fails on its first batch (on the one rank that has it).
struct FailingMetric : metrics::Metric {
    FailingMetric() : Metric(1) {}
    std::string kind() const override { return "FailingMetric"; }
    void accumulate(const Tensor &, const Tensor &) override { fail("FailingMetric: injected metric failure"); }
    metrics::Values values() const override { return {}; }
};

std::string join(const std::vector<double> &values) {
    std::string out;
    for (double v : values) out += (out.empty() ? "" : ",") + fmt::format("{:.9g}", v);
    return out;
}

int run(int argc, char **argv) {
    auto options = parse_options(argc, argv);
    auto get = [&](const std::string &key, const std::string &fallback) {
        auto it = options.find(key);
        return it == options.end() ? fallback : it->second;
    };
    auto get_int = [&](const std::string &key, int64_t fallback) { return std::stoll(get(key, std::to_string(fallback))); };
    auto &group = distributed::ProcessGroup::world();
    // The test's short timeout starts once the programs are compiled (ranks may compile at different speeds).
    auto set_test_timeout = [&] {
        if (options.count("timeout")) group.set_timeout(std::stod(options["timeout"]));
    };
    const int rank = group.rank();

    manual_seed(100 + static_cast<uint64_t>(rank));
    nn::Sequential net = setup::make_model(get_int("batch-norm", 0) != 0);
    auto optimizer = setup::make_optimizer(get("optimizer", "sgd"));
    if (options.count("resume") && !options.count("named-fit")) load_checkpoint(options["resume"], *net, optimizer.get());
    const Dataset data = testing::synthetic_images();
    CheckpointInfo info;

    if (options.count("named-fit")) {
        TrainerOptions trainer_options = setup::named_options(get_int("named-fit", 1));
        trainer_options.checkpoint_path = get("checkpoint", "");
        trainer_options.checkpoint_every = get_int("checkpoint-every", 0);
        distributed::DistributedTrainer trainer(group, *net, *optimizer, setup::named_forward(net), setup::named_loss,
                                                trainer_options);
        setup::add_named_metrics(trainer);
        if (rank == get_int("metric-fail-rank", -1)) trainer.add_metric(FailingMetric()).on("logits", "label");
        const int64_t stop_step = get_int("stop-step", -1);
        trainer.on_step_end([&](const StepStats &s) {
            if (s.global_step == stop_step) throw distributed::JobError(fmt::format("stopped after step {}", stop_step));
        });
        set_test_timeout();
        FitOptions fit_options;
        fit_options.resume = get("resume", "");
        const auto history = trainer.fit(setup::named_dataset(false), setup::named_stream(), fit_options,
                                          setup::named_dataset(true));
        info.metadata = {{"history", setup::history_text(history)}};
    } else if (options.count("fit")) {
        TrainerOptions trainer_options;
        trainer_options.epochs = get_int("fit", 1);
        trainer_options.batch_size = get_int("batch", setup::kGlobalBatch);
        trainer_options.seed = setup::kShuffleSeed;
        trainer_options.progress = false;
        distributed::DistributedTrainer trainer(group, *net, *optimizer, setup::loss, trainer_options);
        const Dataset validation = data.slice(0, 21);  // 21: not a multiple of the ranks
        set_test_timeout();
        const auto history = trainer.fit(data, &validation);
        std::vector<double> train_loss, train_acc, val_loss, val_acc;
        for (const EpochStats &s : history) {
            train_loss.push_back(s.train_loss);
            train_acc.push_back(s.train_accuracy);
            val_loss.push_back(s.validation_loss);
            val_acc.push_back(s.validation_accuracy);
        }
        info.metadata = {{"train_loss", join(train_loss)}, {"train_accuracy", join(train_acc)},
                         {"validation_loss", join(val_loss)}, {"validation_accuracy", join(val_acc)}};
    } else {
        const int64_t ranks = group.size();
        TrainStepOptions step_options;
        step_options.clip_grad_norm = std::stod(get("clip", "0"));
        distributed::DistributedTrainStep step(group, *net, *optimizer, {setup::kGlobalBatch / ranks, 1, 8, 8},
                                               {setup::kGlobalBatch / ranks}, DType::i32, setup::loss, step_options);
        set_test_timeout();
        DataLoader loader(data, {setup::kGlobalBatch / ranks, true, setup::kShuffleSeed, true});
        const int64_t batches = setup::batches_per_epoch(), first = optimizer->step_count();
        std::vector<double> losses, norms;
        for (int64_t s = first; s < first + get_int("steps", 6); ++s) {
            loader.set_epoch(s / batches);
            if (rank == get_int("die-rank", -1) && s == get_int("die-step", -1)) std::_Exit(3);
            if (rank == get_int("hang-rank", -1) && s == get_int("hang-step", -1))
                std::this_thread::sleep_for(std::chrono::minutes(10));
            const TrainStep::Result r = step.step([&] {
                if (rank == get_int("fail-rank", -1) && s == get_int("fail-step", -1))
                    fail("injected data loader failure on rank {} at step {}", rank, s);
                return loader.batch((s % batches) * ranks + rank);
            });
            losses.push_back(r.loss);
            norms.push_back(r.grad_norm);
        }
        info.metadata = {{"losses", join(losses)}, {"grad_norms", join(norms)}};
    }
    std::vector<Tensor> state = net->parameters();
    for (const Tensor &b : net->buffers()) state.push_back(b);
    for (const auto &[key, t] : optimizer->state()) state.push_back(t);
    info.metadata["ranks_agree"] = ranks_agree(group, state) ? "yes" : "no";
    info.step = optimizer->step_count();
    if (group.is_main()) save_checkpoint(get("out", "distributed.safetensors"), *net, optimizer.get(), info);
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    try {
        return run(argc, argv);
    } catch (const distributed::JobError &e) {
        // Every rank stopped at the same point: rank 0 reports it.
        if (distributed::ProcessGroup::world().is_main()) fmt::print(stderr, "error: {}\n", e.what());
        return 1;
    } catch (const Error &e) {
        if (!distributed::mpi_available()) {
            fmt::print(stderr, "error: {}\n", e.what());
            return 1;
        }
        // This rank alone: end the whole job rather than leave the others waiting.
        distributed::ProcessGroup::world().abort(e.what());
    }
}
