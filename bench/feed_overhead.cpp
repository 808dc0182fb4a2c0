// strata_feed_bench: what feeding a compiled training step costs, side by side (issue 19):
// batches from memory (the Trainer's in-memory loader, and data::DataLoader over a
// TensorDataset) against batches read from a file-backed dataset and transformed by worker
// threads, on the LeNet-5 and the spot-the-seismogram steps. Modes are interleaved round by
// round so that a noisy machine slows them alike; the table gives each mode's median step time
// and its overhead over the in-memory loader. With --rss, the peak resident memory of an
// epoch over a small and a larger file (it must not grow with the file).
//
//     strata_feed_bench --workers 2 --rounds 7 [--step-threads 1] [--rss 65536]
#include "bench/lenet.h"
#include "bench/process_memory.h"
#include "bench/strata_case.h"
#include "examples/spot_the_seismogram/model.h"
#include "frontend/optim/adam.h"
#include "frontend/optim/sgd.h"
#include "frontend/train/data_loader.h"
#include "frontend/train/train_step.h"
#include "runtime/data/loader.h"
#include "runtime/data/raw_file_dataset.h"
#include "runtime/data/tensor_dataset.h"
#include "runtime/data/transforms/amplitude.h"
#include "runtime/data/transforms/detrend.h"

#include <strata/stopwatch.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>
#include <unistd.h>

using namespace strata;

namespace {

/// A training step to feed: the model, its optimizer, one example's input shape, the batch.
/// Examples are stored as one-channel rows [1, L] (what the waveform transforms take) and
/// the batch is reshaped to the model's input.
struct StepCase {
    std::string name;
    Shape example;
    Shape stored() const { return {1, shape_numel(example)}; }
    int64_t classes = 0, batch = 0;
    std::shared_ptr<nn::Module> model;
    std::shared_ptr<optim::Optimizer> optimizer;
};

StepCase lenet_case() {
    return {"LeNet-5 (Fashion-MNIST 1x28x28, batch 64)", {1, 28, 28}, 10, 64, bench::make_bench_model("lenet"),
            bench::make_bench_optimizer("lenet")};
}

StepCase spot_case() {
    manual_seed(0);
    return {"spot the seismogram (1x500, batch 50)", {1, 500}, 4, 50, spot::make_model().ptr(),
            std::make_shared<optim::Adam>(optim::AdamOptions(2e-3))};
}

/// `n` examples of `shape` (noise around a class-dependent level) with i32 labels.
data::Example synthetic_examples(int64_t n, const Shape &shape, int64_t classes) {
    Generator gen(1234);
    Shape stacked = shape;
    stacked.insert(stacked.begin(), n);
    Tensor x = Tensor::randn(stacked, gen);
    Tensor labels = Tensor::empty({n}, DType::i32);
    const int64_t per = x.numel() / n;
    for (int64_t i = 0; i < n; ++i) {
        const int64_t label = static_cast<int64_t>(gen.below(static_cast<uint64_t>(classes)));
        labels.set_flat(i, static_cast<double>(label));
        float *row = x.data<float>() + i * per;
        for (int64_t j = 0; j < per; ++j) row[j] += 0.3f * static_cast<float>(label);
    }
    return {{"x", x}, {"label", labels}};
}

/// Gives batches forever, wrapping over epochs.
using BatchSource = std::function<std::pair<Tensor, Tensor>()>;

BatchSource endless(std::shared_ptr<data::DataLoader> loader, const Shape &input) {
    auto epoch = std::make_shared<int64_t>(0);
    return [loader, epoch, input] {
        auto batch = loader->next();
        if (!batch) {
            loader->set_epoch(++*epoch);
            batch = loader->next();
        }
        return std::make_pair(batch->at("x").reshape(input), batch->at("label"));
    };
}

std::shared_ptr<data::DataLoader> make_loader(data::DatasetPtr ds, int64_t batch, int64_t workers, bool transforms) {
    data::LoaderOptions o;
    o.batch_size = batch;
    o.num_workers = workers;
    if (transforms)  // what a seismic pipeline applies per example, from runtime/data/transforms/
        o.transforms = {std::make_shared<data::Demean>("x"),
                        std::make_shared<data::AmplitudeScale>(data::AmplitudeScaleOptions{0.5, 2.0, false, "x"}),
                        std::make_shared<data::GaussianNoise>(data::GaussianNoiseOptions{10.0, 10.0, "x"})};
    return std::make_shared<data::DataLoader>(std::move(ds), o);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void run_case(StepCase c, int64_t examples, int64_t workers, int64_t steps, int64_t rounds, int64_t rss_examples,
              const std::filesystem::path &scratch) {
    fmt::print("\n{}: {} examples, {} steps per mode and round, {} rounds\n", c.name, examples, steps, rounds);
    Shape input = c.example;
    input.insert(input.begin(), c.batch);
    const auto compile_start = std::chrono::steady_clock::now();
    auto step = bench::cross_entropy_step(*c.model, *c.optimizer, input, {c.batch});
    fmt::print("step compiled in {:.1f} s\n", seconds_since(compile_start));

    const data::Example stacked = synthetic_examples(examples, c.stored(), c.classes);
    auto memory = std::make_shared<data::TensorDataset>(stacked, "memory");
    const std::string file = (scratch / "feed.raw").string();
    data::write_raw_dataset(file, *memory);
    auto on_disk = std::make_shared<data::RawFileDataset>(file);

    // The Trainer's in-memory loader: the baseline.
    auto old_loader = std::make_shared<strata::DataLoader>(strata::Dataset{stacked.at("x"), stacked.at("label")},
                                                            strata::DataLoaderOptions{c.batch, true, 0, true});
    auto old_position = std::make_shared<std::pair<int64_t, int64_t>>(0, 0);  // epoch, batch
    const BatchSource trainer_memory = [old_loader, old_position, input] {
        if (old_position->second == old_loader->num_batches()) {
            old_loader->set_epoch(++old_position->first);
            old_position->second = 0;
        }
        Batch b = old_loader->batch(old_position->second++);
        return std::make_pair(b.inputs.reshape(input), b.targets);
    };
    const auto fixed = std::make_shared<std::pair<Tensor, Tensor>>(trainer_memory());
    struct Mode {
        std::string name;
        BatchSource next;
        std::vector<double> step_seconds;
    };
    std::vector<Mode> modes = {
        {"memory: frontend DataLoader (baseline)", trainer_memory, {}},
        {"one fixed batch (the step alone)", [fixed] { return *fixed; }, {}},
        {"memory: data::DataLoader, TensorDataset", endless(make_loader(memory, c.batch, 0, false), input), {}},
        {fmt::format("file, no transforms, {} workers", workers), endless(make_loader(on_disk, c.batch, workers, false), input),
         {}},
        {"file + 3 transforms, 0 workers", endless(make_loader(on_disk, c.batch, 0, true), input), {}},
        {fmt::format("file + 3 transforms, {} workers", workers), endless(make_loader(on_disk, c.batch, workers, true), input),
         {}},
    };
    for (Mode &m : modes)  // warm-up: caches, the workers' first batches
        for (int i = 0; i < 3; ++i) {
            auto [x, y] = m.next();
            step->step(x, y);
        }
    for (int64_t round = 0; round < rounds; ++round) {
        for (Mode &m : modes) {
            const auto start = std::chrono::steady_clock::now();
            for (int64_t s = 0; s < steps; ++s) {
                auto [x, y] = m.next();
                step->step(x, y);
            }
            m.step_seconds.push_back(seconds_since(start) / static_cast<double>(steps));
        }
    }
    // What each feed costs alone: batches per second without the step (workers run flat out).
    std::vector<double> feed_alone;
    for (Mode &m : modes) {
        const auto start = std::chrono::steady_clock::now();
        for (int64_t s = 0; s < 4 * steps; ++s) m.next();
        feed_alone.push_back(seconds_since(start) / static_cast<double>(4 * steps));
    }
    const double baseline = median(modes[0].step_seconds);
    fmt::print("{:<44} {:>10} {:>10} {:>10} {:>14}\n", "feed", "median ms", "min ms", "vs memory", "feed alone ms");
    for (size_t i = 0; i < modes.size(); ++i) {
        const Mode &m = modes[i];
        const double med = median(m.step_seconds);
        fmt::print("{:<44} {:>10.3f} {:>10.3f} {:>+9.1f}% {:>14.3f}\n", m.name, 1e3 * med,
                   1e3 * *std::min_element(m.step_seconds.begin(), m.step_seconds.end()), 100.0 * (med / baseline - 1),
                   1e3 * feed_alone[i]);
    }
    if (rss_examples <= 0) return;
    // Peak resident memory of one epoch of training from a file, small then large: the
    // loader holds batches and the queue, never the data set.
    for (int64_t n : {examples, rss_examples}) {
        const std::string big = (scratch / fmt::format("rss{}.raw", n)).string();
        {
            const data::Example one = synthetic_examples(1, c.stored(), c.classes);
            data::RawFileWriter out(big, data::layout_of(data::TensorDataset(one).get(0)), n);
            const data::Example row = data::TensorDataset(one).get(0);
            for (int64_t i = 0; i < n; ++i) out.append(row);
            out.commit();
        }
        auto loader = make_loader(std::make_shared<data::RawFileDataset>(big), c.batch, workers, true);
        const double before = (bench::restart_peak_rss(), bench::process_status_mib("VmHWM"));
        const auto start = std::chrono::steady_clock::now();
        while (auto batch = loader->next()) step->step(batch->at("x").reshape(input), batch->at("label"));
        fmt::print("one epoch from a {:.0f} MiB file ({} examples, {:.1f} s): peak RSS {:.1f} MiB, {:+.1f} MiB over "
                   "the start of the epoch\n",
                   static_cast<double>(std::filesystem::file_size(big)) / (1 << 20), n, seconds_since(start),
                   bench::process_status_mib("VmHWM"), bench::process_status_mib("VmHWM") - before);
        std::filesystem::remove(big);
    }
}

}  // namespace

int main(int argc, char **argv) {
    CLI::App app{"The cost of feeding a compiled training step from memory vs from a file with transforms"};
    std::string model = "all";
    int64_t examples = 4096, workers = 2, steps = 20, rounds = 7, rss_examples = 0;
    app.add_option("--model", model, "lenet, spot or all")->check(CLI::IsMember({"lenet", "spot", "all"}));
    app.add_option("--examples", examples, "examples in the data set")->check(CLI::Range(int64_t{256}, int64_t{1} << 24));
    app.add_option("--workers", workers, "loader worker threads of the file-backed mode")->check(CLI::Range(1, 64));
    app.add_option("--steps", steps, "steps per mode and round")->check(CLI::Range(1, 100000));
    app.add_option("--rounds", rounds, "rounds (modes interleaved)")->check(CLI::Range(1, 1000));
    app.add_option("--rss", rss_examples, "also measure the peak RSS of an epoch over a file of this many examples")
        ->check(CLI::Range(int64_t{0}, int64_t{1} << 26));
    int64_t step_threads = 0;
    app.add_option("--step-threads", step_threads,
                   "threads of the compiled step (HL_NUM_THREADS; 0: all cores), leaving cores to the workers")
        ->check(CLI::Range(0, 1024));
    CLI11_PARSE(app, argc, argv);
    if (step_threads > 0) setenv("HL_NUM_THREADS", std::to_string(step_threads).c_str(), 1);
    try {
        const std::filesystem::path scratch =
            std::filesystem::temp_directory_path() / fmt::format("strata_feed_bench_{}", getpid());
        std::filesystem::create_directories(scratch);
        struct Cleanup {
            std::filesystem::path path;
            ~Cleanup() { std::filesystem::remove_all(path); }
        } cleanup{scratch};
        const char *threads = std::getenv("HL_NUM_THREADS");
        fmt::print("strata_feed_bench: {} hardware threads, the step on {}\n", std::thread::hardware_concurrency(),
                   threads ? threads : "all of them");
        if (model != "spot") run_case(lenet_case(), examples, workers, steps, rounds, rss_examples, scratch);
        if (model != "lenet") run_case(spot_case(), examples, workers, steps, rounds, rss_examples, scratch);
    } catch (const Error &e) {
        fmt::print(stderr, "strata_feed_bench: {}\n", e.what());
        return 1;
    }
    return 0;
}
