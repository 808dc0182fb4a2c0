// LeNet-5 on Fashion-MNIST: the layer shapes and inference speed, then
// training (SGD or Adam), evaluated on the 10,000 test images after every epoch.
//
//   build/bin/fashion_mnist [--epochs 3] [--batch 64] [--lr 0.05] [--optimizer sgd|adam]
//                           [--momentum 0.9] [--lr-schedule cosine|constant] [--seed 0]
//                           [--threads N] [--data DIR]
//                           [--metrics FILE.json] [--plot FILE.svg] [--checkpoint FILE.safetensors]
//                           [--distributed]
//
//   mpirun -np 2 build/bin/fashion_mnist --distributed   data-parallel over 2 processes;
//                                                       rank 0 prints and writes the files

#include <strata/cli_flags.h>
#include <strata/cli_version.h>
#include <strata/main_guard.h>
#include <strata/stopwatch.h>
#include <strata/strata.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

namespace nn = strata::nn;

namespace {

using strata::seconds_since;

nn::Sequential lenet5() {
    return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)), nn::ReLU(), nn::MaxPool2d(2),
                          nn::Conv2d(nn::Conv2dOptions(6, 16, 5)), nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(),
                          nn::Linear(400, 120), nn::ReLU(), nn::Linear(120, 84), nn::ReLU(), nn::Linear(84, 10));
}

/// The inference program (logits and class probabilities) as IR text, for checkpoints.
std::string inference_ir(nn::Sequential &net, int64_t batch) {
    const bool training = net->is_training();
    net->eval();
    strata::Graph g;
    strata::SymTensor logits = net->forward(g.input("images", {batch, 1, 28, 28}));
    g.output("probabilities", strata::softmax(logits, 1));
    net->train(training);
    return g.to_string();
}

/// Prints each layer's output shape and measures forward images/s over the test set.
void show_inference(nn::Sequential &net, const strata::Dataset &test, int64_t batch) {
    net->eval();
    strata::Graph g;
    strata::SymTensor h = g.input("images", {batch, 1, 28, 28});
    const auto layers = net->named_children();
    for (const auto &[name, layer] : layers.items()) {
        h = layer->forward(h);
        fmt::print("  {:<3} {:<10} -> {}\n", name, layer->name(), strata::shape_str(h.shape()));
    }
    g.output("logits", h);
    const auto start = std::chrono::steady_clock::now();
    strata::CompiledGraph forward = g.compile();
    fmt::print("forward pass compiled in {:.2f} s for {}\n", seconds_since(start), forward.executable().target());
    strata::DataLoader loader(test, {batch, false, 0, true});
    std::vector<strata::Tensor> batches;
    for (int64_t i = 0; i < loader.num_batches(); ++i) batches.push_back(loader.batch(i).inputs);
    forward.run(batches[0]);  // warm-up
    const auto t0 = std::chrono::steady_clock::now();
    for (const strata::Tensor &b : batches) forward.run(b);
    const double s = seconds_since(t0);
    fmt::print("inference: {:.0f} images/s (batch {}, {} images)\n", static_cast<double>(batches.size() * batch) / s,
               batch, batches.size() * batch);
    net->train();
}

int run(int argc, char **argv) {
    bool distributed = false;
    int64_t epochs = 3, batch = 64, threads = 0;
    double lr = 0.05, momentum = 0.9;
    uint64_t seed = 0;
    std::string optimizer_name = "sgd", lr_schedule = "cosine", metrics_path, plot_path, checkpoint_path;
    std::string data_dir = strata::default_fashion_mnist_dir();
    CLI::App app{"Train LeNet-5 on Fashion-MNIST with Strata"};
    strata::cli::add_version_flag(app, "fashion_mnist");
    app.add_option("--epochs", epochs, "Training epochs (0: inference only)")
        ->check(strata::cli::whole_number(0, "a number of epochs"));
    app.add_option("--batch", batch, "Examples per batch")->check(strata::cli::whole_number(1, "a batch size"));
    app.add_option("--lr", lr, "Learning rate (Adam: try 0.001)")->check(strata::cli::finite_number(true, "a learning rate"));
    app.add_option("--optimizer", optimizer_name, "sgd or adam")->check(CLI::IsMember({"sgd", "adam"}));
    app.add_option("--momentum", momentum, "SGD momentum")->check(strata::cli::finite_number(false, "a momentum"));
    app.add_option("--lr-schedule", lr_schedule, "cosine (anneal to 0 over the epochs) or constant")
        ->check(CLI::IsMember({"cosine", "constant"}));
    app.add_option("--seed", seed, "Seed of the initial weights and the shuffling");
    app.add_option("--threads", threads, "Worker threads of the compiled code (default: all cores)")
        ->check(strata::cli::thread_count(true));
    app.add_option("--data", data_dir, "Folder with the Fashion-MNIST .gz files");
    app.add_option("--metrics", metrics_path, "Write per-epoch metrics as JSON to this file");
    app.add_option("--plot", plot_path, "Write an SVG plot of loss and test accuracy per epoch");
    app.add_option("--checkpoint", checkpoint_path,
                   "Save weights, optimizer state and the model IR here after every epoch (safetensors; "
                   "`strata emit` compiles it)");
    app.add_flag("--distributed", distributed,
                 "Data-parallel training over the processes of an MPI job (mpirun -np N ...); --batch is the "
                 "global batch, split across them");
    CLI11_PARSE(app, argc, argv);

    // With --distributed every rank runs this program; rank 0 alone prints and writes files.
    strata::distributed::ProcessGroup *group = nullptr;
    bool lead = true;
    try {
        if (distributed) group = &strata::distributed::ProcessGroup::world();
    } catch (const strata::Error &e) {
        fmt::print(stderr, "error: {}\n", e.what());
        return 1;
    }
    if (group) {
        lead = group->is_main();
        // The ranks on this machine share its cores.
        if (threads == 0)
            threads = std::max<int64_t>(1, std::thread::hardware_concurrency() / std::max(1, group->local_size()));
    }
    // Read by Halide's thread pool when it starts (before the first compile).
    if (threads > 0) setenv("HL_NUM_THREADS", std::to_string(threads).c_str(), 1);

    try {
        strata::manual_seed(seed);
        nn::Sequential net = lenet5();
        if (lead) fmt::print("{}\nparameters: {}\n", net->to_string(), net->parameter_count());
        if (group && lead)
            fmt::print("distributed: {} ranks, global batch {} ({} per rank), {} thread(s) each\n", group->size(),
                       batch, batch / group->size(), threads);

        auto train = strata::load_fashion_mnist(strata::Split::train, data_dir);
        auto test = strata::load_fashion_mnist(strata::Split::test, data_dir);
        // Normalised with Fashion-MNIST's pixel mean and standard deviation.
        const strata::Dataset train_set = strata::Dataset{train.images, train.labels}.normalized(0.2860, 0.3530);
        const strata::Dataset test_set = strata::Dataset{test.images, test.labels}.normalized(0.2860, 0.3530);
        if (lead) {
            fmt::print("data: {} training and {} test images from {}\n", train_set.size(), test_set.size(), data_dir);
            show_inference(net, test_set, batch);
        }
        if (epochs == 0) return 0;

        std::unique_ptr<strata::optim::Optimizer> optimizer;
        if (optimizer_name == "adam") optimizer = std::make_unique<strata::optim::Adam>(strata::optim::AdamOptions(lr));
        else optimizer = std::make_unique<strata::optim::SGD>(strata::optim::SGDOptions(lr).momentum(momentum));
        auto loss = [](const strata::SymTensor &logits, const strata::SymTensor &labels) {
            return strata::cross_entropy(logits, labels);
        };
        std::unique_ptr<strata::optim::LRScheduler> scheduler;
        if (lr_schedule == "cosine") scheduler = std::make_unique<strata::optim::CosineAnnealingLR>(*optimizer, epochs);
        std::vector<strata::EpochStats> history;
        double compile_seconds = 0;
        // Trainer or DistributedTrainer: the same calls.
        auto fit = [&](auto &trainer) {
            if (scheduler) trainer.set_scheduler(scheduler.get());
            if (!checkpoint_path.empty() && lead) {
                trainer.on_epoch_end([&](const strata::EpochStats &s) {
                    strata::CheckpointInfo info;
                    info.step = optimizer->step_count();
                    info.ir = inference_ir(net, batch);
                    info.metadata["epoch"] = std::to_string(s.epoch + 1);
                    strata::save_checkpoint(checkpoint_path, *net, optimizer.get(), info);
                });
            }
            history = trainer.fit(train_set, &test_set);
            compile_seconds = trainer.compile_seconds();
        };
        strata::TrainerOptions options;
        options.epochs = epochs;
        options.batch_size = batch;
        options.seed = seed;
        if (group) {
            strata::distributed::DistributedTrainer trainer(*group, *net, *optimizer, loss, options);
            fit(trainer);
            const strata::distributed::DistributedTrainStep &step = *trainer.step();
            if (lead)
                fmt::print("MPI on rank 0: {:.2f} s summing the gradients ({} values, {} bytes per step), {:.2f} s "
                           "waiting for the other ranks\n",
                           step.allreduce_seconds(), step.gradient_elements(), step.gradient_bytes(),
                           step.wait_seconds());
        } else {
            strata::Trainer trainer(*net, *optimizer, loss, options);
            fit(trainer);
        }
        if (!lead) return 0;

        fmt::print("\n epoch | train loss | train acc | test loss | test acc | images/s | seconds\n");
        fmt::print("-------+------------+-----------+-----------+----------+----------+--------\n");
        for (const auto &s : history)
            fmt::print(" {:>5} | {:>10.4f} | {:>8.2f}% | {:>9.4f} | {:>7.2f}% | {:>8.0f} | {:>6.1f}\n", s.epoch + 1,
                       s.train_loss, 100 * s.train_accuracy, s.validation_loss, 100 * s.validation_accuracy,
                       s.examples_per_second, s.seconds);
        fmt::print("final test accuracy: {:.4f}\n", history.back().validation_accuracy);

        if (!metrics_path.empty()) {
            nlohmann::json j;
            j["epochs"] = nlohmann::json::array();
            for (const auto &s : history)
                j["epochs"].push_back({{"epoch", s.epoch + 1}, {"train_loss", s.train_loss},
                                       {"train_accuracy", s.train_accuracy}, {"test_loss", s.validation_loss},
                                       {"test_accuracy", s.validation_accuracy},
                                       {"images_per_second", s.examples_per_second}, {"seconds", s.seconds}});
            j["compile_seconds"] = compile_seconds;
            j["ranks"] = group ? group->size() : 1;
            j["final_test_accuracy"] = history.back().validation_accuracy;
            strata::write_file_atomically(metrics_path, j.dump(2) + "\n");
        }
        if (!plot_path.empty()) {
            std::vector<double> x, train_loss, test_loss, test_acc;
            for (const auto &s : history) {
                x.push_back(static_cast<double>(s.epoch + 1));
                train_loss.push_back(s.train_loss);
                test_loss.push_back(s.validation_loss);
                test_acc.push_back(s.validation_accuracy);
            }
            strata::write_svg_plot(plot_path, "LeNet-5 on Fashion-MNIST", "epoch",
                                   x, {{"train loss", train_loss, "#1f77b4"}, {"test loss", test_loss, "#ff7f0e"},
                                       {"test accuracy", test_acc, "#2ca02c"}});
        }
    } catch (const strata::distributed::JobError &e) {
        // Every rank stopped at the same step with the same error: rank 0 reports it.
        if (lead) fmt::print(stderr, "error: {}\n", e.what());
        return 1;
    } catch (const strata::Error &e) {
        // This rank alone failed: end the whole job rather than leave the others waiting.
        if (group) group->abort(fmt::format("rank {}: {}", group->rank(), e.what()));
        fmt::print(stderr, "error: {}\n", e.what());
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    return strata::guarded_main("fashion_mnist", [&] { return run(argc, argv); });
}
